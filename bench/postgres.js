/**
 * PostgreSQL workloads: qtasks against graphile-worker 0.18 (default, and with its `localQueue`
 * batching) and pg-boss 12 on the same PostgreSQL, in the same run, interleaved, median of the
 * rounds, each run in a fresh database dropped afterwards:
 * - throughput: 20k no-op jobs enqueued first in batches of 1,000 (enqueue rate), then one worker
 *   with concurrency 50 in this process; time until the 20,000th success event;
 * - round trip: enqueue one job and wait for its end, worker concurrency 1 in this process (p50, p99);
 * - round trip across processes: the same with the worker in a forked process (bench/pg-worker.js).
 * Prints one Markdown table plus the ratios and writes it into bench/RESULTS.md.
 *
 * Run: `npm run build && node bench/postgres.js`
 * (env: QTASKS_PG_URL (server, default postgres://postgres@127.0.0.1:5432), BENCH_ROUNDS,
 * BENCH_PG_TASKS, BENCH_PG_TRIPS, BENCH_ONLY=qtasks,graphile-lq, BENCH_WORKLOADS; BENCH_BASELINE=<another
 * built copy of the package> adds it as 'qtasks-base' in the same rounds, BENCH_BASELINE_LABEL names it).
 */
'use strict';

const path = require('node:path');
const { fork } = require('node:child_process');
const { Client } = require('pg');
const { create, KINDS } = require('./lib/pg-engines');
const { now, within, throughputOf } = require('./lib/workload');
const { median, percentile, pkgVersion, fmtInt, fmtMs, fmtRatio, header, writeSection } = require('./lib/report');

const SERVER = (process.env.QTASKS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const TOTAL = Number(process.env.BENCH_PG_TASKS ?? 20_000);
const BATCH = 1_000;
const CONCURRENCY = 50;
const TRIPS = Number(process.env.BENCH_PG_TRIPS ?? 300);
const WARMUP_TRIPS = 30;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PHASE_MS = 120_000;
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : undefined;
const PICKED = process.env.BENCH_WORKLOADS ? process.env.BENCH_WORKLOADS.split(',') : undefined;
const NAMES = { qtasks: 'qtasks', 'qtasks-base': `qtasks (${process.env.BENCH_BASELINE_LABEL ?? 'baseline build'})`, graphile: 'graphile-worker (default)', 'graphile-lq': 'graphile-worker (localQueue 500)', pgboss: 'pg-boss (batch 50, notify)' };
const VERSIONS = { graphile: 'graphile-worker', 'graphile-lq': 'graphile-worker', pgboss: 'pg-boss' };

let seq = 0;

async function admin(fn) {
  const c = new Client({ connectionString: `${SERVER}/postgres`, connectionTimeoutMillis: 3_000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`The PostgreSQL benchmark needs PostgreSQL at ${SERVER} (set QTASKS_PG_URL): ${err.message}`);
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh database for one run; `drop()` removes it. */
async function freshDb() {
  const db = `qtb_pg_${process.pid}_${Date.now().toString(36)}_${++seq}`;
  await admin((c) => c.query(`CREATE DATABASE ${db}`));
  return { url: `${SERVER}/${db}`, name: `bench-${seq}`, drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)) };
}

async function withEngine(kind, fn) {
  const db = await freshDb();
  const engine = create(kind, db);
  try {
    return await fn(engine, db);
  } finally {
    await within(engine.close(), 15_000, 'close').catch((e) => process.stderr.write(`  ! close: ${e.message}\n`));
    await db.drop();
  }
}

function throughput(kind) {
  return withEngine(kind, (engine) => throughputOf(engine, { total: TOTAL, batch: BATCH, concurrency: CONCURRENCY, phaseMs: PHASE_MS }));
}

async function roundTrip(kind) {
  return withEngine(kind, async (engine) => {
    const ms = (await within(engine.roundTrip(WARMUP_TRIPS + TRIPS), PHASE_MS, 'round trips')).slice(WARMUP_TRIPS);
    return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
  });
}

async function crossProcess(kind) {
  return withEngine(kind, async (engine, db) => {
    const producer = await engine.producer();
    const child = fork(path.join(__dirname, 'pg-worker.js'), [JSON.stringify({ kind, url: db.url, name: db.name })]);
    try {
      await within(
        new Promise((resolve, reject) => {
          child.on('message', (m) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'done') producer.ended(m.id);
            else if (m.type === 'error') reject(new Error(m.message));
          });
          child.on('exit', (code) => reject(new Error(`worker process exited with ${code}`)));
        }),
        PHASE_MS,
        'worker process ready',
      );
      const ms = [];
      for (let i = 0; i < WARMUP_TRIPS + TRIPS; i++) {
        const t0 = now();
        await within(producer.trip(i), 10_000, 'one trip');
        if (i >= WARMUP_TRIPS) ms.push(now() - t0);
      }
      return { xp50: percentile(ms, 50), xp99: percentile(ms, 99) };
    } finally {
      await new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => (clearTimeout(t), resolve()));
        if (child.connected) child.send('stop');
        else child.kill('SIGTERM');
      });
    }
  });
}

