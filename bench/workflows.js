/**
 * Fan-out and fan-in: a parent that runs once its N children (no-op tasks `x => x + 1`) ended and
 * sums their results. qtasks as a flow (`flow({ name: 'sum', children })`, the parent reading
 * `ctx.childResults()`) and as a chord (`chain(group(...), step('sum'))`) on Redis, against BullMQ's
 * `FlowProducer` (the parent reading `job.getChildrenValues()`) on the same Redis, each with one
 * worker of concurrency 50 in this process, on a fresh queue per run; and the same flow and chord on
 * the PostgreSQL engine (a fresh database per run; no PostgreSQL peer has flows). N = 100, 1,000
 * and 5,000, interleaved, median of 3. Prints the time from submitting the tree to the parent's
 * result and, on Redis, the Redis commands per child (scripts' own commands included).
 *
 * Run: `npm run build && node bench/workflows.js` (env: REDIS_URL, QTASKS_PG_URL (server, default
 * postgres://postgres@127.0.0.1:5432), BENCH_ROUNDS=3, BENCH_SIZES=100,1000,5000,
 * BENCH_ONLY=flow,chord,pg-flow,pg-chord,bullmq).
 */
'use strict';

const { runMain } = require('./lib/run-main');
const { now, within } = require('./lib/workload');
const { REDIS_URL, client, redisOptions, deleteKeys, commandStats, commandDelta } = require('./lib/redis-util');
const { median, fmtInt, fmtMs, fmtRatio, header, pkgVersion } = require('./lib/report');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SIZES = (process.env.BENCH_SIZES ?? '100,1000,5000').split(',').map(Number);
const KINDS = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : ['flow', 'chord', 'pg-flow', 'pg-chord', 'bullmq'];
const PG_SERVER = (process.env.QTASKS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const CONCURRENCY = 50;
const PHASE_MS = 120_000;
const expected = (n) => (n * (n + 1)) / 2;

let seq = 0;
const fresh = () => `${process.pid}-${Date.now().toString(36)}-${++seq}`;

/** Runs `fn` with a client of PostgreSQL's `postgres` database. */
async function pgAdmin(fn) {
  const { Client } = require('pg');
  const c = new Client({ connectionString: `${PG_SERVER}/postgres` });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`The pg-flow and pg-chord runs need PostgreSQL at ${PG_SERVER} (set QTASKS_PG_URL, or leave them out with BENCH_ONLY): ${err.message}`);
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * qtasks: one app (producer and worker of concurrency 50) on Redis, or on PostgreSQL (`pg-flow`,
 * `pg-chord`: a fresh database, dropped after); submits the tree and returns the time to the sum.
 */
async function qtasksRun(kind, n) {
  const { QTasks, Task, flow, chain, group, step } = require('..');
  let Inc = class Inc {
    run(x) {
      return x + 1;
    }
  };
  Inc = Task({ name: 'inc' })(Inc) || Inc;
  // echo: run(self, ...args), self.ctx.childResults() in a flow's parent; a chord's sum gets the list
  let Sum = class Sum {
    async run(self, list) {
      const values = list ?? (await self.ctx.childResults());
      return values.reduce((a, b) => a + b, 0);
    }
  };
  Sum = Task({ name: 'sum', echo: true })(Sum) || Sum;
  const id = fresh();
  const prefix = `qtb-wf-${id}`;
  const pg = kind.startsWith('pg-');
  const db = `qtb_wf_${id.replace(/-/g, '_')}`;
  let engine = { redis: REDIS_URL };
  if (pg) {
    const { postgresEngine } = require('../dist/engines/postgres');
    await pgAdmin((c) => c.query(`CREATE DATABASE ${db}`));
    engine = { engine: postgresEngine({ connectionString: `${PG_SERVER}/${db}` }) };
  }
  const app = new QTasks({ name: `bench-wf-${id}`, ...engine, concurrency: CONCURRENCY, discover: false, config: { prefix, logLevel: 'warn' } });
  app.register(Inc, Sum);
  try {
    await app.start();
    const children = Array.from({ length: n }, (_, i) => ({ name: 'inc', args: [i] }));
    const t0 = now();
    const h =
      kind.endsWith('flow')
        ? await app.run(flow({ name: 'sum', children }))
        : await app.run(chain(group(children.map((c) => step(c.name, c.args))), step('sum')));
    const sum = await within(h.result({ timeout: PHASE_MS }), PHASE_MS, `the ${kind} of ${n}`);
    const ms = now() - t0;
    if (sum !== expected(n)) throw new Error(`${kind} of ${n}: the sum is ${sum}, not ${expected(n)}`);
    return ms;
  } finally {
    await app.close();
    if (pg) await pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
    else await deleteKeys(prefix);
  }
}

/** BullMQ: a FlowProducer tree, one Worker of concurrency 50 for both job names. */
async function bullmqRun(n) {
  const { FlowProducer, Worker, QueueEvents } = require('bullmq');
  const id = fresh();
  const prefix = `qtb-wfb-${id}`;
  const name = `bench-wfb-${id}`;
  const connection = redisOptions(REDIS_URL);
  const opened = [];
  try {
    const worker = new Worker(
      name,
      async (job) => {
        if (job.name === 'inc') return job.data.x + 1;
        const values = Object.values(await job.getChildrenValues());
        return values.reduce((a, b) => a + b, 0);
      },
      { connection: { ...connection, maxRetriesPerRequest: null }, prefix, concurrency: CONCURRENCY },
    );
    opened.push(worker);
    worker.on('error', () => undefined);
    const events = new QueueEvents(name, { connection: { ...connection, maxRetriesPerRequest: null }, prefix });
    opened.push(events);
    const producer = new FlowProducer({ connection, prefix });
    opened.push(producer);
    await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);
    const t0 = now();
    const tree = await producer.add({
      name: 'sum',
      queueName: name,
      data: {},
      children: Array.from({ length: n }, (_, i) => ({ name: 'inc', queueName: name, data: { x: i } })),
    });
    const sum = await within(tree.job.waitUntilFinished(events, PHASE_MS), PHASE_MS, `the BullMQ flow of ${n}`);
    const ms = now() - t0;
    if (sum !== expected(n)) throw new Error(`BullMQ flow of ${n}: the sum is ${sum}, not ${expected(n)}`);
    return ms;
  } finally {
    await Promise.all(opened.map((o) => o.close().catch(() => undefined)));
    await deleteKeys(prefix);
  }
}

