--[[
  Record writes for a broker of another engine: adds new task records, skipping ids that exist.
  Nothing is queued in Redis (the other engine's broker queues the ids).
  KEYS[1] all (zset: id -> enqueue seq)  KEYS[2] seq  KEYS[3] cnt (hash: tasks per status)
  ARGV[1] task key prefix, then 5 per task: id, fixed data (JSON), priority, status, runAt ('' for none)
  Returns one entry per task: 0 when added, or the existing task's HGETALL ({ 'st', '?' } when the
  key is not a task hash).
]]
local pfx = ARGV[1]
local out = {}
for b = 2, #ARGV, 5 do
  local id, pri, st, runAt = ARGV[b], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local k = pfx .. id
  if redis.call('EXISTS', k) == 1 then
    local row = redis.pcall('HGETALL', k)
    out[#out + 1] = row.err and { 'st', '?' } or row
  else
    local sq = redis.call('INCR', KEYS[2])
    local d = string.sub(ARGV[b + 1], 1, -2) .. ',"seq":' .. sq .. '}'
    redis.call('HSET', k, 'd', d, 'st', st)
    if pri ~= '0' then redis.call('HSET', k, 'pri', pri) end
    if runAt ~= '' then redis.call('HSET', k, 'run', runAt) end
    redis.call('ZADD', KEYS[1], sq, id)
    redis.call('HINCRBY', KEYS[3], st, 1)
    out[#out + 1] = 0
  end
end
return out
