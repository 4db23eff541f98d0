--[[
  Appends streamed items of a running task, in order, and tells stream readers (one message per
  item).
  KEYS[1] items list  KEYS[2] task hash
  ARGV[1] event channel  ARGV[2] id as JSON  ARGV[3..] the items' JSON
  Returns the index of the last item.
]]
-- a key written over with another type holds no items: it is replaced, never left to fail the task
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'list' and t ~= 'none' then redis.call('DEL', KEYS[1]) end
local n = redis.call('RPUSH', KEYS[1], unpack(ARGV, 3)) - 1
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
local first = n - (#ARGV - 3)
for i = 3, #ARGV do
  redis.call('PUBLISH', ARGV[1], 'i[' .. ARGV[2] .. ',' .. (first + i - 3) .. ',' .. ARGV[i] .. ']')
end
return n
