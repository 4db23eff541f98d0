/**
 * A worker process of the "two processes" and "worker in another process" Redis workloads, forked
 * by bench/redis.js (protocol: bench/lib/worker-process.js). argv[2] is JSON
 * `{ kind, url, name, prefix, concurrency, report }`; with `report: false` the worker does not report
 * its successes (the round trips time them in the producer: a message per task to the parent would
 * only add work to both processes).
 */
'use strict';

const { create } = require('./lib/engines');
const { serveWorker } = require('./lib/worker-process');

const opts = JSON.parse(process.argv[2]);

serveWorker(async (onSuccess) => {
  const engine = create(opts.kind, opts);
  const worker = await engine.worker(opts.concurrency, opts.report === false ? undefined : onSuccess);
  return { run: () => worker.run(), close: () => engine.close() };
});
