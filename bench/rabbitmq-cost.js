/**
 * What one task costs on the RabbitMQ broker + Redis storage, per 1,000 no-op tasks, for the
 * enqueue phase and the process phase of the throughput workload (20k tasks, batches of 1,000,
 * concurrency 50): AMQP methods sent and received by this process (by name), Redis commands (from
 * INFO commandstats, scripts' inner commands included) and round trips (calls of the storage's
 * connection), and CPU time of this process, of RabbitMQ (beam.smp, from /proc) and of Redis
 * (INFO cpu). Counts are deterministic where the wall clock is not: compare them between changes.
 *
 * Run: `npm run build && node bench/rabbitmq-cost.js` (env: REDIS_URL, AMQP_URL, BENCH_REDIS_TASKS,
 * BENCH_CONCURRENCY, BENCH_KIND=bullmq|bee-queue|qtasks: a peer of bench/lib/engines.js instead, BENCH_PROFILE=file: a CPU profile of the process phase, BENCH_HEAP=1: bytes allocated per task in the process phase, from a heap sampling profile that counts collected objects too). Linux only (reads /proc for RabbitMQ's CPU time); RabbitMQ must run on this host.
 */
'use strict';

const { runMain } = require('./lib/run-main');

const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
// amqplib's internals (not exported): its frame codec and connection
const amqpDir = path.dirname(require.resolve('amqplib'));
const defs = require(path.join(amqpDir, 'lib/defs'));
const { Connection } = require(path.join(amqpDir, 'lib/connection'));
const { rabbitRedis } = require('./lib/rabbit-engine');
const { create } = require('./lib/engines');
const IORedis = require('ioredis');
const { REDIS_URL, deleteKeys } = require('./lib/redis-util');
const { cpuMsOf } = require('./lib/proc-cpu');
const { fresh, BATCH, within, PHASE_MS, now } = require('./lib/redis-workload');

const TOTAL = Number(process.env.BENCH_REDIS_TASKS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);

// AMQP methods by name, both ways (a published message counts once: its method frame)
const sent = new Map();
const received = new Map();
const bump = (m, k, n = 1) => m.set(k, (m.get(k) ?? 0) + n);
const nameOf = (id) => defs.info(id)?.name ?? String(id);
const { sendMethod, sendMessage, recvFrame } = Connection.prototype;
Connection.prototype.sendMethod = function (channel, Method, fields) {
  bump(sent, nameOf(Method) + (fields && fields.multiple ? '(multiple)' : ''));
  return sendMethod.apply(this, arguments);
};
Connection.prototype.sendMessage = function (channel, Method) {
  bump(sent, nameOf(Method));
  return sendMessage.apply(this, arguments);
};
let depth = 0;
Connection.prototype.recvFrame = function () {
  // it calls itself once more after reading from the socket: count the outermost call only
  depth++;
  let f;
  try {
    f = recvFrame.apply(this, arguments);
  } finally {
    depth--;
  }
  if (depth === 0 && f && f.fields && typeof f.id === 'number' && f.size === undefined) bump(received, nameOf(f.id) + (f.fields.multiple ? '(multiple)' : ''));
  return f;
};

/** CPU seconds (user + system) of the RabbitMQ server, from /proc. */
function beamCpu() {
  const pids = execFileSync('pgrep', ['-f', 'beam.smp'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  let ms = 0;
  for (const pid of pids) ms += cpuMsOf(pid);
  return ms / 1000;
}

async function redisStats(r) {
  const info = (await r.info('cpu')) + (await r.info('stats')) + (await r.info('commandstats'));
  const num = (k) => Number(new RegExp(`^${k}:(\\S+)`, 'm').exec(info)?.[1] ?? 0);
  const calls = {};
  let scriptUs = 0;
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+),usec=(\d+)/gm)) {
    calls[m[1]] = Number(m[2]);
    if (m[1] === 'evalsha' || m[1] === 'eval') scriptUs += Number(m[3]);
  }
  return { cpu: num('used_cpu_sys') + num('used_cpu_user'), calls, scriptUs, cmds: num('total_commands_processed') };
}

async function snapshot(r) {
  const c = process.cpuUsage();
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const ctx = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { node: (c.user + c.system) / 1e6, sys: c.system / 1e6, vcs: ctx('voluntary_ctxt_switches'), ivcs: ctx('nonvoluntary_ctxt_switches'), beam: beamCpu(), redis: await redisStats(r), sent: new Map(sent), received: new Map(received), t: now() };
}

