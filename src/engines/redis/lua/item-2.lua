--[[
  Appends one streamed item of a running task and tells stream readers.
  KEYS[1] items list  KEYS[2] task hash
  ARGV[1] event channel  ARGV[2] item JSON  ARGV[3] id as JSON
  Returns the item's index.
]]
-- a key written over with another type holds no items: it is replaced, never left to fail the task
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'list' and t ~= 'none' then redis.call('DEL', KEYS[1]) end
local n = redis.call('RPUSH', KEYS[1], ARGV[2]) - 1
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
redis.call('PUBLISH', ARGV[1], 'i[' .. ARGV[3] .. ',' .. n .. ',' .. ARGV[2] .. ']')
return n
