/**
 * Where a bulk enqueue's time goes: enqueues N tasks with `addTasks` in batches of 1,000 (as the
 * throughput workload does), and prints per task the Redis commands (by command), the Lua time of
 * the enqueue script (INFO commandstats usec), the bytes sent to Redis, the JS time spent before the
 * script call, and the enqueue rate; then one `addTask` alone: Redis commands and round trips.
 * Best on a Redis of its own (it resets nothing, it reads deltas; other clients add to them).
 *
 * Run: `npm run build && node bench/enqueue-profile.js` (env: REDIS_URL, TASKS=20000, REPEAT=3).
 */
'use strict';

const { runMain } = require('./lib/run-main');

const IORedis = require('ioredis');
const { create } = require('./lib/engines');
const { REDIS_URL, deleteKeys, commandStats, commandDelta } = require('./lib/redis-util');

const TASKS = Number(process.env.TASKS ?? 20_000);
const REPEAT = Number(process.env.REPEAT ?? 3);
const BATCH = 1_000;

async function netInput(r) {
  return Number(/total_net_input_bytes:(\d+)/.exec(await r.info('stats'))[1]);
}

async function measure(r, label, n, run) {
  const before = await commandStats(r);
  const in0 = await netInput(r);
  const t0 = process.hrtime.bigint();
  await run();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const in1 = await netInput(r);
  const d = commandDelta(before, await commandStats(r));
  const calls = Object.values(d).reduce((a, b) => a + b.calls, 0);
  const usec = Object.values(d).reduce((a, b) => a + b.usec, 0);
  const per = Object.entries(d)
    .map(([k, v]) => `${k} ${(v.calls / n).toFixed(3)} (${(v.usec / n).toFixed(2)} µs)`)
    .join(', ');
  console.log(
    `${label}: ${Math.round((n / ms) * 1000)}/s, ${((ms * 1000) / n).toFixed(2)} µs wall, ${(usec / n).toFixed(2)} µs in Redis, ` +
      `${(calls / n).toFixed(3)} commands, ${Math.round((in1 - in0) / n)} bytes sent per task — ${per}`,
  );
}

async function main() {
  const r = new IORedis(REDIS_URL);
  const names = { url: REDIS_URL, name: `eprof-${process.pid}`, prefix: `qtb-eprof-${process.pid}` };
  const e = create('qtasks', names);
  try {
    await e.enqueue(2_000, BATCH);
    for (let i = 0; i < REPEAT; i++) await measure(r, `addTasks ×${BATCH}`, TASKS, () => e.enqueue(TASKS, BATCH));
    await measure(r, 'addTask alone', 200, () => e.enqueue(200, 1));
  } finally {
    await e.close();
    await deleteKeys(`${names.prefix}:`);
    r.disconnect();
  }
}

runMain(main);