function diff(a, b, per) {
  const f = (x) => Math.round((x / per) * 1000 * 100) / 100;
  const methods = (ma, mb) =>
    Object.fromEntries([...mb].map(([k, v]) => [k, f(v - (ma.get(k) ?? 0))]).filter(([, v]) => v > 0).sort((x, y) => y[1] - x[1]));
  const calls = Object.fromEntries(
    Object.entries(b.redis.calls)
      .map(([k, v]) => [k, f(v - (a.redis.calls[k] ?? 0))])
      .filter(([k, v]) => v > 0 && k !== 'info')
      .sort((x, y) => y[1] - x[1]),
  );
  return {
    'wall ms / 1k': f(b.t - a.t),
    'node cpu ms / 1k': f((b.node - a.node) * 1000),
    'node of which system ms / 1k': f((b.sys - a.sys) * 1000),
    'node context switches / 1k (voluntary, involuntary)': [f(b.vcs - a.vcs), f(b.ivcs - a.ivcs)],
    'rabbitmq cpu ms / 1k': f((b.beam - a.beam) * 1000),
    'redis cpu ms / 1k': f((b.redis.cpu - a.redis.cpu) * 1000),
    'redis scripts ms / 1k (commandstats)': f((b.redis.scriptUs - a.redis.scriptUs) / 1000),
    'amqp sent / 1k': methods(a.sent, b.sent),
    'amqp received / 1k': methods(a.received, b.received),
    'redis commands / 1k (scripts and their inner commands)': calls,
  };
}

/** A CPU profile of this process from now (BENCH_PROFILE=file: the process phase only, for bench/lib/cpuprofile-top.js). */
async function startProfile() {
  const inspector = require('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (m, p) => new Promise((resolve, reject) => session.post(m, p, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await post('Profiler.stop');
      fs.writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/**
 * A heap sampling profile of this process from now, collected objects included (BENCH_HEAP=1): the
 * bytes allocated per task and the functions allocating most, for the process phase.
 */
async function startHeapSampling() {
  const inspector = require('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (m, p) => new Promise((resolve, reject) => session.post(m, p, (err, res) => (err ? reject(err) : resolve(res))));
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return {
    async stop(per) {
      const { profile } = await post('HeapProfiler.stopSampling');
      session.disconnect();
      const by = new Map();
      let total = 0;
      const walk = (n) => {
        const f = n.callFrame;
        const k = `${f.functionName || '(anonymous)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
        by.set(k, (by.get(k) ?? 0) + n.selfSize);
        total += n.selfSize;
        for (const c of n.children) walk(c);
      };
      walk(profile.head);
      const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => [k, Math.round(v / per)]);
      return { 'allocated bytes / task': Math.round(total / per), 'top (bytes / task)': Object.fromEntries(top) };
    },
  };
}

async function main() {
  const r = new IORedis(REDIS_URL);
  const kind = process.env.BENCH_KIND ?? 'rabbitmq';
  const names = fresh(`cost-${kind}`);
  const engine = kind === 'rabbitmq' ? rabbitRedis(names) : create(kind, names);
  try {
    const s0 = await snapshot(r);
    await within(engine.enqueue(TOTAL, BATCH), PHASE_MS, 'enqueue');
    const s1 = await snapshot(r);
    let done = 0;
    let finish;
    const all = new Promise((resolve) => (finish = resolve));
    const worker = await engine.worker(CONCURRENCY, () => ++done === TOTAL && finish());
    const prof = process.env.BENCH_PROFILE ? await startProfile() : undefined;
    const heap = process.env.BENCH_HEAP ? await startHeapSampling() : undefined;
    const s2 = await snapshot(r);
    await worker.run();
    await within(all, PHASE_MS, () => `${done} of ${TOTAL} succeeded`);
    const s3 = await snapshot(r);
    if (prof) await prof.stop(process.env.BENCH_PROFILE);
    const out = { kind, tasks: TOTAL, concurrency: CONCURRENCY, enqueue: diff(s0, s1, TOTAL), process: diff(s2, s3, TOTAL) };
    if (heap) out.process.heap = await heap.stop(TOTAL);
    out.enqueue['per s'] = Math.round((TOTAL / (s1.t - s0.t)) * 1000);
    out.process['per s'] = Math.round((TOTAL / (s3.t - s2.t)) * 1000);
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    await engine.close();
    await deleteKeys(`${names.prefix}:`);
    r.disconnect();
  }
}

runMain(main);
