--[[
  Adds new tasks (bulk), skipping ids that exist already; an idle worker of the caller may claim the
  new tasks in the same call.
  KEYS[1] the queue's key base (`prefix:{tag}:`): every key the script touches starts with it, and
  is named here from it (each argument costs Redis more to parse and hand to the script than a
  name costs to build, and a key given routes the call to the queue's slot on a Redis Cluster):
  `<base>prios` (zset of priority levels with tasks waiting), `delayed` (zset: score runAt), `idx`
  (all tasks, zset: id -> enqueue seq), `seq`, `cnt` (hash: tasks per status), `marker` (zset: wakes
  a blocked worker), `meta` (hash: paused), `leases` (zset: worker id -> lease deadline), `idle`
  (idle workers, hash: worker id -> `want:expires:leaseMs`), `held:<worker id>` (a worker's held
  set), `inbox:<worker id>`, `t:<id>` (a task), `w:<level>` (one wait list per priority level)
  ARGV[1] '' (a blocked worker is woken through the marker), '0' (a worker of the caller claims
  right behind: no marker needed, that claim re-arms it when tasks are left) or how many of the new
  tasks the caller's worker claims here (the caller sends only due tasks of one priority then; they
  are claimed when nothing else waits and the queue is not paused)
  ARGV[2] worker id  ARGV[3] now  ARGV[4] lease deadline (used when claiming)
  ARGV[5] the priority of every task when all are due now (then 2 per task: id, head), else ''
  (then 4 per task: id, head, priority, runAt ('' when due now))
  A head is the task's fixed data (JSON) without its closing brace, ending in `,"seq":`: the script
  appends the enqueue seq and the brace.
  With ARGV[1] '', new tasks due now of one priority, nothing else waiting and the queue not paused,
  an idle worker (registered in `idle` by its finish call when it found the queue empty) gets them
  handed over, up to the number it wants: claimed for it (held, leased for its lease length) and put
  in its inbox, which it waits on; the rest wait in the queue (marker).
  A task hash holds `d` (fixed data with its enqueue seq); a missing `st` means 'new', a missing `pri` 0.
  Returns { existing, claimed }: existing lists the tasks whose id existed already (flat: the task's
  index in this call from 0, its HGETALL); claimed, when the caller's worker claims, the claimed
  tasks (flat: id, data, attempt per task). Instead of { {}, {} } it returns 0, instead of { {},
  claimed } claimed alone (a table in a reply costs Redis more than the rest of a reply). A
  priority or runAt that is not a number fails the call before anything is written.
]]
-- key names are built where they are used: the common calls below build only theirs, each in one
-- concatenation
local B = KEYS[1]
local uni = ARGV[5]
local step = uni == '' and 4 or 2
--- @include "level"
--- @include "idle-entry"
if step == 2 then
  if uni ~= '0' and not level(uni) then
    return redis.error_reply('ERR qtasks: task ' .. cjson.encode(ARGV[6]) .. ' has a priority or runAt that is not a number')
  end
else
  for b = 6, #ARGV, 4 do
    local r = ARGV[b + 3]
    if not level(ARGV[b + 2]) or (r ~= '' and not tonumber(r)) then
      return redis.error_reply('ERR qtasks: task ' .. cjson.encode(ARGV[b]) .. ' has a priority or runAt that is not a number')
    end
  end
end
local asked = tonumber(ARGV[1]) or 0
local now, wid = ARGV[3], ARGV[2]
-- the hash of a new task `k` (data `d`) claimed at once by worker `w` (its priority kept unless 0)
local function claimedNew(k, d, pri, w)
  if pri == '0' then
    redis.call('HSET', k, 'd', d, 'st', 'process', 'att', '1', 'sa', now, 'wid', w)
  else
    redis.call('HSET', k, 'd', d, 'pri', pri, 'st', 'process', 'att', '1', 'sa', now, 'wid', w)
  end
