/**
 * The soak: worker processes consume a Redis queue while faults are injected, then every task is
 * accounted for. On a private `redis-server` (a free port, AOF with fsync on every write, so a
 * restart keeps what it acknowledged; the shared Redis is never touched), `tasks` tasks are enqueued,
 * `workers` worker processes (bench/lib/soak-worker.js, loading the built package) consume them, and
 * meanwhile: a random worker is SIGKILLed every `killEveryMs` and another started, every client
 * connection but the soak's own is killed every `connKillEveryMs` (CLIENT KILL TYPE normal and
 * pubsub, SKIPME yes), and Redis itself is SIGKILLed and restarted `redisRestarts` times (spread
 * over the run by progress). Each run of a task is noted in a Redis set by the task itself.
 *
 * The report: tasks, faults injected, `lost` (tasks that did not end `success`), `duplicates`
 * (tasks that ran more than once: allowed under faults — a killed worker's task runs again — but
 * counted), stalls, and worker processes that died on their own (`crashes`).
 */
'use strict';

const { fork, spawn } = require('node:child_process');
const { mkdtempSync, rmSync, existsSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('./redis-servers');

const ROOT = path.resolve(__dirname, '../..');

/** Defaults of {@link runSoak}; `npm run soak` takes each as a flag. */
const SOAK_DEFAULTS = Object.freeze({
  tasks: 30_000,
  workers: 4,
  concurrency: 8,
  taskMs: 2,
  killEveryMs: 2_000,
  connKillEveryMs: 3_000,
  redisRestarts: 1,
  leaseMs: 2_000,
  maxStalls: 20,
  timeoutMs: 15 * 60_000,
  qtasks: path.join(ROOT, 'dist', 'index.js'),
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `fn` until it resolves or `timeoutMs` passed. */
async function retry(fn, timeoutMs, what) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw new Error(`${what}: ${err && err.message}`);
      await sleep(100);
    }
  }
}

/** A private redis-server on `port` keeping its data in `dir`; resolves once it answers PING. */
async function startRedis(IORedis, port, dir) {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--protected-mode', 'no'],
    { stdio: 'ignore' },
  );
  const failed = new Promise((_, reject) => proc.once('error', (err) => reject(new Error(`cannot start redis-server (is it installed?): ${err.message}`))));
  failed.catch(() => undefined);
  await Promise.race([
    failed,
    retry(async () => {
      const r = new IORedis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        if ((await r.ping()) !== 'PONG') throw new Error('no PONG');
      } finally {
        r.disconnect();
      }
    }, 20_000, `redis-server on port ${port} did not answer`),
  ]);
  return proc;
}

function stopProcess(proc, signal = 'SIGKILL') {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  const gone = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill(signal);
  return gone;
}

/**
 * Runs one soak; resolves with its report.
 * @param {Partial<typeof SOAK_DEFAULTS> & { log?: (line: string) => void }} options
 */
