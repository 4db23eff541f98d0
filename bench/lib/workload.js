/**
 * What the queue benchmarks share whatever the engine: the clock, a time limit on each phase, and
 * the throughput measure on an engine adapter (bench/lib/engines.js, bench/lib/pg-engines.js).
 */
'use strict';

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Rejects with `what()` when `p` takes longer than `ms`. */
function within(p, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${typeof what === 'function' ? what() : what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/**
 * Enqueues `total` jobs in batches of `batch`, then starts one worker of `concurrency` in this
 * process; returns the enqueue rate and the process rate (until the last success), per s. Each
 * phase has `phaseMs` to end.
 */
async function throughputOf(engine, { total, batch, concurrency, phaseMs }) {
  const t0 = now();
  await within(engine.enqueue(total, batch), phaseMs, 'enqueue');
  const enqueueMs = now() - t0;
  let done = 0;
  let finish;
  const all = new Promise((resolve) => (finish = resolve));
  const worker = await within(engine.worker(concurrency, () => ++done === total && finish(now())), phaseMs, 'worker ready');
  const t1 = now();
  await within(Promise.resolve(worker.run()), phaseMs, 'worker start');
  const end = await within(all, phaseMs, () => `${done} of ${total} succeeded`);
  return { enqueue: (total / enqueueMs) * 1000, process: (total / (end - t1)) * 1000 };
}

module.exports = { now, within, throughputOf };
