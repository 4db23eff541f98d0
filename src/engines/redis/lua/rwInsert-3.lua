--[[
  Record writes for a broker of another engine: adds new task records, skipping ids that exist.
  Nothing is queued in Redis (the other engine's broker queues the ids).
  KEYS[1] all (zset: id -> enqueue seq)  KEYS[2] seq  KEYS[3] cnt (hash: tasks per status)
  ARGV[1] task key prefix, then 5 per task: id, fixed data (JSON), priority, status, runAt ('' for none)
  Returns one entry per task: 0 when added, or the existing task's HGETALL ({ 'st', '?' } when the
  key is not a task hash).
  The seq counter, the counts and the index are written once per call (the seqs of the tasks added
  follow each other, in the order given): nothing reads them in between.
]]
local pfx = ARGV[1]
--- @include "many"
local out = {}
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local added, delta, index = 0, {}, {}
for b = 2, #ARGV, 5 do
  local id, pri, st, runAt = ARGV[b], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local k = pfx .. id
  if redis.call('EXISTS', k) == 1 then
    local row = redis.pcall('HGETALL', k)
    out[#out + 1] = row.err and { 'st', '?' } or row
  else
    added = added + 1
    local sq = seq + added
    local set = { 'd', string.sub(ARGV[b + 1], 1, -2) .. ',"seq":' .. sq .. '}', 'st', st }
    if pri ~= '0' then
      set[#set + 1] = 'pri'
      set[#set + 1] = pri
    end
    if runAt ~= '' then
      set[#set + 1] = 'run'
      set[#set + 1] = runAt
    end
    redis.call('HSET', k, unpack(set))
    index[#index + 1] = sq
    index[#index + 1] = id
    delta[st] = (delta[st] or 0) + 1
    out[#out + 1] = 0
  end
end
if added > 0 then
  redis.call('INCRBY', KEYS[2], added)
  many('ZADD', KEYS[1], index)
  for st, n in pairs(delta) do redis.call('HINCRBY', KEYS[3], st, n) end
end
return out
