/**
 * Redis workloads: qtasks against BullMQ and Bee-Queue on the same Redis, in the same run,
 * interleaved (peer, ours, peer), median of 3, a fresh queue and key prefix per run whose keys are
 * deleted afterwards:
 * - throughput: 20k no-op jobs enqueued first in batches of 1,000 (enqueue rate), then one worker
 *   with concurrency 50 in this process; time until the 20,000th success event;
 * - two processes: the same with the producer here and two forked worker processes;
 * - round trips, three ways, each 100 warm-up trips then 1,000 measured: enqueue one job and wait
 *   for its end with a worker of concurrency 1 — (a) one app that enqueues and works, (b) a producer
 *   app and a worker app in this process, (c) the worker in another process (p50, p99), a fresh
 *   process in each round, and (d) that worker process again after BENCH_LONG_WARMUP_TRIPS (3,000)
 *   more unmeasured trips, as a long-running worker (V8 has optimised the trip's code by then);
 *   and (e) that long-running worker again with a pause of BENCH_SPORADIC_PAUSE_MS (2 ms) before
 *   each trip, as sporadic tasks reach it (every trip starts from idle processes); for (c), (d) and
 *   (e) also the CPU the producer process, the worker process and Redis used per measured trip
 *   (for (e) with the pauses' timers);
 * - the ceiling: the bare Lua design (bench/lib/ceiling.js) in the throughput workload (batched)
 *   and the round trips (two scripts and a blocking pop per trip: the floor of a trip on this Redis).
 * Prints one Markdown table plus the ratios and writes it into bench/RESULTS.md.
 *
 * Run: `npm run build && node --expose-gc bench/redis.js`
 * (env: REDIS_URL, BENCH_ROUNDS, BENCH_REDIS_TASKS, BENCH_ROUND_TRIPS, BENCH_WARMUP_TRIPS,
 * BENCH_LONG_WARMUP_TRIPS, BENCH_SPORADIC_PAUSE_MS, BENCH_ONLY=qtasks,bullmq).
 */
'use strict';

const path = require('node:path');
const { fork } = require('node:child_process');
const { create, KINDS } = require('./lib/engines');
const { REDIS_URL, client, redisVersion, pingMs, deleteKeys, deleteStale, redisCpu, commandStats, commandDelta } = require('./lib/redis-util');
const { median, pkgVersion } = require('./lib/report');
const { renderRedis } = require('./lib/redis-table');
const { cpuMsOf, mainThreadCpuMsOf } = require('./lib/proc-cpu');
const { TOTAL, BATCH, CONCURRENCY, ROUND_TRIPS, WARMUP_TRIPS, LONG_WARMUP_TRIPS, SPORADIC_PAUSE_MS, ROUNDS, PHASE_MS, now, fresh, within, throughputOf, tripFigures: figures } = require('./lib/redis-workload');

const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : undefined;

/** Closes the engine (bounded) and deletes the run's keys. */
async function cleanUp(engine, names) {
  if (engine) await within(engine.close(), 15_000, 'close').catch((e) => warn(`close failed: ${e.message}`));
  await deleteKeys(`${names.prefix}:`);
}

function warn(msg) {
  process.stderr.write(`  ! ${msg}\n`);
}

/** Enqueues `total` jobs, then starts one worker here; returns the enqueue and process rates. */
async function throughput(kind, total = TOTAL) {
  const names = fresh(kind);
  let engine;
  try {
    engine = create(kind, names);
    const t = await throughputOf(engine, total);
    return { enqueue: t.enqueue, process1: t.process };
  } finally {
    await cleanUp(engine, names);
  }
}

/** Enqueues TOTAL jobs here, then two forked worker processes consume them; returns the rate. */
async function twoProcesses(kind) {
  const names = fresh(kind);
  let producer;
  const children = [];
  try {
    producer = create(kind, names);
    await within(producer.enqueue(TOTAL, BATCH), PHASE_MS, 'enqueue');
    let done = 0;
    let finish;
    let failed;
    const all = new Promise((resolve, reject) => {
      finish = resolve;
      failed = reject;
    });
    const ready = [];
    for (let i = 0; i < 2; i++) {
      const child = fork(path.join(__dirname, 'redis-worker.js'), [JSON.stringify({ kind, ...names, concurrency: CONCURRENCY })]);
      children.push(child);
      ready.push(
        new Promise((resolve, reject) => {
          child.on('message', (msg) => {
            if (msg.type === 'ready') resolve();
            else if (msg.type === 'done' && (done += msg.n) >= TOTAL) finish(now());
            else if (msg.type === 'error') {
              reject(new Error(msg.message));
              failed(new Error(msg.message));
            }
          });
          child.on('exit', (code) => {
            const err = new Error(`worker process exited with ${code}`);
            reject(err);
            failed(err);
          });
          child.on('error', (err) => {
            reject(err);
            failed(err);
          });
        }),
      );
    }
    all.catch(() => undefined);
    await within(Promise.all(ready), PHASE_MS, 'worker processes ready');
    const t1 = now();
    for (const c of children) c.send('go', (err) => err && failed(err));
    const end = await within(all, PHASE_MS, () => `${done} of ${TOTAL} succeeded`);
    return { process2: (TOTAL / (end - t1)) * 1000 };
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await cleanUp(producer, names);
  }
}

