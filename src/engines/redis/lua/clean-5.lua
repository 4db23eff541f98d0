--[[
  Removes finished tasks that ended at or before a time (manager clean), oldest first.
  KEYS[1] cnt  KEYS[2] done:success  KEYS[3] done:error  KEYS[4] done:cancel (lists of finished ids,
  oldest first)  KEYS[5] all (zset: id -> enqueue seq)
  ARGV[1] task key prefix  ARGV[2] items key prefix  ARGV[3] finished at or before (ms)
  ARGV[4] how many at most  ARGV[5..] statuses to clean (success, error, cancel)
  Returns how many were removed.
]]
local pfx, ipfx = ARGV[1], ARGV[2]
local before, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local lists = { success = KEYS[2], error = KEYS[3], cancel = KEYS[4] }
local removed = 0
for i = 5, #ARGV do
  local st = ARGV[i]
  local key = lists[st]
  local popped = 0
  while key and removed < limit do
    local id = redis.call('LINDEX', key, 0)
    if not id then break end
    local f = redis.call('HMGET', pfx .. id, 'st', 'fa')
    if f[1] == st then
      if (tonumber(f[2]) or 0) > before then break end
      redis.call('DEL', pfx .. id, ipfx .. id)
      redis.call('ZREM', KEYS[5], id)
      removed = removed + 1
    end
    -- ids of records gone already (expired) leave the list too; each counted in cnt
    redis.call('LPOP', key)
    popped = popped + 1
  end
  if popped > 0 then redis.call('HINCRBY', KEYS[1], st, -popped) end
end
return removed
