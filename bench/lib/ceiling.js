/**
 * The ceiling: the bare batched-Lua design with no framework around it, on the same Redis, as a
 * row beside the engines. A hash per job; one script enqueues 1,000 jobs; one script records the
 * ends of a batch and claims the next 100 (the shape qtasks's Redis engine has, minus leases,
 * priorities, records, events and everything else). It only has the throughput workload.
 */
'use strict';

const IORedis = require('ioredis');
const { redisOptions } = require('./redis-util');

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

function ceiling({ url, prefix }) {
  const conns = [];
  const conn = () => {
    const c = new IORedis(redisOptions(url));
    conns.push(c);
    return c;
  };
  const keys = [`${prefix}:{c}:j:`, `${prefix}:{c}:wait`];
  return {
    async enqueue(total, batch) {
      const r = conn();
      for (let i = 0; i < total; i += batch) {
        const args = [];
        for (let x = i; x < Math.min(total, i + batch); x++) args.push(String(x), JSON.stringify({ x }));
        await r.eval(ENQUEUE, 2, ...keys, ...args);
      }
    },
    async worker(_concurrency, onSuccess) {
      const r = conn();
      await r.ping();
      return {
        run: async () => {
          let ends = [];
          for (;;) {
            const got = await r.eval(CLAIM, 2, ...keys, '100', ...ends);
            for (let i = 0; i < ends.length; i += 2) onSuccess();
            if (got.length === 0) break;
            ends = [];
            for (let i = 0; i < got.length; i += 2) ends.push(got[i], String(JSON.parse(got[i + 1]).x + 1));
          }
        },
      };
    },
    async roundTrip() {
      throw new Error('the ceiling has only the throughput workload');
    },
    async trips() {
      throw new Error('the ceiling has only the throughput workload');
    },
    async close() {
      for (const c of conns) c.disconnect();
    },
  };
}

module.exports = { ceiling };
