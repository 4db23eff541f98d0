/**
 * The TaskManager suite on the in-memory engine.
 */
import { QTasks } from 'qtasks';
import { describeManager } from './manager.cases';

describeManager({
  label: 'memory',
  shared: false,
  make: (queue, options) => new QTasks({ ...options, name: queue }),
  cleanup: async () => undefined,
});
