/**
 * Shared state in tasks, on Redis: 20k tasks (concurrency 50, one worker in this process, enqueued
 * first) that return at once, against the same tasks bumping a `@State()` counter at every run
 * (`await counts.incr('n')`), interleaved, median of 3. Prints both process rates, what the bump
 * costs (its rate over the plain one's), and the Redis commands per task (script calls, and every
 * command the scripts ran), so that the cost of a counter in a task shows apart from the queue's
 * own. No peer has shared state to set beside it.
 *
 * Run: `npm run build && node bench/state.js` (env: REDIS_URL, BENCH_STATE_TASKS=20000, BENCH_ROUNDS=3).
 */
'use strict';

const { runMain } = require('./lib/run-main');
const { now, within } = require('./lib/workload');
const { REDIS_URL, client, deleteKeys, commandStats, commandDelta } = require('./lib/redis-util');
const { median, fmtInt, fmtRatio, header } = require('./lib/report');

const TOTAL = Number(process.env.BENCH_STATE_TASKS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 50;
const BATCH = 1_000;
const PHASE_MS = 60_000;

/** The tasks, decorated by hand (plain JavaScript): `plain` returns, `bump` adds 1 to a counter first. */
function tasks() {
  const { Task, State, StateStore } = require('..');
  let Counts = class Counts extends StateStore {};
  Counts = State({ name: 'bench.counts' })(Counts) || Counts;
  let app;
  let Plain = class Plain {
    run(x) {
      return x;
    }
  };
  Plain = Task({ name: 'plain' })(Plain) || Plain;
  let Bump = class Bump {
    async run(x) {
      await app.state(Counts).incr('n');
      return x;
    }
  };
  Bump = Task({ name: 'bump' })(Bump) || Bump;
  return { Counts, classes: [Plain, Bump], bind: (a) => (app = a) };
}

let seq = 0;

/** One run of `name` on a fresh queue: the process rate and the Redis commands per task. */
async function runOnce(name, r) {
  const { QTasks, Plugin, Hook } = require('..');
  const id = `${process.pid}-${Date.now().toString(36)}-${++seq}`;
  const prefix = `qtb-state-${id}`;
  const t = tasks();
  const app = new QTasks({ name: `bench-${id}`, redis: REDIS_URL, concurrency: CONCURRENCY, discover: false, config: { prefix, logLevel: 'warn' } });
  t.bind(app);
  app.register(...t.classes, t.Counts);
  let done = 0;
  let finish;
  const all = new Promise((resolve) => (finish = resolve));
  class Count {
    success() {
      if (++done === TOTAL) finish(now());
    }
  }
  Hook('task:success')(Count.prototype, 'success', Object.getOwnPropertyDescriptor(Count.prototype, 'success'));
  Plugin({ discover: false })(Count);
  app.plugin(new Count());
  try {
    for (let i = 0; i < TOTAL; i += BATCH) {
      await app.addTasks(Array.from({ length: Math.min(BATCH, TOTAL - i) }, (_, j) => ({ name, args: [i + j] })));
    }
    const before = await commandStats(r);
    const t0 = now();
    await within(app.start(), PHASE_MS, 'worker start');
    const end = await within(all, PHASE_MS, () => `${done} of ${TOTAL} succeeded`);
    const delta = commandDelta(before, await commandStats(r));
    if (name === 'bump') {
      const n = await app.state(t.Counts).get('n');
      if (n !== TOTAL) throw new Error(`the counter reads ${n}, not ${TOTAL}`);
    }
    let scripts = 0;
    let commands = 0;
    for (const [k, v] of Object.entries(delta)) {
      if (k === 'evalsha' || k === 'eval') scripts += v.calls;
      else commands += v.calls;
    }
    return { rate: (TOTAL / (end - t0)) * 1000, scripts: scripts / TOTAL, commands: commands / TOTAL };
  } finally {
    await app.close();
    await deleteKeys(prefix);
  }
}

async function main() {
  const r = client();
  const runs = { plain: [], bump: [] };
  try {
    // a warm-up of each, unmeasured
    await runOnce('plain', r);
    await runOnce('bump', r);
    for (let i = 0; i < ROUNDS; i++) {
      for (const name of ['plain', 'bump']) {
        const res = await runOnce(name, r);
        runs[name].push(res);
        process.stderr.write(`  state round ${i + 1} ${name}: ${fmtInt(res.rate)}/s, ${res.scripts.toFixed(2)} script calls and ${res.commands.toFixed(1)} other commands a task\n`);
      }
    }
  } finally {
    r.disconnect();
  }
  const med = (name, key) => median(runs[name].map((x) => x[key]));
  const lines = [];
  lines.push(header(`state: ${TOTAL.toLocaleString('en-US')} tasks, concurrency ${CONCURRENCY}, each bumping a shared counter or not, median of ${ROUNDS}`));
  lines.push('');
  lines.push('| tasks | process / s | runs | script calls a task | other Redis commands a task |');
  lines.push('|---|---|---|---|---|');
  for (const [name, label] of [['plain', 'return at once'], ['bump', "`await counts.incr('n')` first"]]) {
    lines.push(`| ${label} | ${fmtInt(med(name, 'rate'))} | ${runs[name].map((x) => fmtInt(x.rate)).join(', ')} | ${med(name, 'scripts').toFixed(2)} | ${med(name, 'commands').toFixed(1)} |`);
  }
  lines.push('');
  lines.push(`- with the counter / without: **${fmtRatio(med('bump', 'rate') / med('plain', 'rate'))}**`);
  console.log(lines.join('\n'));
}

runMain(main);
