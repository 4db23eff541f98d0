/**
 * Where a round trip's Redis work goes: runs N trips of qtasks in each of the three ways
 * (one app; producer and worker apps in one process; worker in another process) and prints
 * - the mean time per trip and the Redis commands per trip by command, read from INFO commandstats
 *   before and after (every client of the server is counted: use a Redis of its own);
 * - where the CPU went per trip: Redis's time inside commands (commandstats usec, scripts by
 *   command) and its whole CPU (INFO cpu: commands, network and event loop), and the CPU of this
 *   process and, in the third way, of the worker process; the same figures for Bee-Queue and for the
 *   bare-Lua floor of a trip (bench/lib/ceiling.js), run the same way right after, for comparison;
 * - from a second run of N trips watched with MONITOR, only this run's keys counted (so other
 *   clients of the server do not count): the commands sent per trip by connection (the round
 *   trips, with the connection's name and port), the commands run inside scripts per trip, and the
 *   timers (setTimeout, setInterval, setImmediate) this process made per trip.
 * A process's CPU is also given for its main thread alone (the one that runs JavaScript; the rest
 * is V8's compiler and GC threads), read from /proc (Linux): with both apps in one process, that
 * thread runs the whole trip's JavaScript.
 *
 * Run: `npm run build && node bench/trip-profile.js` (env: REDIS_URL, TRIPS=500).
 */
'use strict';

const { runMain } = require('./lib/run-main');

const path = require('node:path');
const { fork } = require('node:child_process');
const IORedis = require('ioredis');
const { create } = require('./lib/engines');
const { REDIS_URL, deleteKeys, commandStats, commandDelta, redisCpu } = require('./lib/redis-util');
const { cpuMsOf, mainThreadCpuMsOf } = require('./lib/proc-cpu');

const TRIPS = Number(process.env.TRIPS ?? 500);
/** Per engine: the prefix of its runs' key tags and of its printed lines. */
const WHO = { qtasks: ['', ''], 'bee-queue': ['bee-', 'Bee-Queue, '], ceiling: ['floor-', 'bare Lua (ceiling), '] };

async function measure(way, r, kind = 'qtasks') {
  const tag = `${WHO[kind][0]}${way.replace(' ', '-')}`;
  const names = { url: REDIS_URL, name: `prof-${tag}-${process.pid}`, prefix: `qtb-prof-${process.pid}-${tag}` };
  const engines = [];
  let child;
  try {
    let trips;
    if (way === 'one app') {
      const e = create(kind, names);
      engines.push(e);
      // a Bee-Queue queue takes one process() handler: each batch of trips gets a queue of its own
      trips =
        kind !== 'bee-queue'
          ? (n) => e.roundTrip(n)
          : (n) => {
              const next = create(kind, names);
              engines.push(next);
              return next.roundTrip(n);
            };
    } else if (way === 'two apps') {
      const w = create(kind, names);
      engines.push(w);
      await (await w.worker(1, undefined)).run();
      const p = create(kind, names);
      engines.push(p);
      trips = (n) => p.trips(n);
    } else {
      child = fork(path.join(__dirname, 'redis-worker.js'), [JSON.stringify({ kind, ...names, concurrency: 1, report: false })]);
      await new Promise((resolve) => child.on('message', (m) => m.type === 'ready' && resolve()));
      child.send('go');
      const p = create(kind, names);
      engines.push(p);
      trips = (n) => p.trips(n);
    }
    await trips(50);
    const before = await commandStats(r);
    const redisBefore = await redisCpu(r);
    const cpu0 = process.cpuUsage();
    const child0 = child ? cpuMsOf(child.pid) : 0;
    const main0 = mainThreadCpuMsOf(process.pid);
    const childMain0 = child ? mainThreadCpuMsOf(child.pid) : 0;
    const t0 = process.hrtime.bigint();
    await trips(TRIPS);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    const childMs = child ? cpuMsOf(child.pid) - child0 : 0;
    const mainMs = mainThreadCpuMsOf(process.pid) - main0;
    const childMainMs = child ? mainThreadCpuMsOf(child.pid) - childMain0 : 0;
    const redisMs = ((await redisCpu(r)) - redisBefore) * 1000;
    const after = await commandStats(r);
    const d = commandDelta(before, after);
    const per = Object.fromEntries(Object.entries(d).map(([k, v]) => [k, +(v.calls / TRIPS).toFixed(2)]));
    const total = Object.values(d).reduce((a, b) => a + b.calls, 0) / TRIPS;
    const us = (x) => ((x * 1000) / TRIPS).toFixed(0);
    const inCommands = Object.values(d).reduce((a, b) => a + b.usec, 0) / 1000;
    const scripts = Object.entries(d)
      .filter(([k]) => k === 'evalsha' || k === 'eval' || k === 'exec')
      .map(([k, v]) => `${k} ${(v.usec / v.calls).toFixed(1)} µs × ${(v.calls / TRIPS).toFixed(2)}`)
      .join(', ');
    const label = `${WHO[kind][1]}${way}`;
    console.log(`${label}: ${(ms / TRIPS).toFixed(3)} ms per trip (mean), ${total.toFixed(2)} Redis commands per trip (of every process): ${JSON.stringify(per)}`);
    console.log(
      `  CPU per trip: Redis ${us(redisMs)} µs (in commands ${us(inCommands)} µs; ${scripts}), ` +
        `this process ${us((cpu.user + cpu.system) / 1000)} µs (main thread ${us(mainMs)})` +
        `${child ? `, worker process ${us(childMs)} µs (main thread ${us(childMainMs)})` : ''}`,
    );
    if (kind !== 'qtasks') return;
    const w = await watched(names.prefix, () => trips(TRIPS));
    console.log(`  watched: ${w.sent} commands sent per trip ${JSON.stringify(w.byConnection)}, ${w.inScripts} run inside scripts, ${w.timers} timers made here per trip`);
  } finally {
    if (child) {
      child.send('stop');
      await new Promise((r2) => child.once('exit', r2));
    }
    for (const e of engines) await e.close();
    await deleteKeys(`${names.prefix}:`);
  }
}

