--[[
  Counts tasks per status, dropping finished records past their ttl from the indexes first (at most
  1000 per list and call, so that a call stays short).
  KEYS[1] cnt  KEYS[2] done:success  KEYS[3] done:error  KEYS[4] done:cancel  KEYS[5] all (zset)
  ARGV[1] task key prefix
  Returns { new, delayed, process, retry, success, error, cancel }.
]]
local pfx = ARGV[1]
local statuses = { 'success', 'error', 'cancel' }
for j = 2, 4 do
  local st = statuses[j - 1]
  local n = 0
  while n < 1000 do
    local id = redis.call('LINDEX', KEYS[j], 0)
    if not id then break end
    local cur = redis.call('HGET', pfx .. id, 'st')
    if cur == st then break end
    redis.call('LPOP', KEYS[j])
    if not cur and redis.call('EXISTS', pfx .. id) == 0 then redis.call('ZREM', KEYS[5], id) end
    n = n + 1
  end
  if n > 0 then redis.call('HINCRBY', KEYS[1], st, -n) end
end
local out = redis.call('HMGET', KEYS[1], 'new', 'delayed', 'process', 'retry', 'success', 'error', 'cancel')
for i = 1, 7 do out[i] = math.max(0, tonumber(out[i] or '0') or 0) end
return out
