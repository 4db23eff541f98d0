/**
 * Generator tasks on Redis: how fast yielded items are stored and streamed. One task yielding 1,000
 * items with no pause (a worker in this process), its time from enqueue to result; then 200 tasks of
 * 100 items each run by a worker of concurrency 50, items per second and Redis commands per item
 * (script calls and what they ran). Median of 3 rounds. No peer streams a job's items: a BullMQ user
 * would send each as `job.updateProgress()`, a round trip each.
 *
 * Run: `npm run build && node bench/streams.js` (env: REDIS_URL, BENCH_ROUNDS=3).
 */
'use strict';

const { runMain } = require('./lib/run-main');
const { now, within } = require('./lib/workload');
const { REDIS_URL, client, deleteKeys, commandStats, commandDelta } = require('./lib/redis-util');
const { median, fmtInt, fmtMs, header } = require('./lib/report');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LONG = 1_000;
const TASKS = 200;
const ITEMS = 100;
const PHASE_MS = 60_000;

async function round(r, i) {
  const { QTasks, Task } = require('..');
  let Gen = class Gen {
    async *run(n) {
      for (let k = 0; k < n; k++) yield k;
    }
  };
  Gen = Task({ name: 'gen' })(Gen) || Gen;
  const prefix = `qtb-streams-${process.pid}-${Date.now().toString(36)}-${i}`;
  const app = new QTasks({ name: `bench-streams-${i}`, redis: REDIS_URL, concurrency: 50, discover: false, config: { prefix, logLevel: 'warn' } });
  app.register(Gen);
  try {
    await app.start();
    // warm-up
    await (await app.addTask('gen', [LONG])).result();
    let t0 = now();
    const one = await within((await app.addTask('gen', [LONG])).result(), PHASE_MS, 'the long generator');
    const longMs = now() - t0;
    if (one.length !== LONG) throw new Error(`the long generator gave ${one.length} items`);
    const handles = await app.addTasks(Array.from({ length: TASKS }, () => ({ name: 'gen', args: [ITEMS] })));
    const before = await commandStats(r);
    t0 = now();
    const all = await within(Promise.all(handles.map((h) => h.result())), PHASE_MS, 'the generators');
    const ms = now() - t0;
    const delta = commandDelta(before, await commandStats(r));
    if (all.some((x) => x.length !== ITEMS)) throw new Error('a generator gave the wrong number of items');
    let commands = 0;
    for (const v of Object.values(delta)) commands += v.calls;
    return { longMs, rate: ((TASKS * ITEMS) / ms) * 1000, commands: commands / (TASKS * ITEMS) };
  } finally {
    await app.close();
    await deleteKeys(prefix);
  }
}

async function main() {
  const r = client();
  const runs = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const res = await round(r, i);
      runs.push(res);
      process.stderr.write(`  streams round ${i + 1}: ${fmtMs(res.longMs)} ms for ${LONG} items, ${fmtInt(res.rate)} items/s, ${res.commands.toFixed(2)} Redis commands an item\n`);
    }
  } finally {
    r.disconnect();
  }
  const med = (k) => median(runs.map((x) => x[k]));
  console.log(
    [
      header(`streams: generator tasks on Redis, median of ${ROUNDS}`),
      '',
      '| one task of 1,000 items, enqueue to result | 200 tasks × 100 items, concurrency 50 | Redis commands an item |',
      '|---|---|---|',
      `| ${fmtMs(med('longMs'))} ms | ${fmtInt(med('rate'))} items/s | ${med('commands').toFixed(2)} |`,
    ].join('\n'),
  );
}

runMain(main);
