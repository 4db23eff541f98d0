/**
 * What the Redis queue benchmarks (bench/redis.js, bench/rabbitmq.js) share: the workload sizes
 * (env: BENCH_REDIS_TASKS, BENCH_ROUND_TRIPS, BENCH_ROUNDS), a fresh queue name and key prefix per
 * run, a time limit on each phase (bench/lib/workload.js), and the throughput (bench/lib/workload.js
 * at these sizes) and round-trip measures on an engine adapter of bench/lib/engines.js.
 */
'use strict';

const { REDIS_URL } = require('./redis-util');
const { percentile } = require('./report');
const { now, within, throughputOf: measureThroughput } = require('./workload');

const TOTAL = Number(process.env.BENCH_REDIS_TASKS ?? 20_000);
const BATCH = 1_000;
const CONCURRENCY = 50;
const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 1_000);
const WARMUP_TRIPS = Number(process.env.BENCH_WARMUP_TRIPS ?? 100);
/**
 * Unmeasured trips a worker process runs after its first measured ones before it is measured again
 * as a long-running process (V8 has optimised the trip's code by then); 0 skips that measure.
 */
const LONG_WARMUP_TRIPS = Number(process.env.BENCH_LONG_WARMUP_TRIPS ?? 3_000);
/**
 * The pause (ms) before each trip of the long-running worker measured once more as sporadic tasks
 * reach it (a web app's jobs, not a stream): each trip starts from idle processes; 0 skips that
 * measure.
 */
const SPORADIC_PAUSE_MS = Number(process.env.BENCH_SPORADIC_PAUSE_MS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PHASE_MS = 60_000;

let seq = 0;

/** A queue name and key prefix used by one run only. */
function fresh(kind) {
  const id = `${process.pid}-${Date.now().toString(36)}-${++seq}`;
  return { url: REDIS_URL, name: `bench-${id}`, prefix: `qtb-${kind}-${id}` };
}

/**
 * Enqueues `total` jobs in batches of {@link BATCH}, then starts one worker of {@link CONCURRENCY}
 * in this process; returns the enqueue rate and the process rate (until the last success), per s.
 */
function throughputOf(engine, total = TOTAL) {
  return measureThroughput(engine, { total, batch: BATCH, concurrency: CONCURRENCY, phaseMs: PHASE_MS });
}

/** p50 and p99 (ms) of round trips after the warm-up ones, each key with `suffix`. */
function tripFigures(all, suffix = '', warmup = WARMUP_TRIPS) {
  const ms = all.slice(warmup);
  return { [`p50${suffix}`]: percentile(ms, 50), [`p99${suffix}`]: percentile(ms, 99) };
}

module.exports = { TOTAL, BATCH, CONCURRENCY, ROUND_TRIPS, WARMUP_TRIPS, LONG_WARMUP_TRIPS, SPORADIC_PAUSE_MS, ROUNDS, PHASE_MS, now, fresh, within, throughputOf, tripFigures };
