/**
 * A worker process of bench/cluster.js (protocol: bench/lib/worker-process.js). argv[2] is JSON
 * `{ redis, name, partitions, concurrency }`.
 */
'use strict';

const { QTasks } = require('..');
const { incTask, successCounter } = require('./lib/inc-task');
const { serveWorker } = require('./lib/worker-process');

const opts = JSON.parse(process.argv[2]);

serveWorker(async (onSuccess) => {
  const app = new QTasks({
    name: opts.name,
    redis: opts.redis,
    queues: { [opts.name]: { partitions: opts.partitions } },
    concurrency: opts.concurrency,
    discover: false,
    config: { logLevel: 'warn' },
  });
  app.register(incTask());
  app.plugin(successCounter(onSuccess));
  await app.getTask('none'); // connects now; consumes only on 'go'
  return { run: () => app.start(), close: () => app.close() };
});