end
-- the common call alone: one new task due now, claimed at once when nothing else waits and the
-- queue is not paused (same effects as the general path below)
if #ARGV == 7 and step == 2 and asked > 0 then
  local id, pri = ARGV[6], uni
  local k = B .. 't:' .. id
  if redis.call('ZCARD', B .. 'prios') == 0 and redis.call('EXISTS', k) == 0 and redis.call('HEXISTS', B .. 'meta', 'paused') == 0 then
    local sq = string.format('%d', redis.call('INCR', B .. 'seq'))
    local d = ARGV[7] .. sq .. '}'
    claimedNew(k, d, pri, wid)
    redis.call('ZADD', B .. 'idx', sq, id)
    redis.call('SADD', B .. 'held:' .. wid, id)
    redis.call('ZADD', B .. 'leases', ARGV[4], wid)
    redis.call('HINCRBY', B .. 'cnt', 'process', '1')
    return { id, d, 1 }
  end
end
-- the common call alone: one new task due now handed over to the first idle worker that wants
-- tasks, when nothing else waits and the queue is not paused (same effects as the general path
-- below, which takes the call when no idle worker wants tasks; numbers stay the strings they came as).
-- First in the order the workers entered idle: a worker that enters again keeps its place, so
-- sporadic tasks keep reaching the same worker, warm from the last one (a random pick, HRANDFIELD
-- then HGET, reads one entry where HGETALL reads all, but spread over 8 young worker processes it
-- made sporadic trips slower here: p50 1.45-1.80 ms against 1.20-1.28)
local idle
if #ARGV == 7 and step == 2 and ARGV[1] == '' then
  local IDLE = B .. 'idle'
  idle = redis.call('HGETALL', IDLE)
  local id = ARGV[6]
  local k = B .. 't:' .. id
  if #idle > 0 and redis.call('ZCARD', B .. 'prios') == 0 and redis.call('HEXISTS', B .. 'meta', 'paused') == 0 and redis.call('EXISTS', k) == 0 then
    local nowN = tonumber(now)
    for j = 1, #idle, 2 do
      local w, v = idle[j], idle[j + 1]
      local want, expires, lease, a = idleEntry(v)
      if not want or not expires or not lease or expires < nowN then
        redis.call('HDEL', IDLE, w)
      elseif want > 0 then
        local sq = string.format('%d', redis.call('INCR', B .. 'seq'))
        local d = ARGV[7] .. sq .. '}'
        claimedNew(k, d, uni, w)
        -- the entry stays (want 0) until the worker's next call (see below)
        redis.call('HSET', IDLE, w, '0' .. string.sub(v, a))
        redis.call('ZADD', B .. 'inbox:' .. w, sq, '1\n' .. d .. '\n' .. id)
        redis.call('SADD', B .. 'held:' .. w, id)
        -- formatted here: a Lua number given to redis.call is formatted with %.17g, which costs more
        redis.call('ZADD', B .. 'leases', string.format('%d', nowN + lease), w)
        redis.call('HINCRBY', B .. 'cnt', 'process', '1')
        redis.call('ZADD', B .. 'idx', sq, id)
        return 0
      end
    end
    -- no idle worker wants tasks (expired and unreadable entries were dropped above): the general
    -- path below has none to hand over to
    idle = {}
  end
