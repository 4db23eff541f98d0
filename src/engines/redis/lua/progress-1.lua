--[[
  Keeps a running task's progress on its record and emits `task:progress` in every process.
  KEYS[1] task hash
  ARGV[1] event channel  ARGV[2] progress JSON  ARGV[3] now  ARGV[4] event JSON
]]
-- gone, or not a task hash (written over by hand): nothing to keep it on
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
redis.call('HSET', KEYS[1], 'prog', ARGV[2], 'up', ARGV[3])
redis.call('PUBLISH', ARGV[1], 'p' .. ARGV[4])
return 1
