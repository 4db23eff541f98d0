--[[
  Adds a number to a shared state value (a value that is not a number counts as 0).
  KEYS[1] state hash
  ARGV[1] field  ARGV[2] amount
  Returns the new value as a string (a JSON number).
]]
local v = (tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') or 0) + tonumber(ARGV[2])
local s = string.format('%.15g', v)
if tonumber(s) ~= v then s = string.format('%.17g', v) end
redis.call('HSET', KEYS[1], ARGV[1], s)
return s
