/**
 * The ceiling: the bare Lua design with no framework around it, on the same Redis, as a row beside
 * the engines. A hash per job.
 * - Throughput: one script enqueues 1,000 jobs; one script records the ends of a batch and claims
 *   the next 100 (the shape qtasks's Redis engine has, minus leases, priorities, records, events
 *   and everything else).
 * - Round trips (a worker of concurrency 1): the least a Lua-scripted queue with a reliable pop does
 *   per trip. The producer's script writes the job's hash and pushes `id\ndata` on a wait list; the
 *   worker takes it with a blocking BLMOVE onto its active list (as Bee-Queue's BRPOPLPUSH), runs it,
 *   and sends, in one write, the script that records the result, takes the job off the active list
 *   and publishes `id\nresult`, then its next BLMOVE. The producer hears the result on the channel.
 *   Two scripts of two and three calls, one blocking pop and one message per trip: a floor under the
 *   round trips of any engine built this way on this Redis.
 * Scripts go by EVALSHA (ioredis `defineCommand`), as the engines' do.
 */
'use strict';

const { setTimeout: sleep } = require('node:timers/promises');
const IORedis = require('ioredis');
const { redisOptions } = require('./redis-util');
const { now } = require('./workload');

const ENQUEUE = `
for i = 1, #ARGV, 2 do
  redis.call('HSET', KEYS[1] .. ARGV[i], 'd', ARGV[i + 1], 's', 'new')
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
return #ARGV / 2`;

const CLAIM = `
local n = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1] .. ARGV[i], 's', 'done', 'r', ARGV[i + 1])
end
local ids = redis.call('LPOP', KEYS[2], n)
if not ids then return {} end
local out = {}
for _, id in ipairs(ids) do
  redis.call('HSET', KEYS[1] .. id, 's', 'process')
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[1] .. id, 'd')
end
return out`;

// one job of a round trip: its hash, then `id\ndata` on the trip wait list
const ADD_ONE = `
redis.call('HSET', KEYS[1] .. ARGV[1], 'd', ARGV[2], 's', 'new')
redis.call('LPUSH', KEYS[2], ARGV[1] .. '\\n' .. ARGV[2])
return 1`;

// the end of a trip's job (ARGV: id, the active list's entry, result): recorded, off the active
// list, published
const FINISH_ONE = `
redis.call('HSET', KEYS[1] .. ARGV[1], 's', 'done', 'r', ARGV[3])
redis.call('LREM', KEYS[2], 1, ARGV[2])
redis.call('PUBLISH', KEYS[3], ARGV[1] .. '\\n' .. ARGV[3])
return 1`;


function ceiling({ url, prefix }) {
  const conns = [];
  const conn = () => {
    const c = new IORedis(redisOptions(url));
    c.defineCommand('qtbEnqueue', { numberOfKeys: 2, lua: ENQUEUE });
    c.defineCommand('qtbClaim', { numberOfKeys: 2, lua: CLAIM });
    c.defineCommand('qtbAddOne', { numberOfKeys: 2, lua: ADD_ONE });
    c.defineCommand('qtbFinishOne', { numberOfKeys: 3, lua: FINISH_ONE });
    conns.push(c);
    return c;
  };
  const base = `${prefix}:{c}:`;
  const keys = [`${base}j:`, `${base}wait`];
  const trip = { wait: `${base}twait`, active: `${base}active`, channel: `${base}done` };
  let stopped = false;
  let ownWorker;
  // the trips' producer: a command connection, a subscriber and the trips waiting for their result
  let producer;
  const openProducer = async () => {
    if (producer) return producer;
    const cmd = conn();
    const sub = conn();
    const waiting = new Map();
    sub.on('message', (_channel, msg) => {
      const nl = msg.indexOf('\n');
      const resolve = waiting.get(msg.slice(0, nl));
      if (resolve) resolve(msg.slice(nl + 1));
    });
    await sub.subscribe(trip.channel);
    producer = { cmd, waiting, seq: 0 };
    return producer;
  };
  // a worker of concurrency 1 for the round trips: blocking pops, each end sent with the next pop
  const tripWorker = async (onSuccess) => {
    const r = conn();
    await r.ping();
    return {
      run: () => {
        void (async () => {
          let entry = await r.blmove(trip.wait, trip.active, 'RIGHT', 'LEFT', 0);
          while (!stopped && entry) {
            const nl = entry.indexOf('\n');
            const id = entry.slice(0, nl);
            const result = String(JSON.parse(entry.slice(nl + 1)).x + 1);
            const res = await r.pipeline().qtbFinishOne(keys[0], trip.active, trip.channel, id, entry, result).blmove(trip.wait, trip.active, 'RIGHT', 'LEFT', 0).exec();
            if (onSuccess) onSuccess();
            entry = res[1][1];
          }
        })().catch((err) => {
          if (!stopped) throw err;
        });
      },
    };
  };
  const trips = async (count, pauseMs = 0) => {
    const p = await openProducer();
    const out = [];
    for (let i = 0; i < count; i++) {
      if (pauseMs > 0) await sleep(pauseMs);
      const t0 = now();
      const id = String(++p.seq);
      let timer;
      const heard = new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the result of trip ${id} was not heard within 5 s`)), 5_000);
        p.waiting.set(id, resolve);
      });
      try {
        await p.cmd.qtbAddOne(keys[0], trip.wait, id, JSON.stringify({ x: i }));
        await heard;
      } finally {
        // also when the add failed: its timer must not reject a promise nobody awaits
        clearTimeout(timer);
        p.waiting.delete(id);
      }
      out.push(now() - t0);
    }
    return out;
  };
  return {
    async enqueue(total, batch) {
      const r = conn();
      for (let i = 0; i < total; i += batch) {
        const args = [];
        for (let x = i; x < Math.min(total, i + batch); x++) args.push(String(x), JSON.stringify({ x }));
        await r.qtbEnqueue(...keys, ...args);
      }
    },
    /** Concurrency 1: the round trips' worker (above); more: the throughput's batched claims until the queue is empty. */
    async worker(concurrency, onSuccess) {
      if (concurrency === 1) return tripWorker(onSuccess);
      const r = conn();
      await r.ping();
      return {
        run: async () => {
          let ends = [];
          for (;;) {
            const got = await r.qtbClaim(...keys, '100', ...ends);
            for (let i = 0; i < ends.length; i += 2) onSuccess();
            if (got.length === 0) break;
            ends = [];
            for (let i = 0; i < got.length; i += 2) ends.push(got[i], String(JSON.parse(got[i + 1]).x + 1));
          }
        },
      };
    },
    async roundTrip(count) {
      // one worker for every call: this object both enqueues and works
      if (!ownWorker) {
        ownWorker = await tripWorker(undefined);
        ownWorker.run();
      }
      return trips(count);
    },
    trips,
    async close() {
      stopped = true;
      for (const c of conns) c.disconnect();
    },
  };
}

module.exports = { ceiling };
