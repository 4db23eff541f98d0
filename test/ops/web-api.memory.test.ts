/**
 * The web view's HTTP API on the in-memory engine.
 */
import { QTasks } from 'qtasks';
import { describeWebApi } from './web-api.cases';

describeWebApi({
  label: 'memory',
  shared: false,
  make: (queue, options) => new QTasks({ ...options, name: queue }),
  cleanup: async () => undefined,
});