/** Asks a worker process to close, then kills it if it has not exited within 15 s. */
function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      warn(`worker process ${child.pid} did not exit; killing it`);
      child.kill('SIGKILL');
    }, 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send('stop', (err) => err && child.kill('SIGTERM'));
    else child.kill('SIGTERM');
  });
}

/**
 * The commands whose time in INFO commandstats includes the commands run inside them: a trip's
 * scripts and transactions (the commands a script runs are counted under their own names too).
 */
const SCRIPTED = ['evalsha', 'eval', 'exec', 'fcall'];

/** p50 and p99 (ms) of the measured trips, after the warm-up ones; `dropped` when any were. */
function tripFigures(all, suffix, warmup) {
  const out = figures(all, suffix, warmup);
  if (all.dropped) out[`dropped${suffix}`] = all.dropped;
  return out;
}

/**
 * `warmup` unmeasured trips, then ROUND_TRIPS measured ones from `producer` (this process) to the
 * worker in process `child`, each after a pause of `pauseMs`, all within `ms`: their p50 and p99
 * (with `suffix`), and the CPU used
 * per measured trip, in µs, by this process, the worker process and Redis (`cpuP`, `cpuW` and
 * `cpuR` + suffix: nothing else runs here meanwhile; Redis's figure, from INFO cpu, counts every
 * client of the server), and the time per trip Redis spent running scripts and transactions
 * (`scr` + suffix, from INFO commandstats: on a trip's path, Redis answers nothing else meanwhile).
 */
async function tripsWithCpu(producer, child, warmup, suffix, ms, what, pauseMs = 0) {
  const until = Date.now() + ms;
  const first = await within(producer.trips(warmup), ms, what);
  const r = client(REDIS_URL);
  try {
    const redis0 = await redisCpu(r);
    const stats0 = await commandStats(r);
    const cpu0 = process.cpuUsage();
    const child0 = cpuMsOf(child.pid);
    const childMain0 = mainThreadCpuMsOf(child.pid);
    const measured = await within(producer.trips(ROUND_TRIPS, pauseMs), Math.max(0, until - Date.now()), what);
    const cpu = process.cpuUsage(cpu0);
    const childMs = cpuMsOf(child.pid) - child0;
    const childMainMs = mainThreadCpuMsOf(child.pid) - childMain0;
    const redisS = (await redisCpu(r)) - redis0;
    const stats = commandDelta(stats0, await commandStats(r));
    const all = first.concat(measured);
    all.dropped = (first.dropped ?? 0) + (measured.dropped ?? 0);
    return {
      ...tripFigures(all, suffix, warmup),
      [`cpuP${suffix}`]: (cpu.user + cpu.system) / ROUND_TRIPS,
      [`cpuW${suffix}`]: (childMs * 1000) / ROUND_TRIPS,
      [`cpuWm${suffix}`]: (childMainMs * 1000) / ROUND_TRIPS,
      [`cpuR${suffix}`]: (redisS * 1e6) / ROUND_TRIPS,
      [`scr${suffix}`]: SCRIPTED.reduce((t, c) => t + (stats[c]?.usec ?? 0), 0) / ROUND_TRIPS,
    };
  } finally {
    r.disconnect();
  }
}

/** (a) Round trips where one app (queue object) enqueues and works, concurrency 1. */
async function roundTrip(kind) {
  const names = fresh(kind);
  let engine;
  try {
    engine = create(kind, names);
    return tripFigures(await within(engine.roundTrip(WARMUP_TRIPS + ROUND_TRIPS), PHASE_MS * 2, 'round trips'), 'a');
  } finally {
    await cleanUp(engine, names);
  }
}

/** (b) Round trips from a producer to a worker of concurrency 1 that is another app, in this process. */
async function roundTripTwoApps(kind) {
  const names = fresh(kind);
  let worker;
  let producer;
  try {
    worker = create(kind, names);
    const w = await within(worker.worker(1, undefined), PHASE_MS, 'worker ready');
    await Promise.resolve(w.run());
    producer = create(kind, names);
    return tripFigures(await within(producer.trips(WARMUP_TRIPS + ROUND_TRIPS), PHASE_MS * 2, 'round trips'), 'b');
  } finally {
    if (producer) await within(producer.close(), 15_000, 'close').catch((e) => warn(`close failed: ${e.message}`));
    await cleanUp(worker, names);
  }
}

