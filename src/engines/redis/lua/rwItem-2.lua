--[[
  Record writes for a broker of another engine: appends streamed items of a task, in order.
  KEYS[1] items list  KEYS[2] task hash
  ARGV[1..] the items' JSON (one or more)
  Returns the index of the first item, or -1 when the task is unknown (then none is stored).
]]
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local n = redis.call('RPUSH', KEYS[1], unpack(ARGV)) - #ARGV
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return n
