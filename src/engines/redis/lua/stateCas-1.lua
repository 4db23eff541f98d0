--[[
  Compare-and-set of one shared state value (the atomic step of `update`).
  KEYS[1] state hash
  ARGV[1] field  ARGV[2] expected JSON ('' for missing)  ARGV[3] new JSON
  Returns 1 when set; otherwise { 0, current JSON or '' }. A stateAddMember count kept beside the
  value (field `<field>\0#`) goes: it no longer holds.
]]
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if cur ~= ARGV[2] then return { 0, cur } end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[1], ARGV[1] .. '\0#')
return 1
