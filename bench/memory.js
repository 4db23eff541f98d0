/**
 * In-memory workload: 100k no-op tasks `x => x + 1`, concurrency 50, each enqueued then its
 * result awaited (all started, then awaited). qtasks (built package, in-memory engine) against
 * fastq and p-queue doing the same work, interleaved, median of 3; each figure is the second of
 * two runs on one queue. Also reports the heap after `close()` and a forced GC.
 *
 * Run: `npm run build && node --expose-gc bench/memory.js` (env: BENCH_TASKS, BENCH_ROUNDS,
 * BENCH_ONLY).
 */
'use strict';

const os = require('node:os');
const { PerformanceObserver, performance } = require('node:perf_hooks');
const { incTask } = require('./lib/inc-task');
const { median, fmtInt, fmtRatio, header, writeSection, pkgVersion } = require('./lib/report');

const N = Number(process.env.BENCH_TASKS ?? 100_000);
const CONCURRENCY = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** BENCH_ONLY=qtasks (comma list) runs only those engines, e.g. under `node --cpu-prof`. */
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : undefined;

const gc = typeof global.gc === 'function' ? () => global.gc() : () => undefined;
const heapMb = () => process.memoryUsage().heapUsed / 2 ** 20;

/** Milliseconds spent in GC between `start()` and `stop()` (entries arrive asynchronously). */
function gcMeter() {
  let entries = [];
  let from = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.startTime >= from) entries.push(e);
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    start() { entries = []; from = performance.now(); },
    async stop() {
      const to = performance.now();
      await new Promise((r) => setTimeout(r, 10));
      let total = 0;
      for (const e of entries) if (e.startTime >= from && e.startTime < to) total += e.duration;
      entries = [];
      from = Infinity;
      return total;
    },
    close() { obs.disconnect(); },
  };
}

/** Runs `once()` twice and times the second run; returns tasks/s and GC share. */
async function twice(once, meter) {
  await once();
  gc();
  meter.start();
  const t0 = process.hrtime.bigint();
  await once();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const gcMs = await meter.stop();
  return { rate: (N / ms) * 1000, gcShare: gcMs / ms };
}

async function allOf(add) {
  const pending = new Array(N);
  for (let i = 0; i < N; i++) pending[i] = add(i);
  const out = await Promise.all(pending);
  if (out[N - 1] !== N) throw new Error(`wrong result: ${out[N - 1]}`);
}

async function benchFastq(meter) {
  const fastq = require('fastq');
  const q = fastq.promise(async (x) => x + 1, CONCURRENCY);
  return twice(() => allOf((i) => q.push(i)), meter);
}

async function benchPQueue(meter) {
  const { default: PQueue } = await import('p-queue');
  const q = new PQueue({ concurrency: CONCURRENCY });
  return twice(() => allOf((i) => q.add(() => i + 1)), meter);
}

let seq = 0;
/** qtasks on its in-memory engine; returns the rate and the heap after close() + GC. */
async function benchOurs(meter) {
  const { QTasks } = require('..');
  const app = new QTasks({
    name: `bench-mem-${process.pid}-${++seq}`,
    concurrency: CONCURRENCY,
    discover: false,
    config: { logLevel: 'warn' },
  });
  app.register(incTask());
  await app.start();
  const res = await twice(() => allOf((i) => app.addTask('inc', [i]).then((h) => h.result())), meter);
  gc();
  res.heapOpenMb = heapMb();
  await app.close();
  gc();
  gc();
  res.heapClosedMb = heapMb();
  return res;
}

async function main() {
  if (typeof global.gc !== 'function') console.warn('(run node with --expose-gc for heap figures)');
  const meter = gcMeter();
  gc();
  const heapStart = heapMb();
  const loadStart = os.loadavg()[0];
  const engines = [
    ['fastq', benchFastq],
    ['p-queue', benchPQueue],
    ['qtasks', benchOurs],
  ].filter(([n]) => !ONLY || ONLY.includes(n));
  const runs = Object.fromEntries(engines.map(([n]) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of engines) {
      const res = await fn(meter);
      runs[name].push(res);
      gc();
      process.stderr.write(`  memory round ${r + 1} ${name}: ${fmtInt(res.rate)}/s, gc ${(res.gcShare * 100).toFixed(0)}%\n`);
    }
  }
  meter.close();
  gc();
  const heapEnd = heapMb();
  const med = (name, key) => median((runs[name] ?? []).map((x) => x[key]));
  const versions = {
    fastq: pkgVersion('fastq'),
    'p-queue': pkgVersion('p-queue'),
    qtasks: require('../package.json').version,
  };

  const lines = [];
  lines.push(header(`memory: ${N.toLocaleString('en-US')} no-op tasks, concurrency ${CONCURRENCY}, median of ${ROUNDS}`));
  lines.push('');
  lines.push('| engine | tasks / s | runs | GC share |');
  lines.push('|---|---|---|---|');
  for (const [name] of engines) {
    const all = runs[name].map((x) => fmtInt(x.rate)).join(', ');
    lines.push(`| ${name} ${versions[name]} | ${fmtInt(med(name, 'rate'))} | ${all} | ${(med(name, 'gcShare') * 100).toFixed(0)}% |`);
  }
  lines.push('');
  lines.push(`- ours / p-queue: **${fmtRatio(med('qtasks', 'rate') / med('p-queue', 'rate'))}**`);
  lines.push(`- ours / fastq: **${fmtRatio(med('qtasks', 'rate') / med('fastq', 'rate'))}**`);
  const ours = runs.qtasks ?? [];
  const open = ours.map((x) => x.heapOpenMb.toFixed(1)).join(', ');
  const closed = ours.map((x) => x.heapClosedMb.toFixed(1)).join(', ');
  lines.push(`- load average (1 min, ${os.cpus().length} cores): ${loadStart.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end (a loaded machine slows the peers more than qtasks: compare ratios of runs at similar load)`);
  lines.push(`- heap used (MB): start ${heapStart.toFixed(1)}; qtasks before close ${open}; after close() + GC ${closed}; end ${heapEnd.toFixed(1)}`);
  const text = lines.join('\n');
  console.log(text);
  if (!ONLY && N === 100_000 && ROUNDS === 3) writeSection('memory', text);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
