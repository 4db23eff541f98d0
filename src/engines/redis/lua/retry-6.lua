--[[
  Queues an `error` or `cancel` task again (manager retry): same id, attempt reset.
  KEYS[1] task hash  KEYS[2] prios  KEYS[3] cnt  KEYS[4] done:error  KEYS[5] done:cancel  KEYS[6] marker
  ARGV[1] items key  ARGV[2] wait list prefix  ARGV[3] now  ARGV[4] id
  Returns 1 when queued again, 0 otherwise (also when its stored priority is not a number: it
  cannot be queued, and nothing is written).
]]
local k, id = KEYS[1], ARGV[4]
local f = redis.pcall('HMGET', k, 'st', 'pri')
if f.err then return 0 end
if f[1] ~= 'error' and f[1] ~= 'cancel' then return 0 end
local pri = f[2] or '0'
local n = tonumber(pri)
if not n or n ~= n or n == math.huge or n == -math.huge or string.find(pri, '[^%d%.eE%+%-]') then return 0 end
redis.call('LREM', f[1] == 'error' and KEYS[4] or KEYS[5], 1, id)
redis.call('HINCRBY', KEYS[3], f[1], -1)
redis.call('HINCRBY', KEYS[3], 'new', 1)
redis.call('PERSIST', k)
redis.call('PERSIST', ARGV[1])
redis.call('HDEL', k, 'err', 'cr', 'fa', 'ret', 'stl', 'cx', 'wid', 'sa', 'prog', 'run', 'lg', 'ah')
redis.call('HSET', k, 'st', 'new', 'att', 0, 'up', ARGV[3])
redis.call('RPUSH', ARGV[2] .. pri, id)
redis.call('ZADD', KEYS[2], pri, pri)
redis.call('ZADD', KEYS[6], 0, '0')
return 1