async function main() {
  const r = client();
  const runs = {};
  const cmds = {};
  try {
    for (const n of SIZES) {
      for (let i = 0; i < ROUNDS; i++) {
        for (const kind of KINDS) {
          const before = await commandStats(r);
          const ms = kind === 'bullmq' ? await bullmqRun(n) : await qtasksRun(kind, n);
          const delta = commandDelta(before, await commandStats(r));
          let calls = 0;
          for (const v of Object.values(delta)) calls += v.calls;
          (runs[`${kind}:${n}`] ??= []).push(ms);
          (cmds[`${kind}:${n}`] ??= []).push(calls / n);
          process.stderr.write(`  workflows ${kind} of ${n}, round ${i + 1}: ${fmtMs(ms)} ms${kind.startsWith('pg-') ? '' : `, ${(calls / n).toFixed(1)} Redis commands a child`}\n`);
        }
      }
    }
  } finally {
    r.disconnect();
  }
  const label = {
    flow: `qtasks ${require('../package.json').version} flow`,
    chord: 'qtasks chord',
    'pg-flow': 'qtasks flow, PostgreSQL engine',
    'pg-chord': 'qtasks chord, PostgreSQL engine',
    bullmq: `BullMQ ${pkgVersion('bullmq')} FlowProducer`,
  };
  const lines = [header(`workflows: a parent summing N no-op children, concurrency ${CONCURRENCY}, median of ${ROUNDS}`), ''];
  lines.push(`| engine | ${SIZES.map((n) => `${fmtInt(n)} children, ms`).join(' | ')} | Redis commands a child (${fmtInt(SIZES[SIZES.length - 1])}) |`);
  lines.push(`|---|${SIZES.map(() => '---|').join('')}---|`);
  for (const kind of KINDS) {
    const last = SIZES[SIZES.length - 1];
    const perChild = kind.startsWith('pg-') ? '–' : median(cmds[`${kind}:${last}`]).toFixed(1);
    lines.push(`| ${label[kind]} | ${SIZES.map((n) => fmtMs(median(runs[`${kind}:${n}`]))).join(' | ')} | ${perChild} |`);
  }
  if (KINDS.includes('bullmq')) {
    lines.push('');
    // the same Redis only: the PostgreSQL runs have no peer
    for (const kind of KINDS.filter((k) => k === 'flow' || k === 'chord')) {
      lines.push(`- ${label[kind]} / BullMQ, time (lower is better): ${SIZES.map((n) => `${fmtInt(n)}: **${fmtRatio(median(runs[`${kind}:${n}`]) / median(runs[`bullmq:${n}`]))}**`).join(', ')}`);
    }
  }
  console.log(lines.join('\n'));
}

runMain(main);
