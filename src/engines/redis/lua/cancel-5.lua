--[[
  Cancels a task: a queued or delayed one ends `cancel` at once; a running one is flagged and its
  worker is told on the event channel (it aborts the run and records the end), as is a
  claimed task waiting for its children.
  KEYS[1] task hash  KEYS[2] delayed  KEYS[3] cnt  KEYS[4] done:cancel  KEYS[5] cancel requests (set)
  ARGV[1] items key  ARGV[2] wait list prefix  ARGV[3] event channel  ARGV[4] now  ARGV[5] result ttl (ms)
  ARGV[6] reason ('-' none, '=' .. reason)  ARGV[7] id  ARGV[8] control channel (workers listen)
  Returns 0 when unknown or finished, 1 when cancelled, 2 when a running task was asked to stop.
]]
local k, id = KEYS[1], ARGV[7]
local now = tonumber(ARGV[4])
local f = redis.pcall('HMGET', k, 'st', 'wid', 'pri', 'd')
if f.err or not f[4] then return 0 end
local st = f[1] or 'new'
if st == 'success' or st == 'error' or st == 'cancel' then return 0 end
-- a claimed task waiting for its children is told like a running one (its worker ends it)
if st == 'process' or (st == 'waiting' and f[2]) then
  redis.call('HSET', k, 'cx', ARGV[6])
  redis.call('SADD', KEYS[5], id)
  redis.call('PUBLISH', ARGV[8], 'c' .. cjson.encode({ id, f[2], ARGV[6] }))
  return 2
end
if redis.call('ZREM', KEYS[2], id) == 0 then redis.call('LREM', ARGV[2] .. (f[3] or '0'), 1, id) end
redis.call('HINCRBY', KEYS[3], st, -1)
redis.call('HINCRBY', KEYS[3], 'cancel', 1)
redis.call('HSET', k, 'st', 'cancel', 'cr', ARGV[6], 'fa', now)
redis.call('PEXPIRE', k, ARGV[5])
redis.call('PEXPIRE', ARGV[1], ARGV[5])
redis.call('RPUSH', KEYS[4], id)
redis.call('PUBLISH', ARGV[3], 'f[' .. cjson.encode(id) .. ']')
return 1
