/**
 * RabbitMQ broker + Redis storage beside the Redis engine, BullMQ and Bee-Queue, in the same run,
 * interleaved (peer, ours, peer, ours), median of 3, a fresh queue and prefix per run:
 * - throughput: 20k no-op jobs enqueued first in batches of 1,000 (enqueue rate), then one worker
 *   with concurrency 50 in this process; time until the 20,000th success event;
 * - round trip: one app that enqueues and works (concurrency 1), 100 warm-up trips then 1,000:
 *   enqueue one job and wait for its result (p50, p99).
 * Prints one Markdown table plus the ratios and writes it into bench/RESULTS.md (section rabbitmq).
 *
 * Run: `npm run build && node bench/rabbitmq.js` (env: REDIS_URL, AMQP_URL, BENCH_ROUNDS,
 * BENCH_REDIS_TASKS, BENCH_ROUND_TRIPS, BENCH_ONLY=rabbitmq,bullmq).
 */
'use strict';

const { runMain } = require('./lib/run-main');

const { create } = require('./lib/engines');
const { rabbitRedis, AMQP_URL } = require('./lib/rabbit-engine');
const { REDIS_URL, redisVersion, deleteKeys } = require('./lib/redis-util');
const { median, pkgVersion, fmtInt, fmtRatio, fmtMs, header, writeSection } = require('./lib/report');
const { TOTAL, CONCURRENCY, ROUND_TRIPS, WARMUP_TRIPS, ROUNDS, fresh, throughputOf, tripFigures } = require('./lib/redis-workload');

const KINDS = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : ['bullmq', 'rabbitmq', 'bee-queue', 'qtasks'];
const LABELS = {
  bullmq: `BullMQ ${pkgVersion('bullmq')}`,
  'bee-queue': `Bee-Queue ${pkgVersion('bee-queue')}`,
  qtasks: 'qtasks, Redis engine',
  rabbitmq: 'qtasks, RabbitMQ broker + Redis storage',
};

function make(kind) {
  const names = fresh(kind);
  return { names, engine: kind === 'rabbitmq' ? rabbitRedis(names) : create(kind, names) };
}

async function throughput(kind) {
  const { names, engine } = make(kind);
  try {
    return await throughputOf(engine);
  } finally {
    await engine.close();
    await deleteKeys(`${names.prefix}:`);
  }
}

async function roundTrip(kind) {
  const { names, engine } = make(kind);
  try {
    return tripFigures(await engine.roundTrip(WARMUP_TRIPS + ROUND_TRIPS));
  } finally {
    await engine.close();
    await deleteKeys(`${names.prefix}:`);
  }
}

async function main() {
  const runs = Object.fromEntries(KINDS.map((k) => [k, { enqueue: [], process: [], p50: [], p99: [] }]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of KINDS) {
      const t = await throughput(kind);
      const rt = await roundTrip(kind);
      for (const [k, v] of Object.entries({ ...t, ...rt })) runs[kind][k].push(v);
      process.stderr.write(`  round ${r + 1} ${kind}: ${fmtInt(t.enqueue)} enq/s, ${fmtInt(t.process)} proc/s, p50 ${fmtMs(rt.p50)} ms\n`);
    }
  }
  const med = Object.fromEntries(KINDS.map((k) => [k, Object.fromEntries(Object.entries(runs[k]).map(([m, v]) => [m, median(v)]))]));
  const rows = KINDS.map((k) => `| ${LABELS[k]} | ${fmtInt(med[k].enqueue)} | ${fmtInt(med[k].process)} | ${fmtMs(med[k].p50)} | ${fmtMs(med[k].p99)} |`);
  const ours = med.rabbitmq;
  const ratio = (peer, m, lower) => `- ${m}: RabbitMQ + Redis storage / ${LABELS[peer]}${lower ? ' (lower is better)' : ''} **${fmtRatio(ours[m] / med[peer][m])}**`;
  const ratios = [];
  // ratios need the RabbitMQ row (BENCH_ONLY may leave it out)
  for (const peer of ['bullmq', 'bee-queue', 'qtasks'].filter((k) => ours && KINDS.includes(k))) {
    ratios.push(ratio(peer, 'process', false), ratio(peer, 'enqueue', false), ratio(peer, 'p50', true));
  }
  const every = KINDS.map((k) => `| ${k} | ${runs[k].enqueue.map(fmtInt).join(', ')} | ${runs[k].process.map(fmtInt).join(', ')} | ${runs[k].p50.map(fmtMs).join(', ')} |`);
  const text = [
    header(`rabbitmq: RabbitMQ broker + Redis storage, ${TOTAL.toLocaleString('en-US')} no-op jobs, concurrency ${CONCURRENCY}, ${ROUND_TRIPS} round trips, median of ${ROUNDS}`, [
      `Redis ${await redisVersion()} (${REDIS_URL})`,
      `RabbitMQ at ${AMQP_URL.replace(/\/\/[^@]*@/, '//')}`,
    ]),
    '',
    '| engine | enqueue / s | process / s | round trip p50 ms | round trip p99 ms |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    ...ratios,
    '',
    '<details><summary>every run</summary>',
    '',
    '| engine | enqueue / s | process / s | round trip p50 ms |',
    '|---|---|---|---|',
    ...every,
    '',
    '</details>',
  ].join('\n');
  process.stdout.write(text + '\n');
  // a partial run (some engines, fewer rounds or tasks) leaves RESULTS.md alone
  if (!process.env.BENCH_ONLY && ROUNDS >= 3 && TOTAL === 20_000 && ROUND_TRIPS === 1_000) writeSection('rabbitmq', text);
}

runMain(main);
