--[[
  A claimed task waits for its children (status `waiting`, `self.waitChildren()`) or runs again
  (`process`). It stays in its worker's held set, so its lease and stall recovery are unchanged.
  KEYS[1] task hash  KEYS[2] cnt
  ARGV[1] status it must have  ARGV[2] new status  ARGV[3] worker id  ARGV[4] now
  Returns 1 when changed, 0 when the task is not in that status for that worker.
]]
local f = redis.pcall('HMGET', KEYS[1], 'st', 'wid')
if f.err or f[1] ~= ARGV[1] or f[2] ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'up', ARGV[4])
redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
return 1