const WORKLOADS = [
  ['throughput', throughput],
  ['round trip', roundTrip],
  ['cross-process round trip', crossProcess],
].filter(([name]) => !PICKED || PICKED.includes(name));

/** Columns: key, title, formatter, true when higher is better. */
const COLUMNS = [
  ['enqueue', 'enqueue / s', fmtInt, true],
  ['process', 'process / s', fmtInt, true],
  ['p50', 'round trip p50 ms', fmtMs, false],
  ['p99', 'round trip p99 ms', fmtMs, false],
  ['xp50', 'cross-process p50 ms', fmtMs, false],
  ['xp99', 'cross-process p99 ms', fmtMs, false],
];

function render(rows, version) {
  const lines = [header(`postgres: ${TOTAL.toLocaleString('en-US')} no-op jobs, concurrency ${CONCURRENCY}, ${TRIPS} round trips, median of ${ROUNDS}`, [`PostgreSQL ${version}`])];
  lines.push('', `| engine | ${COLUMNS.map((c) => c[1]).join(' | ')} |`, `|---|${COLUMNS.map(() => '---').join('|')}|`);
  for (const r of rows) lines.push(`| ${NAMES[r.kind]} ${r.version} | ${COLUMNS.map(([k, , f]) => f(r.median[k])).join(' | ')} |`);
  lines.push('');
  for (const ours of rows.filter((r) => r.kind.startsWith('qtasks'))) {
    for (const [key, title, , higher] of COLUMNS) {
      let best;
      for (const r of rows) {
        const v = r.median[key];
        if (r.kind.startsWith('qtasks') || typeof v !== 'number' || Number.isNaN(v)) continue;
        if (!best || (higher ? v > best.v : v < best.v)) best = { v, name: NAMES[r.kind] };
      }
      const mine = ours.median[key];
      if (!best || typeof mine !== 'number' || Number.isNaN(mine)) continue;
      const ratio = higher ? mine / best.v : best.v / mine;
      lines.push(`- ${title}: ${NAMES[ours.kind]} / best peer (${best.name}) **${fmtRatio(ratio)}**${higher ? '' : ' (best peer ms / ours: above 1 means faster)'}`);
    }
  }
  for (const r of rows) for (const [w, e] of Object.entries(r.errors)) lines.push(`- ${NAMES[r.kind]} ${w}: failed (${e})`);
  lines.push('- graphile-worker and pg-boss report no result to a producer: their round trips end when their worker reports the job (in process, or over IPC from the worker process), which favours them; qtasks trips end at `result()`.');
  return lines.join('\n');
}

async function main() {
  const version = await admin(async (c) => (await c.query('SHOW server_version')).rows[0].server_version);
  const kinds = KINDS.filter((k) => !ONLY || ONLY.includes(k));
  const runs = Object.fromEntries(kinds.map((k) => [k, { values: {}, errors: {} }]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [workload, fn] of WORKLOADS) {
      for (const kind of kinds) {
        try {
          const res = await fn(kind);
          for (const [k, v] of Object.entries(res)) (runs[kind].values[k] ??= []).push(v);
          process.stderr.write(`  postgres round ${r + 1} ${workload} ${kind}: ${Object.entries(res).map(([k, v]) => `${k} ${v < 100 ? v.toFixed(2) : Math.round(v)}`).join(', ')}\n`);
        } catch (err) {
          runs[kind].errors[workload] = err.message.split('\n')[0];
          process.stderr.write(`  ! ${kind} ${workload}: ${runs[kind].errors[workload]}\n`);
        }
      }
    }
  }
  const rows = kinds.map((kind) => {
    const med = {};
    for (const [k, v] of Object.entries(runs[kind].values)) med[k] = median(v);
    const version = kind === 'qtasks' ? require('../package.json').version : kind === 'qtasks-base' ? require(path.resolve(process.env.BENCH_BASELINE, 'package.json')).version : pkgVersion(VERSIONS[kind]);
    return { kind, version, median: med, errors: runs[kind].errors };
  });
  const text = render(rows, version);
  console.log(text);
  if (!ONLY && !PICKED && TOTAL === 20_000 && TRIPS === 300 && ROUNDS === 3) writeSection('postgres', text);
}

// A peer's pool left idle after its close() sees its connection end when the run's database is
// dropped (57P01); that is not a failure of the run.
process.on('uncaughtException', (err) => {
  if (err && err.code === '57P01') return;
  throw err;
});

main()
  .catch((err) => {
    console.error(err.message);
    process.exitCode = 1;
  })
  // Peers leave sockets or timers behind after close(); the figures are printed.
  .finally(() => setTimeout(() => process.exit(), 200).unref());
