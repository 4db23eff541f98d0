--[[
  Deletes shared state values, with the count a stateAddMember set keeps beside a value (field
  `<field>\0#`).
  KEYS[1] state hash
  ARGV the fields
  Returns 1 per field that existed, else 0, in the order given.
]]
local out = {}
for i = 1, #ARGV do
  out[i] = redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[1], ARGV[i] .. '\0#')
end
return out
