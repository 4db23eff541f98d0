--[[
  Queues a task stored `waiting` that no worker holds (a flow's parent, once its children ended):
  status `new`, at the back of its priority level.
  KEYS[1] task hash  KEYS[2] prios  KEYS[3] cnt  KEYS[4] marker
  ARGV[1] wait list prefix  ARGV[2] now  ARGV[3] id
  Returns 1 when queued, 0 otherwise (also when its stored priority is not a number: nothing is written).
]]
local k, id = KEYS[1], ARGV[3]
local f = redis.pcall('HMGET', k, 'st', 'wid', 'pri')
if f.err or f[1] ~= 'waiting' or f[2] then return 0 end
--- @include "level"
local pri = level(f[3])
if not pri then return 0 end
redis.call('HINCRBY', KEYS[3], 'waiting', -1)
redis.call('HINCRBY', KEYS[3], 'new', 1)
redis.call('HSET', k, 'st', 'new', 'up', ARGV[2])
redis.call('RPUSH', ARGV[1] .. pri, id)
redis.call('ZADD', KEYS[2], pri, pri)
redis.call('ZADD', KEYS[4], 0, '0')
return 1
