/**
 * What a round trip costs Redis, counted in instructions (deterministic, unlike times on a shared
 * machine): starts a private redis-server under valgrind's callgrind, runs round trips of qtasks
 * and of Bee-Queue against it (a producer and a worker of concurrency 1 in this process: the two
 * script calls of qtasks' trip are the same in every way of the round-trip workload), and prints
 * per trip the instructions Redis ran, without its timer (serverCron, which follows the run's
 * length, several times longer under valgrind for the slower engine), and of them those in
 * scripts and transactions (EVALSHA, EXEC) and in the commands that scripts call (redis.call).
 *
 * Run: `npm run build && node bench/trip-instructions.js` (needs valgrind and redis-server;
 * env: TRIPS=300 measured after 100 unmeasured ones, BENCH_ONLY=qtasks,bee-queue).
 */
'use strict';

const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const IORedis = require('ioredis');
const { create } = require('./lib/engines');
const { runMain } = require('./lib/run-main');
const { freePort } = require('./lib/redis-servers');

const TRIPS = Number(process.env.TRIPS ?? 300);
const WARMUP = 100;
const KINDS = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : ['qtasks', 'bee-queue'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 120_000, maxBuffer: 1 << 28 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** A redis-server under callgrind, collecting from the start (counters are zeroed per phase). */
async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtasks-bench-cg-'));
  const port = await freePort();
  const out = path.join(dir, 'cg.out');
  const proc = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  proc.on('error', () => undefined);
  const stop = async () => {
    proc.kill('SIGKILL');
    if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const r = new IORedis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on('error', () => undefined);
  const until = Date.now() + 60_000;
  for (;;) {
    if ((await r.connect().then(() => r.ping(), () => '')) === 'PONG') break;
    if (proc.exitCode !== null || Date.now() > until) {
      await stop();
      throw new Error('redis-server did not start under valgrind (are valgrind and redis-server installed?)');
    }
    await sleep(200);
  }
  r.disconnect();
  /** Runs `phase`; returns the inclusive instructions of each function named, during it. */
  const count = async (phase, names) => {
    await run('callgrind_control', ['-z', String(proc.pid)]);
    await phase();
    await run('callgrind_control', ['-d', String(proc.pid)]);
    const dumps = fs.readdirSync(dir).filter((f) => f.startsWith('cg.out.')).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
    const file = path.join(dir, dumps[dumps.length - 1]);
    const text = await run('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file]);
    fs.rmSync(file);
    const total = Number(/^\s*([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS/m.exec(text)?.[1].replace(/,/g, '') ?? NaN);
    const of = (fn) => Number(new RegExp(`^\\s*([\\d,]+) .*\\?\\?\\?:${fn} `, 'm').exec(text)?.[1].replace(/,/g, '') ?? 0);
    return { total, ...Object.fromEntries(names.map((n) => [n, of(n)])) };
  };
  return { url: `redis://127.0.0.1:${port}`, count, stop };
}

async function measure(server, kind) {
  const names = { url: server.url, name: `cg-${kind}-${process.pid}`, prefix: `qtb-cg-${kind}-${process.pid}` };
  const worker = create(kind, names);
  const producer = create(kind, names);
  try {
    await (await worker.worker(1, () => undefined)).run();
    await producer.trips(WARMUP);
    const c = await server.count(() => producer.trips(TRIPS), ['serverCron', 'evalShaCommand', 'execCommand', 'scriptCall']);
    const per = (n) => Math.round(n / TRIPS / 1000);
    console.log(
      `${kind}: ${per(c.total - c.serverCron)}k Redis instructions per round trip (without serverCron), ` +
        `${per(c.evalShaCommand + c.execCommand)}k in scripts and transactions, ${per(c.scriptCall)}k of them in redis.call`,
    );
  } finally {
    await producer.close();
    await worker.close();
  }
}

async function main() {
  const server = await startServer();
  try {
    console.log(`Round trips under callgrind: ${TRIPS} after ${WARMUP}, producer and worker (concurrency 1) in one process`);
    for (const kind of KINDS) await measure(server, kind);
  } finally {
    await server.stop();
  }
}

runMain(main);
