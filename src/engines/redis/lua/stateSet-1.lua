--[[
  Sets one shared state value. A stateAddMember count kept beside it (field `<field>\0#`) goes: it
  no longer holds.
  KEYS[1] state hash
  ARGV[1] field  ARGV[2] value JSON
]]
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[1] .. '\0#')
return 1
