/**
 * Where the PostgreSQL engine's work goes, counted rather than timed: runs the throughput workload
 * (N tasks enqueued in batches of 1,000, then one worker of concurrency 50) and round trips (one
 * app of concurrency 1; a producer app and a worker app, each with its own engine, as a worker in
 * another process is told of tasks) of qtasks in a fresh database each, and prints per task:
 * client statements (round trips to the server), rows answered to the client, transactions
 * committed (autovacuum's included), function calls of the engine's schema, row inserts, updates
 * (and how many of them were HOT: no index entry written) and deletes of the engine's tables, the
 * server's WAL bytes, and CPU time of this process and of the engine's backends (read from /proc:
 * the server must run on this machine).
 *
 * Run: `npm run build && node bench/pg-profile.js` (env: QTASKS_PG_URL, TASKS=20000, TRIPS=500;
 * PROFILE_PKG=<another built copy of the package> profiles that build instead).
 */
'use strict';

const path = require('node:path');
const { Client } = require('pg');
const { runMain } = require('./lib/run-main');
const { cpuMsOf } = require('./lib/proc-cpu');

const SERVER = (process.env.QTASKS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const TASKS = Number(process.env.TASKS ?? 20_000);
const TRIPS = Number(process.env.TRIPS ?? 500);
const PKG = path.resolve(process.env.PROFILE_PKG ?? path.join(__dirname, '..'));
const { create } = require(path.join(PKG, 'bench/lib/pg-engines'));

let statements = 0;
let rowsIn = 0;
const Result = require('pg/lib/result');
const addRow = Result.prototype.addRow;
Result.prototype.addRow = function (row) {
  rowsIn++;
  return addRow.call(this, row);
};
const query = Client.prototype.query;
Client.prototype.query = function (...args) {
  if (!this.notCounted) statements++;
  return query.apply(this, args);
};

async function admin(db, fn) {
  const c = new Client({ connectionString: `${SERVER}/${db}` });
  c.notCounted = true;
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Counters of database `db` (read after the engine closed: a backend flushes its stats when it ends). */
async function counters(db) {
  await new Promise((r) => setTimeout(r, 1_000));
  return admin(db, async (c) => {
    const d = (await c.query('SELECT xact_commit::bigint AS x FROM pg_stat_database WHERE datname = current_database()')).rows[0];
    const t = (await c.query("SELECT coalesce(sum(n_tup_upd), 0)::bigint AS upd, coalesce(sum(n_tup_hot_upd), 0)::bigint AS hot, coalesce(sum(n_tup_ins), 0)::bigint AS ins, coalesce(sum(n_tup_del), 0)::bigint AS del FROM pg_stat_user_tables WHERE schemaname = 'qtasks'")).rows[0];
    const f = (await c.query("SELECT coalesce(sum(calls), 0)::bigint AS calls, string_agg(funcname || ' ' || calls, ', ' ORDER BY funcname) AS by FROM pg_stat_user_functions WHERE schemaname = 'qtasks'")).rows[0];
    const w = (await c.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0];
    return { xact: Number(d.x), upd: Number(t.upd), hot: Number(t.hot), ins: Number(t.ins), del: Number(t.del), calls: Number(f.calls), by: f.by ?? '', lsn: w.lsn };
  });
}

/** CPU time (ms) of the backends connected to `db` now (read from /proc: the server runs on this machine). */
async function backendCpuMs(db) {
  const pids = await admin(db, async (c) => (await c.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows.map((r) => r.pid));
  let ms = 0;
  for (const pid of pids) {
    try {
      ms += cpuMsOf(pid);
    } catch {
      // not on this machine, or gone
    }
  }
  return ms;
}

function lsnBytes(a, b) {
  const n = (s) => {
    const [hi, lo] = s.split('/');
    return BigInt('0x' + hi) * 4294967296n + BigInt('0x' + lo);
  };
  return Number(n(b) - n(a));
}

/** Runs `steps` in a fresh database, each with an engine of its own closed after it; counts each step. */
async function phase(label, n, steps) {
  const db = `qtb_prof_${process.pid}_${Date.now().toString(36)}`;
  await admin('postgres', (c) => c.query(`CREATE DATABASE ${db}`));
  await admin('postgres', (c) => c.query(`ALTER DATABASE ${db} SET track_functions = 'pl'`));
  const names = { url: `${SERVER}/${db}`, name: `prof-${process.pid}` };
  try {
    const rows = [];
    let a = { statements, rowsIn, ...(await counters(db)) };
    for (const [part, step] of steps) {
      const engine = create('qtasks', names);
      const cpu0 = process.cpuUsage();
      let nodeMs = 0;
      let serverMs = 0;
      try {
        await step(engine, names);
        const cpu = process.cpuUsage(cpu0);
        nodeMs = (cpu.user + cpu.system) / 1000;
        serverMs = await backendCpuMs(db);
      } finally {
        await engine.close();
      }
      const b = { statements, rowsIn, ...(await counters(db)) };
      if (part) {
        rows.push({
          part: `${label}: ${part}`,
          statements: (b.statements - a.statements) / n,
          rows: (b.rowsIn - a.rowsIn) / n,
          xacts: (b.xact - a.xact) / n,
          calls: (b.calls - a.calls) / n,
          updates: (b.upd - a.upd) / n,
          inserts: (b.ins - a.ins) / n,
          deletes: (b.del - a.del) / n,
          hot: b.upd - a.upd > 0 ? (b.hot - a.hot) / (b.upd - a.upd) : 0,
          walBytes: lsnBytes(a.lsn, b.lsn) / n,
          nodeMs: (nodeMs * 1000) / n,
          serverMs: (serverMs * 1000) / n,
          functions: b.by,
        });
      }
      a = b;
    }
    return rows;
  } finally {
    await admin('postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
  }
}

async function main() {
  const out = [];
  out.push(
    ...(await phase('throughput', TASKS, [
      ['', (e) => e.worker(50, () => undefined)], // tables made
      ['enqueue', (e) => e.enqueue(TASKS, 1_000)],
      [
        'process',
        async (e) => {
          let done = 0;
          let finish;
          const all = new Promise((r) => (finish = r));
          const w = await e.worker(50, () => ++done === TASKS && finish());
          await w.run();
          await all;
        },
      ],
    ])),
  );
  out.push(
    ...(await phase('round trip', TRIPS, [
      ['', (e) => e.roundTrip(10)],
      ['one app, concurrency 1', (e) => e.roundTrip(TRIPS)],
    ])),
  );
  // a producer app and a worker app of their own engines: the worker learns of tasks from the
  // channel, as a worker in another process does
  const twoApps = (count) => async (e, names) => {
    await (await e.worker(1, () => undefined)).run();
    const p = create('qtasks', names);
    try {
      const producer = await p.producer();
      for (let i = 0; i < count; i++) await producer.trip(i);
    } finally {
      await p.close();
    }
  };
  out.push(
    ...(await phase('round trip', TRIPS, [
      ['', twoApps(10)],
      ['two apps (worker told by the channel)', twoApps(TRIPS)],
    ])),
  );
  console.log(`PostgreSQL engine, counted per task (${PKG}); statements = client round trips; WAL bytes are server-wide`);
  console.log('| part | statements | rows answered | transactions | function calls | row inserts | row updates | HOT | row deletes | WAL bytes | node CPU µs | server CPU µs |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of out) console.log(`| ${r.part} | ${r.statements.toFixed(3)} | ${r.rows.toFixed(2)} | ${r.xacts.toFixed(3)} | ${r.calls.toFixed(3)} | ${r.inserts.toFixed(2)} | ${r.updates.toFixed(2)} | ${(r.hot * 100).toFixed(0)}% | ${r.deletes.toFixed(2)} | ${Math.round(r.walBytes)} | ${r.nodeMs.toFixed(1)} | ${r.serverMs.toFixed(1)} |`);
  for (const r of out) console.log(`- ${r.part}: ${r.functions}`);
}

runMain(main);
