--[[
  Counts tasks per status, dropping finished records past their ttl from the indexes first (at most
  1000 per list and call, so that a call stays short).
  KEYS[1] cnt  KEYS[2] done:success  KEYS[3] done:error  KEYS[4] done:cancel  KEYS[5] all (zset)
  ARGV[1] task key prefix
  Returns { new, delayed, process, retry, success, error, cancel, waiting }.
]]
--- @include "drop-expired"
for j, st in ipairs({ 'success', 'error', 'cancel' }) do
  local n = dropExpired(KEYS[1 + j], st, 1000, ARGV[1], KEYS[5])
  if n > 0 then redis.call('HINCRBY', KEYS[1], st, -n) end
end
local out = redis.call('HMGET', KEYS[1], 'new', 'delayed', 'process', 'retry', 'success', 'error', 'cancel', 'waiting')
for i = 1, 8 do out[i] = math.max(0, tonumber(out[i] or '0') or 0) end
return out