async function runSoak(options = {}) {
  const o = { ...SOAK_DEFAULTS, ...options };
  const log = options.log ?? (() => undefined);
  if (!existsSync(o.qtasks)) throw new Error(`${o.qtasks} is missing: run "npm run build" first (npm run soak does)`);
  require(require.resolve('reflect-metadata', { paths: [o.qtasks] }));
  const { QTasks, Task } = require(o.qtasks);
  const IORedis = require(require.resolve('ioredis', { paths: [o.qtasks] }));

  const dir = mkdtempSync(path.join(os.tmpdir(), 'qtasks-soak-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const queue = `soak-${process.pid}`;
  const prefix = 'soak';
  const ledgerKey = `${prefix}:ledger:runs`;
  const report = {
    tasks: o.tasks, workers: o.workers, concurrency: o.concurrency, taskMs: o.taskMs,
    kills: 0, connectionKillRounds: 0, connectionsKilled: 0, redisRestarts: 0, crashes: 0, startFailures: 0,
    success: 0, lost: 0, duplicates: 0, extraRuns: 0, neverRan: 0, stalls: 0, lostByStatus: {}, seconds: 0, timedOut: false,
  };
  let redis;
  let admin;
  let producer;
  const live = new Set();
  let stopping = false;
  const timers = [];
  try {
    redis = await startRedis(IORedis, port, dir);
    admin = new IORedis(url, { maxRetriesPerRequest: 1, connectionName: 'soak-admin' });
    admin.on('error', () => undefined);

    const Stub = class SoakTaskStub {
      run() {
        throw new Error('runs in a worker process');
      }
    };
    Task({ name: 'soak.task', echo: true })(Stub);
    producer = new QTasks({ name: queue, redis: url, discover: false, config: { prefix, logLevel: 'silent', connectTimeoutMs: 5_000 } });
    producer.register(Stub);

    // enqueue everything before any fault: an enqueue cut by a fault could not be accounted for
    const ids = [];
    for (let i = 0; i < o.tasks; i += 1_000) {
      const n = Math.min(1_000, o.tasks - i);
      const handles = await producer.addTasks(Array.from({ length: n }, (_, k) => ({ name: 'soak.task', args: [i + k, o.taskMs] })));
      for (const h of handles) ids.push(h.id);
    }
    log(`enqueued ${ids.length} tasks on a private Redis at ${url}`);

    const workerOpts = JSON.stringify({ qtasks: o.qtasks, url, queue, prefix, concurrency: o.concurrency, leaseMs: o.leaseMs, maxStalls: o.maxStalls, ledgerKey });
    const startWorker = () => {
      const child = fork(path.join(__dirname, 'soak-worker.js'), [workerOpts], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-2_000)));
      child.killedBySoak = false;
      live.add(child);
      child.once('exit', (code) => {
        live.delete(child);
        if (stopping || child.killedBySoak) return;
        if (code === 2) report.startFailures++;
        else {
          report.crashes++;
          log(`worker ${child.pid} died on its own (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
        }
        startWorker();
      });
      return child;
    };
    const t0 = Date.now();
    for (let i = 0; i < o.workers; i++) startWorker();

    if (o.killEveryMs > 0) {
      timers.push(setInterval(() => {
        const list = [...live];
        if (list.length === 0) return;
        const victim = list[Math.floor(Math.random() * list.length)];
        victim.killedBySoak = true;
        victim.kill('SIGKILL');
        report.kills++;
        startWorker();
      }, o.killEveryMs));
    }
    let restarting = false;
    if (o.connKillEveryMs > 0) {
      timers.push(setInterval(() => {
        if (restarting) return;
        report.connectionKillRounds++;
        Promise.all([admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes'), admin.client('KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes')]).then(
          ([a, b]) => (report.connectionsKilled += Number(a) + Number(b)),
          () => undefined,
        );
      }, o.connKillEveryMs));
    }

    // wait for every task to end, restarting Redis at even steps of progress
    let finished = 0;
    let lastLog = 0;
    const deadline = t0 + o.timeoutMs;
    while (finished < o.tasks) {
      if (Date.now() > deadline) {
        report.timedOut = true;
        break;
      }
      await sleep(250);
      let counts;
      try {
        counts = await producer.manager.counts();
      } catch {
        continue;
      }
      finished = counts.success + counts.error + counts.cancel;
      if (report.redisRestarts < o.redisRestarts && finished >= ((report.redisRestarts + 1) * o.tasks) / (o.redisRestarts + 1) && finished < o.tasks) {
        restarting = true;
        await stopProcess(redis);
        redis = await startRedis(IORedis, port, dir);
        report.redisRestarts++;
        restarting = false;
        log(`Redis SIGKILLed and restarted at ${finished} finished tasks`);
      }
      if (Date.now() - lastLog > 5_000) {
        lastLog = Date.now();
        log(`${finished}/${o.tasks} finished, ${report.kills} kills, ${report.connectionKillRounds} connection-kill rounds, ${report.redisRestarts} Redis restarts`);
      }
    }
    report.seconds = Math.round((Date.now() - t0) / 100) / 10;
    for (const t of timers.splice(0)) clearInterval(t);
    stopping = true;

    // account for every task: its final status, and how many runs the tasks noted
    const runs = new Map();
    await retry(async () => {
      runs.clear();
      let cursor = '0';
      do {
        const [next, members] = await admin.sscan(ledgerKey, cursor, 'COUNT', 5_000);
        cursor = next;
        for (const m of members) {
          const id = m.slice(0, m.indexOf('|'));
          runs.set(id, (runs.get(id) ?? 0) + 1);
        }
      } while (cursor !== '0');
    }, 30_000, 'reading the run ledger');
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const records = await retry(() => Promise.all(chunk.map((id) => producer.getTask(id))), 30_000, 'reading the records');
      records.forEach((rec, k) => {
        const id = chunk[k];
        const n = runs.get(id) ?? 0;
        if (n === 0) report.neverRan++;
        if (n > 1) {
          report.duplicates++;
          report.extraRuns += n - 1;
        }
        report.stalls += (rec && rec.stalls) || 0;
        if (rec && rec.status === 'success') report.success++;
        else {
          report.lost++;
          const key = rec ? `${rec.status}${rec.error && rec.error.code ? ` ${rec.error.code}` : ''}` : 'missing';
          report.lostByStatus[key] = (report.lostByStatus[key] ?? 0) + 1;
        }
      });
    }
    return report;
  } finally {
    stopping = true;
    for (const t of timers) clearInterval(t);
    await Promise.all(
      [...live].map(async (child) => {
        let timer;
        const exited = new Promise((r) => child.once('exit', () => r(true)));
        if (child.connected) child.send('close');
        const done = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r(false), 5_000)))]);
        clearTimeout(timer);
        if (!done) await stopProcess(child);
      }),
    );
    if (producer) await producer.close().catch(() => undefined);
    if (admin) admin.disconnect();
    await stopProcess(redis);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The report as lines for a terminal. */
function formatSoak(r) {
  const lines = [
    `soak: ${r.tasks} tasks, ${r.workers} worker processes x ${r.concurrency} slots, ${r.taskMs} ms per task, ${r.seconds} s${r.timedOut ? ' (TIMED OUT)' : ''}`,
    `faults: ${r.kills} worker SIGKILLs, ${r.connectionKillRounds} connection-kill rounds (${r.connectionsKilled} connections killed), ${r.redisRestarts} Redis restart(s)`,
    `outcome: ${r.success} success, lost ${r.lost}, duplicates ${r.duplicates} (${r.extraRuns} extra runs), never ran ${r.neverRan}, stalls ${r.stalls}, worker crashes ${r.crashes}, failed worker starts ${r.startFailures}`,
  ];
  if (r.lost > 0) lines.push(`lost by status: ${JSON.stringify(r.lostByStatus)}`);
  return lines;
}

module.exports = { runSoak, formatSoak, SOAK_DEFAULTS };
