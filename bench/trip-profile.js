/**
 * Where a round trip's Redis work goes: runs N trips of qtasks in each of the three ways
 * (one app; producer and worker apps in one process; worker in another process) and prints the
 * Redis commands per trip, by command, read from INFO commandstats before and after.
 *
 * Run: `npm run build && node bench/trip-profile.js` (env: REDIS_URL, TRIPS=500).
 */
'use strict';

const path = require('node:path');
const { fork } = require('node:child_process');
const IORedis = require('ioredis');
const { create } = require('./lib/engines');
const { REDIS_URL, deleteKeys } = require('./lib/redis-util');

const TRIPS = Number(process.env.TRIPS ?? 500);

async function commandStats(r) {
  const text = await r.info('commandstats');
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

function diff(a, b) {
  const out = {};
  for (const [k, v] of Object.entries(b)) if (v - (a[k] ?? 0) > 0) out[k] = v - (a[k] ?? 0);
  return out;
}

async function measure(way, r) {
  const names = { url: REDIS_URL, name: `prof-${way.replace(" ", "-")}-${process.pid}`, prefix: `qtb-prof-${process.pid}-${way.replace(" ", "-")}` };
  const engines = [];
  let child;
  try {
    let trips;
    if (way === 'one app') {
      const e = create('qtasks', names);
      engines.push(e);
      trips = (n) => e.roundTrip(n);
    } else if (way === 'two apps') {
      const w = create('qtasks', names);
      engines.push(w);
      await (await w.worker(1, () => undefined)).run();
      const p = create('qtasks', names);
      engines.push(p);
      trips = (n) => p.trips(n);
    } else {
      child = fork(path.join(__dirname, 'redis-worker.js'), [JSON.stringify({ kind: 'qtasks', ...names, concurrency: 1 })]);
      await new Promise((resolve) => child.on('message', (m) => m.type === 'ready' && resolve()));
      child.send('go');
      const p = create('qtasks', names);
      engines.push(p);
      trips = (n) => p.trips(n);
    }
    await trips(50);
    const before = await commandStats(r);
    const t0 = process.hrtime.bigint();
    await trips(TRIPS);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const after = await commandStats(r);
    const d = diff(before, after);
    delete d.info;
    const per = Object.fromEntries(Object.entries(d).map(([k, v]) => [k, +(v / TRIPS).toFixed(2)]));
    const total = Object.values(d).reduce((a, b) => a + b, 0) / TRIPS;
    console.log(`${way}: ${(ms / TRIPS).toFixed(3)} ms per trip (mean), ${total.toFixed(2)} Redis commands per trip (of every process): ${JSON.stringify(per)}`);
  } finally {
    if (child) {
      child.send('stop');
      await new Promise((r2) => child.once('exit', r2));
    }
    for (const e of engines) await e.close();
    await deleteKeys(`${names.prefix}:`);
  }
}

async function main() {
  const r = new IORedis(REDIS_URL);
  try {
    for (const way of ['one app', 'two apps', 'worker process']) await measure(way, r);
  } finally {
    r.disconnect();
  }
}

main().then(
  () => setTimeout(() => process.exit(0), 100).unref(),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
