--[[
  Sets shared state values, in the order given: the sets of one tick in one call. A
  stateAddMember count kept beside a value (field `<field>\0#`) goes: it no longer holds.
  KEYS[1] state hash
  ARGV field, value JSON, field, value JSON, ...
]]
for i = 1, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HDEL', KEYS[1], ARGV[i] .. '\0#')
end
return 1
