/**
 * One adapter per Redis queue engine (qtasks, BullMQ, Bee-Queue), so every workload runs the same
 * steps on each: bulk enqueue, a worker started on demand that reports each success, and one
 * enqueue-and-wait round trip. The job is the same everywhere: `x => x + 1`.
 *
 * `create(kind, { url, name, prefix })` returns (qtasks also takes `config`, more of its settings, and
 * `taskOptions`, options of every task it enqueues; BullMQ takes `taskOptions` as its job options)
 * - `enqueue(total, batch)`: enqueues `total` jobs in sequential batches;
 * - `worker(concurrency, onSuccess)`: connects a worker that does not consume yet; returns `{ run }`
 *   (`onSuccess` is called at each success; none is listened for when it is undefined);
 * - `roundTrip(count)`: one worker with concurrency 1 in this process, then `count` times enqueue
 *   one job and wait for its end; returns the latencies in ms (one object produces and works);
 * - `trips(count, pauseMs = 0)`: the same with a producer only (its worker is another object:
 *   `worker(1, …)` in this process, or in another process), waiting `pauseMs` before each trip;
 *   every call uses the same producer;
 * - `close()`: closes everything it opened (keys are deleted by the caller).
 */
'use strict';

const { redisOptions } = require('./redis-util');

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function range(from, to) {
  const out = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

/** qtasks with its Redis engine, from the built package. */
function qtasks({ url, name, prefix, config, taskOptions }) {
  const { QTasks } = require('../..');
  const { incTask, successCounter } = require('./inc-task');
  const apps = [];
  const newApp = (concurrency) => {
    const app = new QTasks({ name, redis: url, concurrency, config: { ...config, prefix, logLevel: 'warn' }, discover: false });
    app.register(incTask());
    apps.push(app);
    return app;
  };
  let main;
  let producerApp;
  const mainApp = (concurrency) => (main ??= newApp(concurrency));
  return {
    async enqueue(total, batch) {
      const app = mainApp(50);
      for (let i = 0; i < total; i += batch) {
        await app.addTasks(range(i, Math.min(total, i + batch)).map((x) => ({ name: 'inc', args: [x], opts: taskOptions })));
      }
    },
    async worker(concurrency, onSuccess) {
      const app = mainApp(concurrency);
      if (onSuccess) app.plugin(successCounter(onSuccess));
      // Connects now (as the peers' workers do), consumes only in run().
      await app.getTask('none');
      return { run: () => app.start() };
    },
    async roundTrip(count) {
      const app = mainApp(1);
      await app.start();
      const out = [];
      for (let i = 0; i < count; i++) {
        const t0 = now();
        const h = await app.addTask('inc', [i]);
        await h.result();
        out.push(now() - t0);
      }
      return out;
    },
    async trips(count, pauseMs = 0) {
      // a producer app of its own, never started: the worker is another app (the same producer for
      // every call, so that trips after warm-up ones are not also heard by a second producer)
      const producer = (producerApp ??= newApp(1));
      const out = [];
      for (let i = 0; i < count; i++) {
        if (pauseMs > 0) await sleep(pauseMs);
        const t0 = now();
        const h = await producer.addTask('inc', [i]);
        await h.result();
        out.push(now() - t0);
      }
      return out;
    },
    async close() {
      await Promise.all(apps.map((a) => a.close()));
    },
  };
}

/** BullMQ: `addBulk`, `Worker` with `completed` events, `waitUntilFinished(queueEvents)`. */
function bullmq({ url, name, prefix, taskOptions }) {
  const { Queue, Worker, QueueEvents } = require('bullmq');
  const connection = redisOptions(url);
  const workerConnection = { ...connection, maxRetriesPerRequest: null };
  const opened = [];
  let queue;
  let producer;
  const getQueue = () => {
    if (!queue) opened.push((queue = new Queue(name, { connection, prefix })));
    return queue;
  };
  const process = async (job) => job.data.x + 1;
  return {
    async enqueue(total, batch) {
      const q = getQueue();
      for (let i = 0; i < total; i += batch) {
        await q.addBulk(range(i, Math.min(total, i + batch)).map((x) => ({ name: 'inc', data: { x }, opts: taskOptions })));
      }
    },
    async worker(concurrency, onSuccess) {
      const w = new Worker(name, process, { connection: workerConnection, prefix, concurrency, autorun: false });
      opened.push(w);
      if (onSuccess) w.on('completed', onSuccess);
      w.on('error', () => undefined);
      await w.waitUntilReady();
      return { run: () => void w.run() };
    },
    async roundTrip(count) {
      const q = getQueue();
      const events = new QueueEvents(name, { connection: workerConnection, prefix });
      opened.push(events);
      const w = new Worker(name, process, { connection: workerConnection, prefix, concurrency: 1 });
      opened.push(w);
      await Promise.all([events.waitUntilReady(), w.waitUntilReady(), q.waitUntilReady()]);
      const out = [];
      for (let i = 0; i < count; i++) {
        const t0 = now();
        const job = await q.add('inc', { x: i });
        await job.waitUntilFinished(events);
        out.push(now() - t0);
      }
      return out;
    },
    async trips(count, pauseMs = 0) {
      if (!producer) {
        producer = { q: new Queue(name, { connection, prefix }), events: new QueueEvents(name, { connection: workerConnection, prefix }) };
        opened.push(producer.q, producer.events);
      }
      const { q, events } = producer;
      await Promise.all([events.waitUntilReady(), q.waitUntilReady()]);
      const out = [];
      for (let i = 0; i < count; i++) {
        if (pauseMs > 0) await sleep(pauseMs);
        const t0 = now();
        const job = await q.add('inc', { x: i });
        await job.waitUntilFinished(events);
        out.push(now() - t0);
      }
      return out;
    },
    async close() {
      for (const o of opened.reverse()) await o.close();
    },
  };
}

/** Bee-Queue: `saveAll`, `process(n)` with `succeeded` events, `job.on('succeeded')`. */
function beeQueue({ url, name, prefix }) {
  const BeeQueue = require('bee-queue');
  const redis = redisOptions(url);
  const opened = [];
  const open = (settings) => {
    const q = new BeeQueue(name, { prefix, redis, ...settings });
    q.on('error', () => undefined);
    opened.push(q);
    return q;
  };
  let queue;
  let producer;
  // One queue object does the producing and, when asked, the processing (as BullMQ's and ours).
  const getQueue = (settings) => (queue ??= open(settings));
  const handler = async (job) => job.data.x + 1;
  return {
    async enqueue(total, batch) {
      const q = getQueue({ getEvents: false });
      await q.ready();
      for (let i = 0; i < total; i += batch) {
        const errors = await q.saveAll(range(i, Math.min(total, i + batch)).map((x) => q.createJob({ x })));
        if (errors.size > 0) throw [...errors.values()][0];
      }
    },
    async worker(concurrency, onSuccess) {
      const q = getQueue({ getEvents: false });
      if (onSuccess) q.on('succeeded', onSuccess);
      await q.ready();
      return { run: () => void q.process(concurrency, handler) };
    },
    async roundTrip(count) {
      const q = getQueue({ getEvents: true });
      await q.ready();
      q.process(1, handler);
      const out = [];
      for (let i = 0; i < count; i++) {
        const t0 = now();
        const job = q.createJob({ x: i });
        const done = new Promise((resolve, reject) => {
          job.on('succeeded', resolve);
          job.on('failed', reject);
        });
        await job.save();
        await done;
        out.push(now() - t0);
      }
      return out;
    },
    async trips(count, pauseMs = 0) {
      const q = (producer ??= open({ getEvents: true, isWorker: false }));
      await q.ready();
      const out = [];
      // Bee-Queue drops a few results across processes: a trip not heard within 0.5 s (over 50
      // times its p99) is counted, not timed
      let dropped = 0;
      for (let i = 0; i < count; i++) {
        if (pauseMs > 0) await sleep(pauseMs);
        const t0 = now();
        const job = q.createJob({ x: i });
        let timer;
        const done = new Promise((resolve, reject) => {
          job.on('succeeded', resolve);
          job.on('failed', reject);
          timer = setTimeout(() => resolve('dropped'), 500);
        });
        await job.save();
        const got = await done;
        clearTimeout(timer);
        if (got === 'dropped') dropped++;
        else out.push(now() - t0);
      }
      out.dropped = dropped;
      return out;
    },
    async close() {
      for (const q of opened) await q.close(5_000);
    },
  };
}

/** Engine kinds in the order they run in each round (peer, ours, peer). */
const KINDS = ['bullmq', 'qtasks', 'bee-queue', 'ceiling'];

const FACTORIES = { qtasks, bullmq, 'bee-queue': beeQueue, ceiling: require('./ceiling').ceiling };

/** The adapter of one engine for one run. */
function create(kind, opts) {
  const f = FACTORIES[kind];
  if (!f) throw new Error(`unknown engine ${kind}`);
  return f(opts);
}

module.exports = { create, KINDS };