/** (c) Round trips from a producer here to a worker of concurrency 1 in another process (how users deploy). */
async function roundTripProcess(kind) {
  const names = fresh(kind);
  let producer;
  let child;
  try {
    child = fork(path.join(__dirname, 'redis-worker.js'), [JSON.stringify({ kind, ...names, concurrency: 1, report: false })]);
    await within(
      new Promise((resolve, reject) => {
        child.on('message', (msg) => (msg.type === 'ready' ? resolve() : msg.type === 'error' ? reject(new Error(msg.message)) : undefined));
        child.on('exit', (code) => reject(new Error(`worker process exited with ${code}`)));
      }),
      PHASE_MS,
      'worker process ready',
    );
    child.send('go');
    producer = create(kind, names);
    const young = await tripsWithCpu(producer, child, WARMUP_TRIPS, 'c', PHASE_MS * 2, 'round trips');
    if (LONG_WARMUP_TRIPS === 0) return young;
    // (d) the same worker process once it has run thousands of trips, as a long-running one has
    const warm = await tripsWithCpu(producer, child, LONG_WARMUP_TRIPS, 'd', PHASE_MS * 4, 'round trips of a long-running worker');
    if (SPORADIC_PAUSE_MS === 0) return { ...young, ...warm };
    // (e) that worker again, each task reaching it after a pause (every trip starts from idle)
    const sporadic = await tripsWithCpu(producer, child, 0, 'e', PHASE_MS * 2, 'sporadic round trips', SPORADIC_PAUSE_MS);
    return { ...young, ...warm, ...sporadic };
  } finally {
    if (child) await stopChild(child);
    await cleanUp(producer, names);
  }
}

/** `BENCH_WORKLOADS=throughput,round trip` runs only those (a quick look; RESULTS.md is left alone). */
const PICKED = process.env.BENCH_WORKLOADS ? process.env.BENCH_WORKLOADS.split(',') : undefined;
const WORKLOADS = [
  ['throughput', throughput],
  ['two processes', twoProcesses],
  ['round trip', roundTrip],
  ['round trip two apps', roundTripTwoApps],
  ['round trip two processes', roundTripProcess],
].filter(([name]) => !PICKED || PICKED.includes(name));

async function main() {
  const redis = await redisVersion(REDIS_URL);
  const ping = await pingMs(REDIS_URL);
  const stale = await deleteStale(REDIS_URL);
  if (stale > 0) warn(`deleted the keys of ${stale} earlier run(s) that did not clean up`);
  const kinds = KINDS.filter((k) => !ONLY || ONLY.includes(k));
  const runs = Object.fromEntries(kinds.map((k) => [k, { values: {}, errors: {}, failures: {}, skip: {} }]));
  // Unmeasured warm-up of each engine (first calls compile code paths and load scripts).
  for (const kind of kinds) {
    if (kind === 'ceiling') continue;
    await throughput(kind, 2_000).catch((err) => warn(`${kind} warm-up: ${err.message.split('\n')[0]}`));
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [workload, fn] of WORKLOADS) {
      for (const kind of kinds) {
        const slot = runs[kind];
        if (slot.skip[workload]) continue;
        if (kind === 'ceiling' && workload === 'two processes') continue;
        try {
          const res = await fn(kind);
          for (const [k, v] of Object.entries(res)) (slot.values[k] ??= []).push(v);
          const shown = Object.entries(res).map(([k, v]) => `${k} ${v < 100 ? v.toFixed(2) : Math.round(v)}`);
          process.stderr.write(`  redis round ${r + 1} ${workload} ${kind}: ${shown.join(', ')}\n`);
        } catch (err) {
          // A failure may be passing (the package rebuilt under us); a hang is not worth repeating.
          slot.errors[workload] = err.message.split('\n')[0];
          slot.failures[workload] = (slot.failures[workload] ?? 0) + 1;
          if (/timed out/.test(err.message)) slot.skip[workload] = true;
          warn(`${kind} ${workload}: ${slot.errors[workload]}`);
        }
      }
    }
  }
  const rows = kinds.map((kind) => {
    const med = {};
    for (const [k, v] of Object.entries(runs[kind].values)) med[k] = median(v);
    return { kind, version: kind === 'qtasks' ? require('../package.json').version : kind === 'ceiling' ? '' : pkgVersion(kind), median: med, runs: runs[kind].values, errors: runs[kind].errors, failures: runs[kind].failures };
  });
  const text = renderRedis(rows, { redis, ping, url: REDIS_URL, total: TOTAL, batch: BATCH, concurrency: CONCURRENCY, trips: ROUND_TRIPS, rounds: ROUNDS });
  console.log(text);
  if (!ONLY && !PICKED && TOTAL === 20_000 && ROUND_TRIPS === 1_000 && ROUNDS === 3 && LONG_WARMUP_TRIPS === 3_000 && SPORADIC_PAUSE_MS === 2) require('./lib/report').writeSection('redis', text);
}

main()
  .catch((err) => {
    console.error(err.message);
    process.exitCode = 1;
  })
  // Peers leave sockets or timers behind after close(); the figures are printed.
  .finally(() => setTimeout(() => process.exit(), 200).unref());
