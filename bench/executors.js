/**
 * Executors: what running CPU-bound tasks in a thread or a process buys, and what it costs.
 *
 * 1. CPU beside I/O: one app, 2 clients looping on a CPU-bound task (20 ms of hashing) and 20
 *    clients looping on an I/O task (a 5 ms timer, always inline), for 3 s; the app's event-loop
 *    delay p99 (perf_hooks.monitorEventLoopDelay) and the I/O tasks done per second, with the
 *    CPU task `inline`, `thread` and `process`.
 * 2. The cost of a thread (or process) for a no-op task: tasks/s, concurrency 50, against inline.
 *
 * Interleaved (inline, thread, process) and the median of 3; pools warmed before measuring; one
 * thread and one process (the default on 2 cores). Run after `npm run build`:
 *   node bench/executors.js
 */
'use strict';
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const q = require(path.join(__dirname, '..', 'dist'));
const tasks = require('./lib/executor-tasks');
const { median, fmtInt, fmtRatio, fmtMs, header, writeSection } = require('./lib/report');

const KINDS = ['inline', 'thread', 'process'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 3_000);
const CPU_CLIENTS = 2;
const IO_CLIENTS = 20;
const NOOP_TASKS = { inline: 50_000, thread: 5_000, process: 5_000 };

async function makeApp(kind) {
  const app = new q.QTasks({
    name: `bench-exec-${kind}-${process.pid}`,
    discover: false,
    concurrency: 50,
    config: { logLevel: 'silent', threads: 1, processes: 1 },
  });
  app.register(...Object.values(tasks));
  await app.start();
  // warm: the pool is made and its module loaded
  await Promise.all(Array.from({ length: 50 }, async (_, i) => (await app.addTask(`noop.${kind}`, [i])).result()));
  await (await app.addTask(`cpu.${kind}`, [5])).result();
  return app;
}

/** Part 1: event-loop delay p99 and I/O tasks per second while CPU tasks run. */
async function cpuBesideIo(app, kind) {
  const lag = monitorEventLoopDelay({ resolution: 1 });
  let stop = false;
  let io = 0;
  let cpu = 0;
  const loop = async (name, args, count) => {
    while (!stop) {
      await (await app.addTask(name, args)).result();
      if (!stop) count();
      // a client is another piece of the app: it comes back through the event loop (in memory, a
      // chain of inline CPU tasks settled in microtasks would otherwise never let a timer fire)
      await new Promise((r) => setImmediate(r));
    }
  };
  lag.enable();
  const t0 = performance.now();
  const clients = [
    ...Array.from({ length: CPU_CLIENTS }, () => loop(`cpu.${kind}`, [20], () => cpu++)),
    ...Array.from({ length: IO_CLIENTS }, () => loop('io', [], () => io++)),
  ];
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  stop = true;
  const seconds = (performance.now() - t0) / 1000;
  lag.disable();
  await Promise.all(clients);
  return { lagP99: lag.percentile(99) / 1e6, lagMax: lag.max / 1e6, ioPerS: io / seconds, cpuPerS: cpu / seconds };
}

/** Part 2: no-op tasks per second. */
async function noops(app, kind) {
  const n = NOOP_TASKS[kind];
  const t0 = performance.now();
  const handles = [];
  for (let i = 0; i < n; i++) handles.push(app.addTask(`noop.${kind}`, [i]));
  const results = [];
  for (const h of handles) results.push((await h).result());
  await Promise.all(results);
  return (n / (performance.now() - t0)) * 1000;
}

async function main() {
  const apps = {};
  for (const kind of KINDS) {
    apps[kind] = await makeApp(kind);
    process.stdout.write(`${kind}: ready\n`);
  }
  const runs = Object.fromEntries(KINDS.map((k) => [k, { lagP99: [], lagMax: [], ioPerS: [], cpuPerS: [], noopPerS: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of KINDS) {
      const r = await cpuBesideIo(apps[kind], kind);
      for (const key of Object.keys(r)) runs[kind][key].push(r[key]);
      process.stdout.write(`round ${round + 1} ${kind}: lag p99 ${fmtMs(r.lagP99)} ms, io ${fmtInt(r.ioPerS)}/s, cpu ${fmtInt(r.cpuPerS)}/s\n`);
    }
    for (const kind of KINDS) {
      const rate = await noops(apps[kind], kind);
      runs[kind].noopPerS.push(rate);
      process.stdout.write(`round ${round + 1} ${kind}: no-op ${fmtInt(rate)}/s\n`);
    }
  }
  for (const kind of KINDS) await apps[kind].close();

  const m = Object.fromEntries(KINDS.map((k) => [k, Object.fromEntries(Object.entries(runs[k]).map(([key, v]) => [key, median(v)]))]));
  const lines = [
    header(`executors: CPU-bound tasks beside I/O tasks, and the cost of a thread, median of ${ROUNDS}`, ['1 thread, 1 process']),
    '',
    `${CPU_CLIENTS} clients looping on a CPU task (20 ms of hashing) and ${IO_CLIENTS} on an I/O task (5 ms timer, inline), ${WINDOW_MS / 1000} s each; no-op: concurrency 50.`,
    '',
    '| CPU task executor | event-loop delay p99 ms | max ms | I/O tasks / s | CPU tasks / s | no-op tasks / s |',
    '|---|---|---|---|---|---|',
    ...KINDS.map((k) => `| ${k} | ${fmtMs(m[k].lagP99)} | ${fmtMs(m[k].lagMax)} | ${fmtInt(m[k].ioPerS)} | ${fmtInt(m[k].cpuPerS)} | ${fmtInt(m[k].noopPerS)} |`),
    '',
    `- event-loop delay p99: thread / inline **${fmtRatio(m.thread.lagP99 / m.inline.lagP99)}**, process / inline **${fmtRatio(m.process.lagP99 / m.inline.lagP99)}** (lower is better)`,
    `- I/O tasks / s: thread / inline **${fmtRatio(m.thread.ioPerS / m.inline.ioPerS)}**, process / inline **${fmtRatio(m.process.ioPerS / m.inline.ioPerS)}**`,
    `- no-op tasks / s: thread / inline **${fmtRatio(m.thread.noopPerS / m.inline.noopPerS)}**, process / inline **${fmtRatio(m.process.noopPerS / m.inline.noopPerS)}**`,
    '',
    '<details><summary>every run</summary>',
    '',
    '| executor | delay p99 ms | I/O / s | CPU / s | no-op / s |',
    '|---|---|---|---|---|',
    ...KINDS.map(
      (k) =>
        `| ${k} | ${runs[k].lagP99.map(fmtMs).join(', ')} | ${runs[k].ioPerS.map(fmtInt).join(', ')} | ${runs[k].cpuPerS.map(fmtInt).join(', ')} | ${runs[k].noopPerS.map(fmtInt).join(', ')} |`,
    ),
    '',
    '</details>',
  ];
  const text = lines.join('\n');
  console.log('\n' + text);
  if (ROUNDS === 3 && WINDOW_MS === 3_000) writeSection('executors', text);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
