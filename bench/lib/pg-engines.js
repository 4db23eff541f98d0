/**
 * One adapter per PostgreSQL queue engine (qtasks, graphile-worker default, graphile-worker with
 * its `localQueue` batching, pg-boss), so every workload runs the same steps on each, in a fresh
 * database per run. The job is the same everywhere: `x => x + 1`.
 *
 * `create(kind, { url, name })` returns
 * - `enqueue(total, batch)`: enqueues `total` jobs in sequential batches;
 * - `worker(concurrency, onSuccess)`: connects a worker that does not consume yet; returns `{ run }`;
 * - `roundTrip(count)`: one worker with concurrency 1 in this process, then `count` times enqueue
 *   one job and wait for its end; returns the latencies in ms;
 * - `producer()`: `{ trip(i) }`, enqueues one job and resolves when a worker elsewhere ended it
 *   (`ended(id)` is called by the parent when a peer's worker process reports it over IPC);
 * - `close()`.
 * graphile-worker and pg-boss tell nothing to a producer when a job ends (no result): their
 * cross-process trips end when the worker process reports the job over IPC, which favours them.
 */
'use strict';

const { EventEmitter } = require('node:events');

const now = () => Number(process.hrtime.bigint()) / 1e6;
// BENCH_BASELINE=<path of another built copy of the package> adds that build as 'qtasks-base', run
// in the same rounds as this one (an A/B of two builds beside the peers)
const KINDS = ['graphile', 'graphile-lq', 'pgboss', 'qtasks', ...(process.env.BENCH_BASELINE ? ['qtasks-base'] : [])];

function range(from, to) {
  const out = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

/** Jobs reported ended (by an event or a worker process), and waits for one (it may end first). */
function endings() {
  const waiters = new Map();
  const early = new Set();
  return {
    ended(id) {
      const key = String(id);
      const w = waiters.get(key);
      if (w) {
        waiters.delete(key);
        w();
      } else early.add(key);
    },
    waitFor(id) {
      const key = String(id);
      if (early.delete(key)) return Promise.resolve();
      return new Promise((resolve) => waiters.set(key, resolve));
    },
  };
}

/** qtasks with its PostgreSQL engine, from the built package. */
function qtasks({ url, name }) {
  const { QTasks } = require('../..');
  const { incTask, successCounter } = require('./inc-task');
  const apps = [];
  const newApp = (concurrency) => {
    const app = new QTasks({ name, url, concurrency, config: { logLevel: 'warn' }, discover: false });
    app.register(incTask());
    apps.push(app);
    return app;
  };
  let main;
  const mainApp = (concurrency) => (main ??= newApp(concurrency));
  return {
    async enqueue(total, batch) {
      const app = mainApp(50);
      for (let i = 0; i < total; i += batch) {
        await app.addTasks(range(i, Math.min(total, i + batch)).map((x) => ({ name: 'inc', args: [x] })));
      }
    },
    async worker(concurrency, onSuccess) {
      const app = mainApp(concurrency);
      app.plugin(successCounter(onSuccess));
      await app.getTask('none'); // connects (and makes the tables) now; consumes only in run()
      return { run: () => app.start() };
    },
    async roundTrip(count) {
      const app = mainApp(1);
      await app.start();
      const out = [];
      for (let i = 0; i < count; i++) {
        const t0 = now();
        await (await app.addTask('inc', [i])).result();
        out.push(now() - t0);
      }
      return out;
    },
    async producer() {
      const app = mainApp(1);
      await app.getTask('none');
      return { trip: async (i) => (await app.addTask('inc', [i])).result(), ended: () => undefined };
    },
    async close() {
      await Promise.all(apps.map((a) => a.close()));
    },
  };
}

/** graphile-worker 0.18: `addJobs`, `run` with `job:success` events; `localQueue` batches fetches and completions. */
function graphile({ url }, localQueue) {
  let gw;
  let utils;
  const runners = [];
  const load = async () => (gw ??= await import('graphile-worker'));
  const logger = async () => new (await load()).Logger(() => () => undefined);
  const getUtils = async () => (utils ??= await (await load()).makeWorkerUtils({ connectionString: url, logger: await logger() }));
  const preset = localQueue ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } : undefined;
  const start = async (concurrency, events) =>
    (await load()).run({ connectionString: url, concurrency, noHandleSignals: true, pollInterval: 2_000, logger: await logger(), events, preset, taskList: { inc: async (p) => p.x + 1 } });
  const { ended, waitFor } = endings();
  return {
    async enqueue(total, batch) {
      const u = await getUtils();
      await u.migrate();
      for (let i = 0; i < total; i += batch) {
        await u.addJobs(range(i, Math.min(total, i + batch)).map((x) => ({ identifier: 'inc', payload: { x } })));
      }
    },
    async worker(concurrency, onSuccess) {
      await (await getUtils()).migrate();
      const events = new EventEmitter();
      events.on('job:success', ({ job }) => onSuccess(job.id));
      return { run: async () => void runners.push(await start(concurrency, events)) };
    },
    async roundTrip(count) {
      const u = await getUtils();
      await u.migrate();
      const events = new EventEmitter();
      events.on('job:success', ({ job }) => ended(job.id));
      runners.push(await start(1, events));
      const out = [];
      for (let i = 0; i < count; i++) {
        const t0 = now();
        const job = await u.addJob('inc', { x: i });
        await waitFor(job.id);
        out.push(now() - t0);
      }
      return out;
    },
    async producer() {
      const u = await getUtils();
      await u.migrate();
      return { trip: async (i) => waitFor((await u.addJob('inc', { x: i })).id), ended };
    },
    async close() {
      for (const r of runners) await r.stop();
      if (utils) await utils.release();
    },
  };
}

