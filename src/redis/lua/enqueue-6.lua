--[[
  Adds new tasks (bulk), skipping ids that exist already.
  KEYS[1] prios (zset of priority levels with tasks waiting)  KEYS[2] delayed (zset: score runAt)
  KEYS[3] all (list of ids in enqueue order)  KEYS[4] seq  KEYS[5] cnt (hash: tasks per status)
  KEYS[6] marker (zset: wakes a blocked worker)
  ARGV[1] task key prefix  ARGV[2] wait list prefix (one list per priority level)
  then 4 per task: id, fixed data (JSON), priority, runAt ('' when due now)
  Returns one entry per task: 0 when added, or the existing task's HGETALL.
]]
local pfx, wpfx = ARGV[1], ARGV[2]
local n = (#ARGV - 2) / 4
local seq = redis.call('INCRBY', KEYS[4], n) - n
local out, levels, order, ids = {}, {}, {}, {}
local added, delayed = 0, 0
for i = 0, n - 1 do
  local b = 3 + i * 4
  local id = ARGV[b]
  local k = pfx .. id
  if redis.call('EXISTS', k) == 1 then
    out[i + 1] = redis.call('HGETALL', k)
  else
    seq = seq + 1
    local pri, runAt = ARGV[b + 2], ARGV[b + 3]
    if runAt == '' then
      redis.call('HSET', k, 'd', ARGV[b + 1], 'st', 'new', 'seq', seq, 'pri', pri)
      local l = levels[pri]
      if not l then
        l = {}
        levels[pri] = l
        order[#order + 1] = pri
      end
      l[#l + 1] = id
      added = added + 1
    else
      redis.call('HSET', k, 'd', ARGV[b + 1], 'st', 'delayed', 'seq', seq, 'pri', pri, 'run', runAt)
      redis.call('ZADD', KEYS[2], runAt, id)
      delayed = delayed + 1
    end
    ids[#ids + 1] = id
    out[i + 1] = 0
  end
end
local function push(key, list)
  for s = 1, #list, 1000 do redis.call('RPUSH', key, unpack(list, s, math.min(s + 999, #list))) end
end
for _, pri in ipairs(order) do
  push(wpfx .. pri, levels[pri])
  redis.call('ZADD', KEYS[1], pri, pri)
end
push(KEYS[3], ids)
if added > 0 then redis.call('HINCRBY', KEYS[5], 'new', added) end
if delayed > 0 then redis.call('HINCRBY', KEYS[5], 'delayed', delayed) end
if added + delayed > 0 then redis.call('ZADD', KEYS[6], 0, '0') end
return out
