--[[
  Records how a batch of attempts ended, then claims the next batch for the same worker.
  KEYS[1] prios  KEYS[2] delayed  KEYS[3] leases (zset: worker id -> lease deadline)  KEYS[4] cnt
  KEYS[5] marker  KEYS[6] meta (hash: paused, ls)  KEYS[7] done:success  KEYS[8] done:error
  KEYS[9] done:cancel (lists of finished ids, oldest first)  KEYS[10] this worker's held set
  KEYS[11] cancel requests (set of running ids asked to stop; the reason is the task's `cx` field)
  KEYS[12] all (zset: id -> enqueue seq)  KEYS[13] idle workers (hash: worker id -> `want:expires:leaseMs`)
  KEYS[14] this worker's inbox (tasks handed over to it by enqueues while it was idle)
  ARGV[1] the queue's key base (`prefix:{tag}:`: tasks are `<base>t:<id>`, their items `<base>i:<id>`,
  wait lists `<base>w:<level>`)  ARGV[2] event channel  ARGV[3] now  ARGV[4] worker id
  ARGV[5] result ttl (ms)  ARGV[6] lease deadline  ARGV[7] how many to claim
  ARGV[8] '1' when this process listens on the event channel itself, '' when not, 'c' to publish
  without asking who listens: on a Redis Cluster (where PUBSUB NUMSUB counts one node's subscribers
  only) and when the caller knows other processes listened a moment ago; '1' or '' may be followed
  by ':<mark>': the caller learnt that no other process listened while the meta hash's `ls` field
  was that mark. Every process that subscribes to the event channel writes a new mark there once
  its subscription is confirmed, before it reads any record it waits for; while `ls` is unchanged
  nobody else listens and PUBSUB NUMSUB is not asked
  ARGV[9] how many expired ids at most to drop from the head of each finished list and of `all`
  ARGV[10] how many ends follow  ARGV[11] the tail of the worker's idle entry, `expires:leaseMs`
  (now + 6 s, its lease length; see below), or '' when the call claims nothing and the worker
  knows it has no idle entry (none is deleted then), then from ARGV[12] 4 per end: id, head, data (result
  JSON / error JSON / reason), record JSON to publish ('' to announce the end by id only). The head
  is the kind (s e c r h), '1' when the task has items (else '0'), then for s and e the retention
  ('' keep, '1' drop now, or JSON [count, age] of the tasks of that end to keep, -1 for none), for r
  the runAt, a space and the JSON [how many kept, entry] for the attempt history `ah` (or nothing).
  Ends that all have one head and no record to publish may come 2 per end instead (id, data): then
  ARGV[10] is `<how many>:<head>` (Redis parses, copies and frees every argument)
  Finished records expire ARGV[5] ms after the call: in a call of 8 ends or more by PEXPIREAT from
  Redis's clock, read once (Redis turns every PEXPIRE into a PEXPIREAT, which costs it more than
  the write; reading the clock costs about what 5 or 6 ends save), else (or when the ttl is not
  a plain count of ms) by PEXPIRE
  When another process listens, records of successes, errors, cancels and retries are published as
  'F<worker id> [records]', ends announced by id only as 'f["id", ...]'.
  The worker's idle entry goes, and its inbox is taken first among the claimed tasks; when it wants
  more than the queue had (and the queue is not paused) it is entered idle again: wanting the rest,
  until now + 6 s (its blocking pop lasts 5 s, then it calls again).
  Returns { flags ('1' per end recorded, '0' when the task was not held any more, '2' when it ended
  `error` QTASKS_ERR_BAD_RECORD instead because its stored priority is not a number), claimed (flat:
  id, data ('' when missing), attempt per task, a first attempt as the number 1, which Redis
  replies more cheaply than a string; 0 when none: a table in a reply costs Redis more than the
  rest of the reply), next delayed runAt or '', how many other processes
  listen (-1: not asked), the `ls` field read ('-' when missing, '' when not read) }.
  Nothing read from a task hash can make a write fail: a bad priority ends its task instead.
]]
-- globals used per task, as locals (a global is looked up on every use)
local KEYS, ARGV = KEYS, ARGV
local rcall, rpcall, sub, find, byte, toN, toS, encode = redis.call, redis.pcall, string.sub, string.find, string.byte, tonumber, tostring, cjson.encode
-- other processes listening on the event channel (see ARGV[8]), given the `ls` field read (nil:
-- missing); the field as read is returned to the caller
local lsOut = ''
local function remoteCount(ls)
  lsOut = ls or '-'
  local listen = ARGV[8]
  local colon = find(listen, ':', 1, true)
  if colon and sub(listen, colon + 1) == lsOut then return 0 end
  return rcall('PUBSUB', 'NUMSUB', ARGV[2])[2] - (byte(listen, 1) == 49 and 1 or 0)
