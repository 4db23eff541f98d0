--[[
  Compare-and-set of one shared state value (the atomic step of `update`).
  KEYS[1] state hash
  ARGV[1] field  ARGV[2] expected JSON ('' for missing)  ARGV[3] new JSON
  Returns 1 when set; otherwise { 0, current JSON or '' }.
]]
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if cur ~= ARGV[2] then return { 0, cur } end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