end
local pfx, wpfx = B .. 't:', B .. 'w:'
local PRIOS, DELAYED, ALL, SEQ, CNT, MARKER, META, LEASES, IDLE = B .. 'prios', B .. 'delayed', B .. 'idx', B .. 'seq', B .. 'cnt', B .. 'marker', B .. 'meta', B .. 'leases', B .. 'idle'
local IPFX, HPFX = B .. 'inbox:', B .. 'held:'
local HELD = HPFX .. ARGV[2]
local n = (#ARGV - 5) / step
local seq = redis.call('INCRBY', SEQ, n) - n
local existing, nexisting, levels, order, ids, nids = {}, 0, {}, {}, {}, 0
-- delayed tasks join `delayed` in one ZADD after the loop (`later`, flat: runAt, id)
local added, delayed, later = 0, 0, {}
local want = asked
local claimed, taken, ntaken = {}, {}, 0
if want > 0 and (redis.call('HEXISTS', META, 'paused') == 1 or redis.call('ZCARD', PRIOS) > 0) then want = 0 end
-- tasks that may be handed over to an idle worker: their data and seq by id (the idle workers are
-- read once, here: nothing below changes them before the hand-over)
if ARGV[1] ~= '' then idle = {} elseif not idle then idle = redis.call('HGETALL', IDLE) end
local mayHand = #idle > 0
local dataOf, seqOf = {}, {}
local pri, runAt, lastPri, wait, nlevel = uni, '', nil, nil, 0
-- the enqueue seq as a string without formatting a number per task (tostring's sprintf costs Redis
-- ~3,000 instructions a task, a tenth of a bulk add): the digits above the last two once per hundred
-- seqs, the last two from this table (the same text as tostring below 1e14)
local two = {
  '00', '01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19',
  '20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33', '34', '35', '36', '37', '38', '39',
  '40', '41', '42', '43', '44', '45', '46', '47', '48', '49', '50', '51', '52', '53', '54', '55', '56', '57', '58', '59',
  '60', '61', '62', '63', '64', '65', '66', '67', '68', '69', '70', '71', '72', '73', '74', '75', '76', '77', '78', '79',
  '80', '81', '82', '83', '84', '85', '86', '87', '88', '89', '90', '91', '92', '93', '94', '95', '96', '97', '98', '99',
}
local hi
local argv, rpcall = ARGV, redis.pcall
-- a task whose id exists already (key `k`, index `i` in this call from 0) is reported with its
-- HGETALL (pcall: a key of that name that is not a task hash is reported as status '?')
local function reportExisting(i, k)
  local row = rpcall('HGETALL', k)
  existing[nexisting + 1] = i
  existing[nexisting + 2] = row.err and { 'st', '?' } or row
  nexisting = nexisting + 2
end
if step == 2 and uni == '0' and want == 0 then
  -- the bulk add (all due now at priority 0, none claimed in the call) on a loop of its own, with
  -- fewer steps per task: the same effects as the general loop below
  wait = {}
  for b = 6, #argv, 2 do
    local id = argv[b]
    local s = seq + 1
    local lo = s % 100
    if lo == 0 or not hi then hi = s < 100 and '' or tostring((s - lo) / 100) end
    local sq = hi == '' and tostring(s) or hi .. two[lo + 1]
    local d = argv[b + 1] .. sq .. '}'
    -- pcall: a key of that name that is not a task hash is reported, not an error half-way
    if rpcall('HSETNX', pfx .. id, 'd', d) == 1 then
      seq = s
      nlevel = nlevel + 1
      wait[nlevel] = id
      if mayHand then
        dataOf[id] = d
        seqOf[id] = sq
      end
      ids[nids + 1] = sq
      ids[nids + 2] = id
      nids = nids + 2
    else
      reportExisting((b - 6) / 2, pfx .. id)
    end
  end
  if nlevel > 0 then
    levels['0'] = wait
    order[1] = '0'
    added = nlevel
  end
else
  for i = 0, n - 1 do
    local b = 6 + i * step
    local id = argv[b]
    if step == 4 then pri, runAt = argv[b + 2], argv[b + 3] end
    local k = pfx .. id
    -- the fixed data carries the enqueue seq (also the task's score in `all`); a missing status
    -- means 'new', a missing pri 0
    local s = seq + 1
    local lo = s % 100
    if lo == 0 or not hi then hi = s < 100 and '' or tostring((s - lo) / 100) end
    local sq = hi == '' and tostring(s) or hi .. two[lo + 1]
    local d = argv[b + 1] .. sq .. '}'
    local isNew, took = false, false
    if ntaken < want and runAt == '' then
      if redis.call('EXISTS', k) == 0 then
        isNew, took = true, true
        claimedNew(k, d, pri, wid)
        ntaken = ntaken + 1
        taken[ntaken] = id
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
      reportExisting(i, k)
    else
      seq = seq + 1
      if took then
        -- claimed: runs at once
      elseif runAt == '' then
        if pri ~= lastPri then
          wait = levels[pri]
          if not wait then
            wait = {}
            levels[pri] = wait
            order[#order + 1] = pri
          end
          lastPri, nlevel = pri, #wait
        end
        nlevel = nlevel + 1
        wait[nlevel] = id
        added = added + 1
        if mayHand then
          dataOf[id] = d
          seqOf[id] = sq
        end
      else
        later[delayed * 2 + 1] = runAt
        later[delayed * 2 + 2] = id
        delayed = delayed + 1
      end
      ids[nids + 1] = sq
      ids[nids + 2] = id
      nids = nids + 2
    end
  end
end
-- hand the new tasks over to idle workers (see above)
local handed = 0
if mayHand and added > 0 and delayed == 0 and #order == 1 and redis.call('ZCARD', PRIOS) == 0 and redis.call('HEXISTS', META, 'paused') == 0 then
  local list = levels[order[1]]
  local nowN = tonumber(now)
  for j = 1, #idle, 2 do
    if handed >= #list then break end
    local w = idle[j]
    local want, expires, lease = idleEntry(idle[j + 1])
    if not want or not expires or not lease or expires < nowN then
      redis.call('HDEL', IDLE, w)
    elseif want > 0 then
      local give = math.min(want, #list - handed, 500)
      -- the entry stays (want 0) until the worker's next call, so that a sweep can tell an
      -- inbox left too long
      redis.call('HSET', IDLE, w, '0:' .. expires .. ':' .. lease)
      -- each inbox entry starts with the count handed over in this call (formatted once, not per task)
      local ib, members, hids, tag = IPFX .. w, {}, {}, give .. '\n'
      for x = handed + 1, handed + give do
        local id = list[x]
        local k = pfx .. id
        redis.call('HSET', k, 'st', 'process', 'att', '1', 'sa', now, 'wid', w)
        members[#members + 1] = seqOf[id]
        members[#members + 1] = tag .. dataOf[id] .. '\n' .. id
        hids[#hids + 1] = id
      end
      redis.call('ZADD', ib, unpack(members))
      redis.call('SADD', HPFX .. w, unpack(hids))
      -- the worker's own lease length
      redis.call('ZADD', LEASES, string.format('%d', nowN + lease), w)
      handed = handed + give
    end
  end
  if handed > 0 then
    local rest = {}
    for x = handed + 1, #list do rest[#rest + 1] = list[x] end
    levels[order[1]] = rest
    added = added - handed
    redis.call('HINCRBY', CNT, 'process', handed)
  end
end
--- @include "many"
many('ZADD', ALL, ids)
many('ZADD', DELAYED, later)
for _, p in ipairs(order) do
  if #levels[p] > 0 then
    many('RPUSH', wpfx .. p, levels[p])
    redis.call('ZADD', PRIOS, p, p)
  end
end
if added > 0 then redis.call('HINCRBY', CNT, 'new', added) end
if delayed > 0 then redis.call('HINCRBY', CNT, 'delayed', delayed) end
if ntaken > 0 then
  redis.call('SADD', HELD, unpack(taken))
  redis.call('ZADD', LEASES, ARGV[4], wid)
  redis.call('HINCRBY', CNT, 'process', ntaken)
end
if added + delayed > 0 and ARGV[1] ~= '0' then redis.call('ZADD', MARKER, '0', '0') end
if nexisting == 0 then return ntaken == 0 and 0 or claimed end
return { existing, claimed }
