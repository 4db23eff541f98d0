/**
 * Redis helpers of the benchmarks: connection options from a URL, the server version, and
 * deleting every key under a prefix after a run.
 */
'use strict';

const IORedis = require('ioredis');

/** REDIS_URL or the local default. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** `{ host, port, username?, password?, db }` of a redis:// URL (ioredis and node-redis take these). */
function redisOptions(url = REDIS_URL) {
  const u = new URL(url);
  const out = { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) };
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  const db = Number(u.pathname.replace(/^\//, '') || 0);
  if (db) out.db = db;
  return out;
}

/** A plain ioredis client that fails fast when Redis is down. */
function client(url = REDIS_URL) {
  const r = new IORedis(url, { maxRetriesPerRequest: 1, connectTimeout: 3_000, lazyConnect: true, retryStrategy: () => null });
  // Failures surface through the command that hit them.
  r.on('error', (err) => (r.lastError = err));
  return r;
}

/** The Redis server version, e.g. "7.0.15"; throws a clear error when Redis is unreachable. */
async function redisVersion(url = REDIS_URL) {
  const r = client(url);
  try {
    await r.connect();
    const info = await r.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch (err) {
    throw new Error(`Redis is unreachable at ${url} (set REDIS_URL): ${(r.lastError ?? err).message}`);
  } finally {
    r.disconnect();
  }
}

/** Deletes every key starting with `prefix`; returns how many. */
async function deleteKeys(prefix, url = REDIS_URL) {
  const r = client(url);
  let n = 0;
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length > 0) n += await r.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}

/** Median of 500 sequential PINGs in ms: the floor under any round trip. */
async function pingMs(url = REDIS_URL) {
  const r = client(url);
  try {
    await r.connect();
    const ms = [];
    for (let i = 0; i < 600; i++) {
      const t0 = process.hrtime.bigint();
      await r.ping();
      if (i >= 100) ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ms.sort((a, b) => a - b);
    return ms[ms.length >> 1];
  } finally {
    r.disconnect();
  }
}

/** Deletes keys left by benchmark runs (`qtb-<engine>-<pid>-…`) whose process is gone. */
async function deleteStale(url = REDIS_URL) {
  const r = client(url);
  const dead = new Set();
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', 'qtb-*', 'COUNT', 5000);
      cursor = next;
      for (const key of keys) {
        const m = /^(qtb-[^:]*?-(\d+)-[^:]*):/.exec(key);
        if (m && !alive(Number(m[2]))) dead.add(m[1]);
      }
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  for (const prefix of dead) await deleteKeys(`${prefix}:`, url);
  return dead.size;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** `{ command: { calls, usec } }` from INFO commandstats of connection `r` (Lua's own commands included). */
async function commandStats(r) {
  const text = await r.info('commandstats');
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) out[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return out;
}

/** Redis's CPU seconds so far (main thread and others: user + system), from INFO cpu of connection `r`. */
async function redisCpu(r) {
  const text = await r.info('cpu');
  let s = 0;
  for (const m of text.matchAll(/^used_cpu_(sys|user):([\d.]+)/gm)) s += Number(m[2]);
  return s;
}

/** What `after` counts beyond `before` (both from {@link commandStats}), without INFO itself. */
function commandDelta(before, after) {
  const out = {};
  for (const [k, v] of Object.entries(after)) {
    const calls = v.calls - (before[k]?.calls ?? 0);
    if (calls > 0 && k !== 'info') out[k] = { calls, usec: v.usec - (before[k]?.usec ?? 0) };
  }
  return out;
}

module.exports = { REDIS_URL, client, redisOptions, redisVersion, pingMs, deleteKeys, deleteStale, commandStats, commandDelta, redisCpu };