end
--- @include "drop-expired"
-- the common call alone: one success or error with no retention count, and either nothing to
-- claim or a claim that finds the queue empty (the worker then waits idle); the same effects as
-- the general path below, which takes every other call (checked before any write)
local head, want = ARGV[13], ARGV[7]
local kind, keep = sub(head or '', 1, 1), sub(head or '', 3)
if ARGV[10] == '1' and (kind == 's' or kind == 'e') and (keep == '' or keep == '1')
  and rcall('EXISTS', KEYS[14]) == 0 then
  local now = ARGV[3]
  -- string indexes: a Lua number given to redis.call is formatted with %.17g (costs more than the call)
  local nxt = rcall('ZRANGE', KEYS[2], '0', '0', 'WITHSCORES')
  -- a claim that would find tasks (or due delayed ones) takes the general path
  if want == '0' or (rcall('ZCARD', KEYS[1]) == 0 and not (nxt[2] and toN(nxt[2]) <= toN(now))) then
    local id = ARGV[12]
    local flag, remote, paused = '0', -1, nil
    if rcall('SREM', KEYS[10], id) == 1 then
      flag = '1'
      rcall('SREM', KEYS[11], id)
      local k = ARGV[1] .. 't:' .. id
      if keep == '1' then
        rcall('DEL', k, ARGV[1] .. 'i:' .. id)
        rcall('ZREM', KEYS[12], id)
      else
        local st = kind == 's' and 'success' or 'error'
        rcall('HSET', k, 'st', st, kind == 's' and 'ret' or 'err', ARGV[14], 'fa', now)
        rcall('PEXPIRE', k, ARGV[5])
        if byte(head, 2) == 49 then rcall('PEXPIRE', ARGV[1] .. 'i:' .. id, ARGV[5]) end
        rcall('RPUSH', kind == 's' and KEYS[7] or KEYS[8], id)
        rcall('HINCRBY', KEYS[4], st, '1')
      end
      rcall('HINCRBY', KEYS[4], 'process', '-1')
      if ARGV[8] == 'c' then
        remote = 1
      elseif want ~= '0' then
        -- the paused flag is read with it, for the idle entry below
        paused = rcall('HMGET', KEYS[6], 'ls', 'paused')
        remote = remoteCount(paused[1])
        paused = paused[2]
      else
        remote = remoteCount(rcall('HGET', KEYS[6], 'ls'))
      end
      if remote > 0 then
        if ARGV[15] == '' then
          rcall('PUBLISH', ARGV[2], 'f[' .. encode(id) .. ']')
        else
          rcall('PUBLISH', ARGV[2], 'F' .. ARGV[4] .. ' [' .. ARGV[15] .. ']')
        end
      end
    end
    -- expired ids leave the finished lists (see the general path)
    if ARGV[9] ~= '0' then
      local budget = toN(ARGV[9])
      for j, st in ipairs({ 'success', 'error', 'cancel' }) do
        local n = dropExpired(KEYS[6 + j], st, budget, ARGV[1] .. 't:', KEYS[12])
        if n > 0 then rcall('HINCRBY', KEYS[4], st, -n) end
      end
    end
    -- the worker leaves the idle workers, or (the queue ran dry) stays there, wanting `want` more:
    -- enqueues may hand tasks over directly
    if paused == nil and want ~= '0' then paused = rcall('HEXISTS', KEYS[6], 'paused') == 1 end
    if want ~= '0' and not paused then
      rcall('HSET', KEYS[13], ARGV[4], want .. ':' .. ARGV[11])
    elseif ARGV[11] ~= '' then
      rcall('HDEL', KEYS[13], ARGV[4])
    end
    return { flag, 0, nxt[2] or '', remote, lsOut }
  end
end

local pfx, ipfx, wpfx, chan = ARGV[1] .. 't:', ARGV[1] .. 'i:', ARGV[1] .. 'w:', ARGV[2]
-- now and ttl stay strings where they are written (a Lua number is formatted on every write)
local now, nowN, wid, ttl = ARGV[3], toN(ARGV[3]), ARGV[4], ARGV[5]
-- ends all of one head with no record to publish come 2 per end (see ARGV[10])
local nEnd, step, uhead = toN(ARGV[10]), 4, nil
if not nEnd then
  local c = find(ARGV[10], ':', 1, true)
  nEnd, step, uhead = toN(sub(ARGV[10], 1, c - 1)), 2, sub(ARGV[10], c + 1)
