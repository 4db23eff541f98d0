--[[
  Record writes for a broker of another engine: appends one streamed item of a task.
  KEYS[1] items list  KEYS[2] task hash
  ARGV[1] item JSON
  Returns the item's index, or -1 when the task is unknown.
]]
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local n = redis.call('RPUSH', KEYS[1], ARGV[1]) - 1
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return n
