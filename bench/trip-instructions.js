/**
 * What a round trip costs Redis, counted in instructions (deterministic, unlike times on a shared
 * machine): starts a private redis-server under valgrind's callgrind, runs round trips of qtasks,
 * of Bee-Queue and of the bare-Lua floor of a trip (bench/lib/ceiling.js) against it (a producer
 * and a worker of concurrency 1 in this process: the two script calls of qtasks' trip are the same
 * in every way of the round-trip workload), and prints
 * per trip the instructions Redis ran, without its timer (serverCron, which follows the run's
 * length, several times longer under valgrind for the slower engine), and of them those in
 * scripts and transactions (EVALSHA, EXEC) and in the commands that scripts call (redis.call).
 *
 * With IDLE_WORKERS=n the queue has n workers of concurrency 1 (n apps in this process), all idle
 * between trips, as a fleet that waits for sporadic tasks: what an enqueue costs with many workers
 * waiting.
 *
 * Run: `npm run build && node bench/trip-instructions.js` (needs valgrind and redis-server;
 * env: TRIPS=300 measured after 100 unmeasured ones, BENCH_ONLY=qtasks,bee-queue,ceiling, IDLE_WORKERS=1).
 */
'use strict';

const { create } = require('./lib/engines');
const { runMain } = require('./lib/run-main');
const { startCallgrindRedis } = require('./lib/callgrind-redis');

const TRIPS = Number(process.env.TRIPS ?? 300);
const WARMUP = 100;
const KINDS = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : ['qtasks', 'bee-queue', 'ceiling'];
const IDLE_WORKERS = Number(process.env.IDLE_WORKERS ?? 1);

async function measure(server, kind) {
  const names = { url: server.url, name: `cg-${kind}-${process.pid}`, prefix: `qtb-cg-${kind}-${process.pid}` };
  const workers = [];
  const producer = create(kind, names);
  try {
    for (let i = 0; i < IDLE_WORKERS; i++) {
      const worker = create(kind, names);
      workers.push(worker);
      await (await worker.worker(1, undefined)).run();
    }
    await producer.trips(WARMUP);
    const c = await server.count(() => producer.trips(TRIPS), ['serverCron', 'evalShaCommand', 'execCommand', 'scriptCall']);
    const per = (n) => Math.round(n / TRIPS / 1000);
    console.log(
      `${kind}: ${per(c.total - c.serverCron)}k Redis instructions per round trip (without serverCron), ` +
        `${per(c.evalShaCommand + c.execCommand)}k in scripts and transactions, ${per(c.scriptCall)}k of them in redis.call`,
    );
  } finally {
    await producer.close();
    for (const worker of workers) await worker.close();
  }
}

async function main() {
  const server = await startCallgrindRedis();
  try {
    const who = IDLE_WORKERS === 1 ? 'worker (concurrency 1)' : `${IDLE_WORKERS} workers (concurrency 1 each)`;
    console.log(`Round trips under callgrind: ${TRIPS} after ${WARMUP}, producer and ${who} in one process`);
    for (const kind of KINDS) await measure(server, kind);
  } finally {
    await server.stop();
  }
}

runMain(main);