end
-- how finished records get their ttl (see above): read at the first one
local expCmd, expArg
local function expiry()
  if nEnd < 8 or not find(ttl, '^%d+$') then return 'PEXPIRE', ttl end
  local t = rcall('TIME')
  return 'PEXPIREAT', string.format('%.0f', toN(t[1]) * 1000 + math.floor(toN(t[2]) / 1000) + toN(ttl))
end
local flags, pub, pubIds, nGone, dropped = {}, {}, {}, 0, {}
local cnt = { new = 0, delayed = 0, process = 0, retry = 0, success = 0, error = 0, cancel = 0 }
local done = { success = {}, error = {}, cancel = {} }
local front = {}
local function announce(json, id)
  if json == '' then pubIds[#pubIds + 1] = id else pub[#pub + 1] = json end
end
--- @include "level"
--- @include "bad-err"
--- @include "keep-only"
-- the history of attempts: appends one entry (spec: [how many kept, entry]), dropping the oldest
local function remember(k, spec)
  local x = cjson.decode(spec)
  local cur = rcall('HGET', k, 'ah')
  -- a history that does not decode (written by hand or another version) starts again
  local ok, h = pcall(cjson.decode, cur or '[]')
  if not ok or type(h) ~= 'table' then h = {} end
  h[#h + 1] = x[2]
  while #h > x[1] do table.remove(h, 1) end
  if #h > 0 then rcall('HSET', k, 'ah', encode(h)) end
end
--- @include "many"

-- tasks handed over while idle (member: count, data, id), still held by this worker
if ARGV[11] ~= '' then rcall('HDEL', KEYS[13], wid) end
local claimed = {}
if rcall('EXISTS', KEYS[14]) == 1 then
  local ms = rcall('ZRANGE', KEYS[14], 0, -1)
  rcall('DEL', KEYS[14])
  for j = 1, #ms do
    local m = ms[j]
    local a = find(m, '\n', 1, true)
    local b = a and find(m, '\n', a + 1, true)
    if b then
      local id = sub(m, b + 1)
      if rcall('SISMEMBER', KEYS[10], id) == 1 then
        -- started now, as if claimed by this call (see the reconcile script)
        rcall('HSET', pfx .. id, 'sa', now)
        claimed[#claimed + 1] = id
        claimed[#claimed + 1] = sub(m, a + 1, b - 1)
        claimed[#claimed + 1] = 1
      end
    end
  end
end

local ids = {}
for i = 0, nEnd - 1 do ids[i + 1] = ARGV[12 + i * step] end
local own = nEnd > 0 and many('SMISMEMBER', KEYS[10], ids) or {}
-- which ends' tasks were asked to stop (nil when no running task of the queue was)
local cancelAsked = (nEnd > 0 and rcall('SCARD', KEYS[11]) > 0) and many('SMISMEMBER', KEYS[11], ids) or nil

for i = 0, nEnd - 1 do
  local b = 12 + i * step
  local id, head, data, json
  if step == 2 then
    id, head, data, json = ARGV[b], uhead, ARGV[b + 1], ''
  else
    id, head, data, json = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  end
  if own[i + 1] == 0 then
    flags[i + 1] = '0'
  elseif (head == 's0' or head == 'e0') and not (cancelAsked and cancelAsked[i + 1] == 1) then
    -- the common end (a success or error, no items, no retention count, no cancel asked): the
    -- same steps as below
    flags[i + 1] = '1'
    nGone = nGone + 1
    local k = pfx .. id
    local st
    if head == 's0' then
      st = 'success'
      rcall('HSET', k, 'st', st, 'ret', data, 'fa', now)
    else
      st = 'error'
      rcall('HSET', k, 'st', st, 'err', data, 'fa', now)
    end
    if json == '' then pubIds[#pubIds + 1] = id else pub[#pub + 1] = json end
    cnt[st] = cnt[st] + 1
    if not expCmd then expCmd, expArg = expiry() end
    rcall(expCmd, k, expArg)
    local d = done[st]
    d[#d + 1] = id
  else
    local kind, keep, items = sub(head, 1, 1), sub(head, 3), byte(head, 2) == 49
    local k = pfx .. id
    flags[i + 1] = '1'
    nGone = nGone + 1
    local cx = false
    if cancelAsked and cancelAsked[i + 1] == 1 then
      rcall('SREM', KEYS[11], id)
      cx = rcall('HGET', k, 'cx')
      if cx and (kind == 'r' or kind == 'h') then
        -- a cancel was asked while it ran: it ends cancelled instead of going back to the queue
        kind = 'c'
        data = cx
      end
    end
    local st
    if kind == 's' or kind == 'e' then
      st = kind == 's' and 'success' or 'error'
      if keep == '1' then
        -- dropped after the loop, with the others of the call
        dropped[#dropped + 1] = id
        st = nil
      else
        rcall('HSET', k, 'st', st, kind == 's' and 'ret' or 'err', data, 'fa', now)
        if keep ~= '' then trimLater(st, keep) end
      end
      announce(json, id)
    elseif kind == 'c' then
      st = 'cancel'
      rcall('HSET', k, 'st', st, 'cr', data, 'fa', now)
      announce(cx and '' or json, id)
    else
      local f = rcall('HMGET', k, 'pri', 'att')
      f[1] = level(f[1])
      if not f[1] then
        -- its priority is not a number: it cannot be queued again
        st = 'error'
        flags[i + 1] = '2'
        rcall('HSET', k, 'st', st, 'err', badErr(id, 'its priority is not a number'), 'fa', now)
        announce('', id)
      elseif kind == 'r' then
        local sp = find(keep, ' ', 1, true)
        local runAt = toN(sub(keep, 1, sp - 1))
        local history = sub(keep, sp + 1)
        cnt.retry = cnt.retry + 1
        if history ~= '' then remember(k, history) end
        if runAt > nowN then
          rcall('HSET', k, 'st', 'retry', 'err', data, 'up', now, 'run', runAt)
          rcall('ZADD', KEYS[2], runAt, id)
        else
          rcall('HSET', k, 'st', 'retry', 'err', data, 'up', now)
          rcall('RPUSH', wpfx .. f[1], id)
          rcall('ZADD', KEYS[1], f[1], f[1])
        end
        announce(json, id)
      else -- handback: back to the front of its level; the attempt does not count
        rcall('HSET', k, 'st', 'new', 'att', math.max(0, (toN(f[2]) or 1) - 1), 'up', now)
        front[#front + 1] = id
        front[#front + 1] = f[1]
        cnt.new = cnt.new + 1
      end
    end
    if st then
      cnt[st] = cnt[st] + 1
      if not expCmd then expCmd, expArg = expiry() end
      rcall(expCmd, k, expArg)
      if items then rcall(expCmd, ipfx .. id, expArg) end
      local d = done[st]
      d[#d + 1] = id
    end
  end
end
dropTasks(pfx, ipfx, KEYS[12], dropped)
if nGone > 0 then
  -- every id of the call leaves the held set (those not in it any more are no-ops)
  cnt.process = cnt.process - nGone
  many('SREM', KEYS[10], ids)
  if cnt.retry > 0 or #front > 0 then rcall('ZADD', KEYS[5], 0, '0') end
end
for j = #front - 1, 1, -2 do
  rcall('LPUSH', wpfx .. front[j + 1], front[j])
  rcall('ZADD', KEYS[1], front[j + 1], front[j + 1])
end
many('RPUSH', KEYS[7], done.success)
many('RPUSH', KEYS[8], done.error)
many('RPUSH', KEYS[9], done.cancel)
for _, t in ipairs(trims) do
  local st = t[1]
  cnt[st] = cnt[st] - keepOnly(st, st == 'success' and KEYS[7] or KEYS[8], t[2], pfx, ipfx, KEYS[12], nowN)
end
local remote = -1
if #pub + #pubIds > 0 then remote = ARGV[8] == 'c' and 1 or remoteCount(rcall('HGET', KEYS[6], 'ls')) end
if remote > 0 then
  if #pub > 0 then rcall('PUBLISH', chan, 'F' .. wid .. ' [' .. table.concat(pub, ',') .. ']') end
  if #pubIds > 0 then
    for j = 1, #pubIds do pubIds[j] = encode(pubIds[j]) end
    rcall('PUBLISH', chan, 'f[' .. table.concat(pubIds, ',') .. ']')
  end
end

-- expired ids leave the finished lists at the pace tasks finish, so that the indexes stay bounded
local budget = toN(ARGV[9])
if budget > 0 then
  for j, st in ipairs({ 'success', 'error', 'cancel' }) do cnt[st] = cnt[st] - dropExpired(KEYS[6 + j], st, budget, pfx, KEYS[12]) end
end

-- due delayed tasks join the end of their level, in runAt order: they leave `delayed` in one ZREM
-- and join each level in one RPUSH (a task costs one read of its hash, and a write when it was
-- delayed rather than a retry)
local nxt = rcall('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local due, badDue = {}, {}
-- task `id` (key `k`, counted under `counted`) cannot run: it ends `error` QTASKS_ERR_BAD_RECORD
-- (`why`) here, announced to every process; `fresh` when its key is not a task hash, which a record
-- of its own replaces
local function endBad(id, k, counted, why, fresh)
  if fresh then rcall('DEL', k) end
  rcall('HSET', k, 'st', 'error', 'err', badErr(id, why), 'fa', now)
  rcall('PEXPIRE', k, ttl)
  if not fresh then rcall('PEXPIRE', ipfx .. id, ttl) end
  rcall('RPUSH', KEYS[8], id)
  cnt[counted] = cnt[counted] - 1
  cnt.error = cnt.error + 1
  badDue[#badDue + 1] = encode(id)
end
if nxt[2] and toN(nxt[2]) <= nowN then due = rcall('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000) end
if #due > 0 then
  many('ZREM', KEYS[2], due)
  local dueAt, dueLevels = {}, {}
  for j = 1, #due do
    local id = due[j]
    local k = pfx .. id
    local f = rpcall('HMGET', k, 'st', 'pri')
    if f.err then
      -- not a task hash at all (as in a claim; counted as a delayed task that ended)
      endBad(id, k, 'delayed', 'it is not a task hash', true)
    else
      local pri = level(f[2])
      if (f[1] == 'delayed' or f[1] == 'retry') and not pri then
        endBad(id, k, f[1], 'its priority is not a number', false)
      elseif f[1] == 'delayed' or f[1] == 'retry' then
        if f[1] == 'delayed' then
          rcall('HSET', k, 'st', 'new')
          cnt.delayed = cnt.delayed - 1
          cnt.new = cnt.new + 1
        end
        local lv = dueAt[pri]
        if not lv then
          lv = {}
          dueAt[pri] = lv
          dueLevels[#dueLevels + 1] = pri
        end
        lv[#lv + 1] = id
      end
    end
  end
  for _, p in ipairs(dueLevels) do
    many('RPUSH', wpfx .. p, dueAt[p])
    rcall('ZADD', KEYS[1], p, p)
  end
end

-- claim from the lowest level first, FIFO within a level
local asked = toN(ARGV[7])
local want = asked - #claimed / 3
if want > 0 and rcall('HEXISTS', KEYS[6], 'paused') == 0 then
  local taken = {}
  local nTaken, nClaimed = 0, #claimed
  while nTaken < want do
    local lv = rcall('ZRANGE', KEYS[1], 0, 0)
    if #lv == 0 then break end
    local ask = want - nTaken
    local ids = rcall('LPOP', wpfx .. lv[1], ask)
    if not ids or #ids < ask then rcall('ZREM', KEYS[1], lv[1]) end
    if ids then
      for j = 1, #ids do
        local id = ids[j]
        local k = pfx .. id
        local f = rpcall('HMGET', k, 'd', 'st', 'att')
        -- a hash without its data is claimed too: the worker ends it QTASKS_ERR_BAD_RECORD (an
        -- error reply has neither)
        local d, st = f[1], f[2]
        if not st and d then st = 'new' end
        if st == 'new' or st == 'retry' then
          local att = f[3]
          att = att and toS((toN(att) or 0) + 1) or '1'
          rcall('HSET', k, 'st', 'process', 'att', att, 'sa', now, 'wid', wid)
          -- a first attempt goes into the reply as a number (see above)
          if not f[3] then att = 1 end
          cnt[st] = cnt[st] - 1
          nTaken = nTaken + 1
          taken[nTaken] = id
          claimed[nClaimed + 1] = id
          claimed[nClaimed + 2] = d or ''
          claimed[nClaimed + 3] = att
          nClaimed = nClaimed + 3
        elseif f.err then
          -- not a task hash at all
          endBad(id, k, 'new', 'it is not a task hash', true)
        end
      end
    end
  end
  if nTaken > 0 then
    many('SADD', KEYS[10], taken)
    rcall('ZADD', KEYS[3], ARGV[6], wid)
    cnt.process = cnt.process + nTaken
    if rcall('ZCARD', KEYS[1]) > 0 then rcall('ZADD', KEYS[5], 0, '0') end
  end
  if nTaken < want then
    -- the queue ran dry: enqueues may hand the rest over directly
    rcall('HSET', KEYS[13], wid, (want - nTaken) .. ':' .. ARGV[11])
  end
end

for st, d in pairs(cnt) do
  if d ~= 0 then rcall('HINCRBY', KEYS[4], st, d) end
end
if #due > 0 then nxt = rcall('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES') end
if #badDue > 0 then rcall('PUBLISH', chan, 'f[' .. table.concat(badDue, ',') .. ']') end
return { table.concat(flags), #claimed > 0 and claimed or 0, nxt[2] or '', remote, lsOut }
