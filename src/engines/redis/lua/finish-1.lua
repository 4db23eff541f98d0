--[[
  Records how a batch of attempts ended, then claims the next batch for the same worker.
  KEYS[1] the queue's key base (`prefix:{tag}:`): every key the script touches starts with it, and
  is named here from it (each argument costs Redis more to parse and hand to the script than a
  name costs to build, and a key given routes the call to the queue's slot on a Redis Cluster):
  `<base>prios`, `delayed`, `leases` (zset: worker id -> lease deadline), `cnt`, `marker`, `meta`
  (hash: paused, ls), `done:success`, `done:error`, `done:cancel` (lists of finished ids, oldest
  first), `held:<worker id>` (this worker's held set), `cancels` (cancel requests: set of running
  ids asked to stop; the reason is the task's `cx` field), `idx` (all tasks, zset: id -> enqueue
  seq), `idle` (idle workers, hash: worker id -> `want:expires:leaseMs`), `inbox:<worker id>` (tasks
  handed over to this worker by enqueues while it was idle), tasks `t:<id>`, their items `i:<id>`,
  wait lists `w:<level>`
  ARGV[1] event channel  ARGV[2] now  ARGV[3] worker id  ARGV[4] result ttl (ms)
  ARGV[5] lease deadline  ARGV[6] how many to claim
  ARGV[7] '1' when this process listens on the event channel itself, '' when not, 'c' to publish
  without asking who listens: on a Redis Cluster (where PUBSUB NUMSUB counts one node's subscribers
  only) and when the caller knows other processes listened a moment ago; '1' or '' may be followed
  by ':<mark>': the caller learnt that no other process listened while the meta hash's `ls` field
  was that mark. Every process that subscribes to the event channel writes a new mark there once
  its subscription is confirmed, before it reads any record it waits for; while `ls` is unchanged
  nobody else listens and PUBSUB NUMSUB is not asked
  ARGV[8] how many expired ids at most to drop from the head of each finished list and of `idx`
  ARGV[9] how many ends follow  ARGV[10] the tail of the worker's idle entry, `expires:leaseMs`
  (now + 6 s, its lease length; see below), or '' when the call claims nothing and the worker
  knows it has no idle entry (none is deleted then), then from ARGV[11] 4 per end: id, head, data (result
  JSON / error JSON / reason), record JSON to publish ('' to announce the end by id only). The head
  is the kind (s e c r h), '1' when the task has items (else '0'), then for s and e the retention
  ('' keep, '1' drop now, or JSON [count, age] of the tasks of that end to keep, -1 for none), for r
  the runAt, a space and the JSON [how many kept, entry] for the attempt history `ah` (or nothing).
  Ends that all have one head and no record to publish may come 2 per end instead (id, data): then
  ARGV[9] is `<how many>:<head>` (Redis parses, copies and frees every argument)
  Finished records expire ARGV[4] ms after the call: in a call of 8 ends or more by PEXPIREAT from
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
local ARGV = ARGV
local rcall, rpcall, sub, find, byte, toN, toS, encode = redis.call, redis.pcall, string.sub, string.find, string.byte, tonumber, tostring, cjson.encode
-- the keys of the common call (see the fast path below), named from the key base; the general
-- path names the rest
local B = KEYS[1]
local PRIOS, DELAYED, CNT, META, HELD, CANCELS, IDLE, INBOX = B .. 'prios', B .. 'delayed', B .. 'cnt', B .. 'meta', B .. 'held:' .. ARGV[3], B .. 'cancels', B .. 'idle', B .. 'inbox:' .. ARGV[3]
-- other processes listening on the event channel (see ARGV[7]), given the `ls` field read (nil:
-- missing); the field as read is returned to the caller
local lsOut = ''
local function remoteCount(ls)
  lsOut = ls or '-'
  local listen = ARGV[7]
  local colon = find(listen, ':', 1, true)
  if colon and sub(listen, colon + 1) == lsOut then return 0 end
  return rcall('PUBSUB', 'NUMSUB', ARGV[1])[2] - (byte(listen, 1) == 49 and 1 or 0)
end
--- @include "drop-expired"
-- the common call alone: one success or error with no retention count, and either nothing to
-- claim or a claim that finds the queue empty (the worker then waits idle); the same effects as
-- the general path below, which takes every other call (checked before any write)
local head, want = ARGV[12], ARGV[6]
local kind, keep = sub(head or '', 1, 1), sub(head or '', 3)
if ARGV[9] == '1' and (kind == 's' or kind == 'e') and (keep == '' or keep == '1')
  and rcall('EXISTS', INBOX) == 0 then
  local now = ARGV[2]
  -- string indexes: a Lua number given to redis.call is formatted with %.17g (costs more than the call)
  local nxt = rcall('ZRANGE', DELAYED, '0', '0', 'WITHSCORES')
  -- a claim that would find tasks (or due delayed ones) takes the general path
  if want == '0' or (rcall('ZCARD', PRIOS) == 0 and not (nxt[2] and toN(nxt[2]) <= toN(now))) then
    local id = ARGV[11]
    local flag, remote, paused = '0', -1, nil
    if rcall('SREM', HELD, id) == 1 then
      flag = '1'
      rcall('SREM', CANCELS, id)
      local k = B .. 't:' .. id
      if keep == '1' then
        rcall('DEL', k, B .. 'i:' .. id)
        rcall('ZREM', B .. 'idx', id)
      else
        local st = kind == 's' and 'success' or 'error'
        rcall('HSET', k, 'st', st, kind == 's' and 'ret' or 'err', ARGV[13], 'fa', now)
        rcall('PEXPIRE', k, ARGV[4])
        if byte(head, 2) == 49 then rcall('PEXPIRE', B .. 'i:' .. id, ARGV[4]) end
        rcall('RPUSH', B .. (kind == 's' and 'done:success' or 'done:error'), id)
        rcall('HINCRBY', CNT, st, '1')
      end
      rcall('HINCRBY', CNT, 'process', '-1')
      if ARGV[7] == 'c' then
        remote = 1
      elseif want ~= '0' then
        -- the paused flag is read with it, for the idle entry below
        paused = rcall('HMGET', META, 'ls', 'paused')
        remote = remoteCount(paused[1])
        paused = paused[2]
      else
        remote = remoteCount(rcall('HGET', META, 'ls'))
      end
      if remote > 0 then
        if ARGV[14] == '' then
          rcall('PUBLISH', ARGV[1], 'f[' .. encode(id) .. ']')
        else
          rcall('PUBLISH', ARGV[1], 'F' .. ARGV[3] .. ' [' .. ARGV[14] .. ']')
        end
      end
    end
    -- expired ids leave the finished lists (see the general path)
    if ARGV[8] ~= '0' then
      local budget = toN(ARGV[8])
      for _, st in ipairs({ 'success', 'error', 'cancel' }) do
        local n = dropExpired(B .. 'done:' .. st, st, budget, B .. 't:', B .. 'idx')
        if n > 0 then rcall('HINCRBY', CNT, st, -n) end
      end
    end
    -- the worker leaves the idle workers, or (the queue ran dry) stays there, wanting `want` more:
    -- enqueues may hand tasks over directly
    if paused == nil and want ~= '0' then paused = rcall('HEXISTS', META, 'paused') == 1 end
    if want ~= '0' and not paused then
      rcall('HSET', IDLE, ARGV[3], want .. ':' .. ARGV[10])
    elseif ARGV[10] ~= '' then
      rcall('HDEL', IDLE, ARGV[3])
    end
    return { flag, 0, nxt[2] or '', remote, lsOut }
  end
end

local pfx, ipfx, wpfx, chan = B .. 't:', B .. 'i:', B .. 'w:', ARGV[1]
local LEASES, MARKER, ALL, DONE = B .. 'leases', B .. 'marker', B .. 'idx', { B .. 'done:success', B .. 'done:error', B .. 'done:cancel' }
-- now and ttl stay strings where they are written (a Lua number is formatted on every write)
local now, nowN, wid, ttl = ARGV[2], toN(ARGV[2]), ARGV[3], ARGV[4]
-- ends all of one head with no record to publish come 2 per end (see ARGV[9])
local nEnd, step, uhead = toN(ARGV[9]), 4, nil
if not nEnd then
  local c = find(ARGV[9], ':', 1, true)
  nEnd, step, uhead = toN(sub(ARGV[9], 1, c - 1)), 2, sub(ARGV[9], c + 1)
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
if ARGV[10] ~= '' then rcall('HDEL', IDLE, wid) end
local claimed = {}
if rcall('EXISTS', INBOX) == 1 then
  local ms = rcall('ZRANGE', INBOX, 0, -1)
  rcall('DEL', INBOX)
  for j = 1, #ms do
    local m = ms[j]
    local a = find(m, '\n', 1, true)
    local b = a and find(m, '\n', a + 1, true)
    if b then
      local id = sub(m, b + 1)
      if rcall('SISMEMBER', HELD, id) == 1 then
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
for i = 0, nEnd - 1 do ids[i + 1] = ARGV[11 + i * step] end
local own = nEnd > 0 and many('SMISMEMBER', HELD, ids) or {}
-- which ends' tasks were asked to stop (nil when no running task of the queue was)
local cancelAsked = (nEnd > 0 and rcall('SCARD', CANCELS) > 0) and many('SMISMEMBER', CANCELS, ids) or nil

for i = 0, nEnd - 1 do
  local b = 11 + i * step
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
      rcall('SREM', CANCELS, id)
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
          rcall('ZADD', DELAYED, runAt, id)
        else
          rcall('HSET', k, 'st', 'retry', 'err', data, 'up', now)
          rcall('RPUSH', wpfx .. f[1], id)
          rcall('ZADD', PRIOS, f[1], f[1])
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
dropTasks(pfx, ipfx, ALL, dropped)
if nGone > 0 then
  -- every id of the call leaves the held set (those not in it any more are no-ops)
  cnt.process = cnt.process - nGone
  many('SREM', HELD, ids)
  if cnt.retry > 0 or #front > 0 then rcall('ZADD', MARKER, 0, '0') end
end
for j = #front - 1, 1, -2 do
  rcall('LPUSH', wpfx .. front[j + 1], front[j])
  rcall('ZADD', PRIOS, front[j + 1], front[j + 1])
end
many('RPUSH', DONE[1], done.success)
many('RPUSH', DONE[2], done.error)
many('RPUSH', DONE[3], done.cancel)
for _, t in ipairs(trims) do
  local st = t[1]
  cnt[st] = cnt[st] - keepOnly(st, st == 'success' and DONE[1] or DONE[2], t[2], pfx, ipfx, ALL, nowN)
end
local remote = -1
if #pub + #pubIds > 0 then remote = ARGV[7] == 'c' and 1 or remoteCount(rcall('HGET', META, 'ls')) end
if remote > 0 then
  if #pub > 0 then rcall('PUBLISH', chan, 'F' .. wid .. ' [' .. table.concat(pub, ',') .. ']') end
  -- one encode of the list (a table of strings 1..n encodes as a JSON array)
  if #pubIds > 0 then rcall('PUBLISH', chan, 'f' .. encode(pubIds)) end
end

-- expired ids leave the finished lists at the pace tasks finish, so that the indexes stay bounded
local budget = toN(ARGV[8])
if budget > 0 then
  for j, st in ipairs({ 'success', 'error', 'cancel' }) do cnt[st] = cnt[st] - dropExpired(DONE[j], st, budget, pfx, ALL) end
end

-- due delayed tasks join the end of their level, in runAt order: they leave `delayed` in one ZREM
-- and join each level in one RPUSH (a task costs one read of its hash, and a write when it was
-- delayed rather than a retry)
local nxt = rcall('ZRANGE', DELAYED, 0, 0, 'WITHSCORES')
local due, badDue = {}, {}
-- task `id` (key `k`, counted under `counted`) cannot run: it ends `error` QTASKS_ERR_BAD_RECORD
-- (`why`) here, announced to every process; `fresh` when its key is not a task hash, which a record
-- of its own replaces
local function endBad(id, k, counted, why, fresh)
  if fresh then rcall('DEL', k) end
  rcall('HSET', k, 'st', 'error', 'err', badErr(id, why), 'fa', now)
  rcall('PEXPIRE', k, ttl)
  if not fresh then rcall('PEXPIRE', ipfx .. id, ttl) end
  rcall('RPUSH', DONE[2], id)
  cnt[counted] = cnt[counted] - 1
  cnt.error = cnt.error + 1
  badDue[#badDue + 1] = id
end
if nxt[2] and toN(nxt[2]) <= nowN then due = rcall('ZRANGEBYSCORE', DELAYED, '-inf', now, 'LIMIT', 0, 1000) end
if #due > 0 then
  many('ZREM', DELAYED, due)
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
    rcall('ZADD', PRIOS, p, p)
  end
end

-- claim from the lowest level first, FIFO within a level
local asked = toN(ARGV[6])
local want = asked - #claimed / 3
if want > 0 and rcall('HEXISTS', META, 'paused') == 0 then
  local taken = {}
  local nTaken, nClaimed = 0, #claimed
  while nTaken < want do
    local lv = rcall('ZRANGE', PRIOS, 0, 0)
    if #lv == 0 then break end
    local ask = want - nTaken
    local ids = rcall('LPOP', wpfx .. lv[1], ask)
    if not ids or #ids < ask then rcall('ZREM', PRIOS, lv[1]) end
    if ids then
      for j = 1, #ids do
        local id = ids[j]
        local k = pfx .. id
        -- the attempt count is read apart, for a task claimed before (each field asked costs
        -- Redis more than the rare second call): a task never claimed has no status field, and
        -- no attempt count
        local f = rpcall('HMGET', k, 'd', 'st')
        -- a hash without its data is claimed too: the worker ends it QTASKS_ERR_BAD_RECORD (an
        -- error reply has neither)
        local d, st = f[1], f[2]
        local prev
        if not st and d then
          st = 'new'
        elseif st == 'new' or st == 'retry' then
          prev = rcall('HGET', k, 'att')
        end
        if st == 'new' or st == 'retry' then
          local att = prev and toS((toN(prev) or 0) + 1) or '1'
          rcall('HSET', k, 'st', 'process', 'att', att, 'sa', now, 'wid', wid)
          -- a first attempt goes into the reply as a number (see above)
          if not prev then att = 1 end
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
    many('SADD', HELD, taken)
    rcall('ZADD', LEASES, ARGV[5], wid)
    cnt.process = cnt.process + nTaken
    if rcall('ZCARD', PRIOS) > 0 then rcall('ZADD', MARKER, 0, '0') end
  end
  if nTaken < want then
    -- the queue ran dry: enqueues may hand the rest over directly
    rcall('HSET', IDLE, wid, (want - nTaken) .. ':' .. ARGV[10])
  end
end

for st, d in pairs(cnt) do
  if d ~= 0 then rcall('HINCRBY', CNT, st, d) end
end
if #due > 0 then nxt = rcall('ZRANGE', DELAYED, 0, 0, 'WITHSCORES') end
if #badDue > 0 then rcall('PUBLISH', chan, 'f' .. encode(badDue)) end
return { table.concat(flags), #claimed > 0 and claimed or 0, nxt[2] or '', remote, lsOut }