/** pg-boss 12: `insert`, `work` with batches, LISTEN/NOTIFY enabled on the queue. */
function pgboss({ url, name }) {
  let boss;
  const queue = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  const getBoss = async () => {
    if (boss) return boss;
    const { PgBoss } = await import('pg-boss');
    const b = new PgBoss({ connectionString: url, useListenNotify: true, schedule: false, supervise: false });
    b.on('error', () => undefined);
    await b.start();
    await b.createQueue(queue, { notify: true });
    return (boss = b);
  };
  const { ended, waitFor } = endings();
  return {
    async enqueue(total, batch) {
      const b = await getBoss();
      for (let i = 0; i < total; i += batch) await b.insert(queue, range(i, Math.min(total, i + batch)).map((x) => ({ data: { x } })));
    },
    async worker(concurrency, onSuccess) {
      const b = await getBoss();
      return {
        run: () =>
          b.work(queue, { batchSize: concurrency, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (jobs) => {
            for (const j of jobs) {
              j.data.x + 1;
              onSuccess(j.id);
            }
          }),
      };
    },
    async roundTrip(count) {
      const b = await getBoss();
      await b.work(queue, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        for (const j of jobs) setImmediate(() => ended(j.id));
      });
      const out = [];
      for (let i = 0; i < count; i++) {
        const t0 = now();
        const id = await b.send(queue, { x: i });
        await waitFor(id);
        out.push(now() - t0);
      }
      return out;
    },
    async producer() {
      const b = await getBoss();
      return { trip: async (i) => waitFor(await b.send(queue, { x: i })), ended };
    },
    async close() {
      if (boss) await boss.stop({ graceful: false, wait: true, timeout: 5_000 }).catch(() => undefined);
    },
  };
}

/** The adapter of `kind`. */
function create(kind, names) {
  switch (kind) {
    case 'qtasks':
      return qtasks(names);
    case 'qtasks-base':
      return require(require('node:path').resolve(process.env.BENCH_BASELINE, 'bench/lib/pg-engines')).create('qtasks', names);
    case 'graphile':
      return graphile(names, false);
    case 'graphile-lq':
      return graphile(names, true);
    case 'pgboss':
      return pgboss(names);
    default:
      throw new Error(`unknown engine ${kind}`);
  }
}

module.exports = { create, KINDS };