/**
 * Runs `run` (TRIPS trips) under MONITOR, counting only commands that name a key under `prefix`,
 * and the timers this process makes meanwhile.
 */
async function watched(prefix, run) {
  const names = new Map();
  const admin = new IORedis(REDIS_URL);
  const mon = await new IORedis(REDIS_URL).monitor();
  let inScripts = 0;
  const sent = new Map();
  mon.on('monitor', (_time, args, source) => {
    if (!args.some((a) => String(a).includes(prefix))) return;
    if (source === 'lua') inScripts++;
    else sent.set(source, (sent.get(source) ?? 0) + 1);
  });
  // MONITOR starts reporting once its reply is in: a command to our keys marks that point
  await new Promise((r) => setTimeout(r, 100));
  inScripts = 0;
  sent.clear();
  const timers = { setTimeout: global.setTimeout, setInterval: global.setInterval, setImmediate: global.setImmediate };
  let made = 0;
  for (const [k, f] of Object.entries(timers)) global[k] = (...a) => (made++, f(...a));
  try {
    await run();
  } finally {
    Object.assign(global, timers);
  }
  await new Promise((r) => setTimeout(r, 100));
  for (const line of (await admin.client('LIST')).split('\n')) {
    const addr = /addr=(\S+)/.exec(line)?.[1];
    if (addr) names.set(addr, /name=(\S*)/.exec(line)?.[1] || '?');
  }
  mon.disconnect();
  admin.disconnect();
  const per = (n) => +(n / TRIPS).toFixed(2);
  const byConnection = {};
  let total = 0;
  for (const [src, n] of sent) {
    total += n;
    if (n / TRIPS >= 0.005) byConnection[`${names.get(src) ?? 'closed'}@${src.split(':').pop()}`] = per(n);
  }
  return { sent: per(total), byConnection, inScripts: per(inScripts), timers: per(made) };
}

async function main() {
  const r = new IORedis(REDIS_URL);
  try {
    for (const way of ['one app', 'two apps', 'worker process']) {
      await measure(way, r);
      await measure(way, r, 'bee-queue');
      await measure(way, r, 'ceiling');
    }
  } finally {
    r.disconnect();
  }
}

runMain(main);
