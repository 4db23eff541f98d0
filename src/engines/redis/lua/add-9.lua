--[[
  Adds new tasks (bulk), skipping ids that exist already; an idle worker of the caller may claim the
  new tasks in the same call.
  KEYS[1] prios (zset of priority levels with tasks waiting)  KEYS[2] delayed (zset: score runAt)
  KEYS[3] all (zset: id -> enqueue seq)  KEYS[4] seq  KEYS[5] cnt (hash: tasks per status)
  KEYS[6] marker (zset: wakes a blocked worker)  KEYS[7] meta (hash: paused)
  KEYS[8] leases (zset: worker id -> lease deadline)  KEYS[9] the claiming worker's held set
  ARGV[1] task key prefix  ARGV[2] wait list prefix (one list per priority level)
  ARGV[3] '' (a blocked worker is woken through the marker), '0' (a worker of the caller claims
  right behind: no marker needed, that claim re-arms it when tasks are left) or how many of the new
  tasks the caller's worker claims here (the caller sends only due tasks of one priority then; they
  are claimed when nothing else waits and the queue is not paused)
  ARGV[4] worker id  ARGV[5] now  ARGV[6] lease deadline (used when claiming)
  then 4 per task: id, fixed data (JSON), priority, runAt ('' when due now)
  A task hash holds `d` (fixed data plus its enqueue seq); a missing `st` means 'new', a missing `pri` 0.
  Returns one entry per task: 0 when added, or the existing task's HGETALL; when claiming, one more
  entry: the claimed tasks (flat: id, data, attempt per task). A priority or runAt that is not a
  number fails the call before anything is written.
]]
for b = 7, #ARGV, 4 do
  local p, r = ARGV[b + 2], ARGV[b + 3]
  local n = tonumber(p)
  if not n or n ~= n or n == math.huge or n == -math.huge or string.find(p, '[^%d%.eE%+%-]') or (r ~= '' and not tonumber(r)) then
    return redis.error_reply('ERR qtasks: task ' .. cjson.encode(ARGV[b]) .. ' has a priority or runAt that is not a number')
  end
end
-- the common call alone: one new task due now, claimed at once when nothing else waits and the
-- queue is not paused (same effects as the general path below)
if #ARGV == 10 and ARGV[10] == '' and (tonumber(ARGV[3]) or 0) > 0 then
  local id, pri = ARGV[7], ARGV[9]
  local k = ARGV[1] .. id
  if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('EXISTS', k) == 0 and redis.call('HEXISTS', KEYS[7], 'paused') == 0 then
    local sq = redis.call('INCR', KEYS[4])
    local d = string.sub(ARGV[8], 1, -2) .. ',"seq":' .. sq .. '}'
    local now, wid = ARGV[5], ARGV[4]
    if pri == '0' then
      redis.call('HSET', k, 'd', d, 'st', 'process', 'att', 1, 'sa', now, 'up', now, 'wid', wid)
    else
      redis.call('HSET', k, 'd', d, 'pri', pri, 'st', 'process', 'att', 1, 'sa', now, 'up', now, 'wid', wid)
    end
    redis.call('ZADD', KEYS[3], sq, id)
    redis.call('SADD', KEYS[9], id)
    redis.call('ZADD', KEYS[8], ARGV[6], wid)
    redis.call('HINCRBY', KEYS[5], 'process', 1)
    return { 0, { id, d, 1 } }
  end
end
local pfx, wpfx = ARGV[1], ARGV[2]
local n = (#ARGV - 6) / 4
local seq = redis.call('INCRBY', KEYS[4], n) - n
local out, levels, order, ids = {}, {}, {}, {}
local added, delayed = 0, 0
local asked = tonumber(ARGV[3]) or 0
local want = asked
local claimed, taken = {}, {}
if want > 0 and (redis.call('HEXISTS', KEYS[7], 'paused') == 1 or redis.call('ZCARD', KEYS[1]) > 0) then want = 0 end
local now, wid = ARGV[5], ARGV[4]
for i = 0, n - 1 do
  local b = 7 + i * 4
  local id, pri, runAt = ARGV[b], ARGV[b + 2], ARGV[b + 3]
  local k = pfx .. id
  -- the fixed data carries the enqueue seq; a missing status means 'new', a missing pri 0
  local d = string.sub(ARGV[b + 1], 1, -2) .. ',"seq":' .. (seq + 1) .. '}'
  local isNew, took = false, false
  if #taken < want and runAt == '' then
    if redis.call('EXISTS', k) == 0 then
      isNew, took = true, true
      if pri == '0' then
        redis.call('HSET', k, 'd', d, 'st', 'process', 'att', 1, 'sa', now, 'up', now, 'wid', wid)
      else
        redis.call('HSET', k, 'd', d, 'pri', pri, 'st', 'process', 'att', 1, 'sa', now, 'up', now, 'wid', wid)
      end
      taken[#taken + 1] = id
      claimed[#claimed + 1] = id
      claimed[#claimed + 1] = d
      claimed[#claimed + 1] = 1
    end
  elseif runAt == '' and pri == '0' then
    -- pcall: a key of that name that is not a task hash is reported, not an error half-way
    isNew = redis.pcall('HSETNX', k, 'd', d) == 1
  elseif redis.call('EXISTS', k) == 0 then
    isNew = true
    if runAt == '' then
      redis.call('HSET', k, 'd', d, 'pri', pri)
    else
      redis.call('HSET', k, 'd', d, 'st', 'delayed', 'pri', pri, 'run', runAt)
    end
  end
  if not isNew then
    local row = redis.pcall('HGETALL', k)
    out[i + 1] = row.err and { 'st', '?' } or row
  else
    seq = seq + 1
    if took then
      -- claimed: runs at once
    elseif runAt == '' then
      local l = levels[pri]
      if not l then
        l = {}
        levels[pri] = l
        order[#order + 1] = pri
      end
      l[#l + 1] = id
      added = added + 1
    else
      redis.call('ZADD', KEYS[2], runAt, id)
      delayed = delayed + 1
    end
    ids[#ids + 1] = seq
    ids[#ids + 1] = id
    out[i + 1] = 0
  end
end
local function push(key, list)
  for s = 1, #list, 1000 do redis.call('RPUSH', key, unpack(list, s, math.min(s + 999, #list))) end
end
for s = 1, #ids, 1000 do redis.call('ZADD', KEYS[3], unpack(ids, s, math.min(s + 999, #ids))) end
for _, pri in ipairs(order) do
  push(wpfx .. pri, levels[pri])
  redis.call('ZADD', KEYS[1], pri, pri)
end
if added > 0 then redis.call('HINCRBY', KEYS[5], 'new', added) end
if delayed > 0 then redis.call('HINCRBY', KEYS[5], 'delayed', delayed) end
if #taken > 0 then
  redis.call('SADD', KEYS[9], unpack(taken))
  redis.call('ZADD', KEYS[8], ARGV[6], wid)
  redis.call('HINCRBY', KEYS[5], 'process', #taken)
end
if added + delayed > 0 and ARGV[3] ~= '0' then redis.call('ZADD', KEYS[6], 0, '0') end
if asked > 0 then out[n + 1] = claimed end
return out
