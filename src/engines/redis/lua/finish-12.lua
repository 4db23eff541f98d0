--[[
  Records how a batch of attempts ended, then claims the next batch for the same worker.
  KEYS[1] prios  KEYS[2] delayed  KEYS[3] leases (zset: worker id -> lease deadline)  KEYS[4] cnt
  KEYS[5] marker  KEYS[6] meta (hash: paused)  KEYS[7] done:success  KEYS[8] done:error
  KEYS[9] done:cancel (lists of finished ids, oldest first)  KEYS[10] this worker's held set
  KEYS[11] cancel requests (set of running ids asked to stop; the reason is the task's `cx` field)
  KEYS[12] all (zset: id -> enqueue seq)
  ARGV[1] task key prefix  ARGV[2] items key prefix  ARGV[3] wait list prefix  ARGV[4] event channel
  ARGV[5] now  ARGV[6] worker id  ARGV[7] result ttl (ms)  ARGV[8] lease deadline  ARGV[9] how many to claim
  ARGV[10] '1' when this process listens on the event channel itself, 'c' on a Redis Cluster (where
  PUBSUB NUMSUB counts one node's subscribers only: always publish)
  ARGV[11] how many expired ids at most to drop from the head of each finished list and of `all`
  ARGV[12] how many ends follow, then 7 per end: id, kind (s e c r h), data (result JSON / error JSON /
  reason), retry runAt, keep (s and e: retention, '' keep, '1' drop now, or JSON [count, age] of the
  tasks of that end to keep, -1 for none; r: JSON [how many kept, entry] for the attempt history
  `ah`, or ''), has items ('1'/''), record JSON to publish ('' to announce the end by id only)
  When another process listens, records of successes, errors, cancels and retries are published as
  'F<worker id> [records]', ends announced by id only as 'f["id", ...]'.
  Returns { flags ('1' per end recorded, '0' when the task was not held any more, '2' when it ended
  `error` QTASKS_ERR_BAD_RECORD instead because its stored priority is not a number), claimed (flat:
  id, data ('' when missing), attempt per task), next delayed runAt or '', how many other processes
  listen (-1: not asked) }.
  Nothing read from a task hash can make a write fail: a bad priority ends its task instead.
]]
-- the common end alone: one success, nothing to claim or trim (same effects as the general path)
if ARGV[12] == '1' and ARGV[14] == 's' and ARGV[9] == '0' and ARGV[11] == '0' and (ARGV[17] == '' or ARGV[17] == '1') then
  local id = ARGV[13]
  local nxt
  if redis.call('SISMEMBER', KEYS[10], id) == 0 then
    nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return { '0', {}, nxt[2] or '', -1 }
  end
  if redis.call('SCARD', KEYS[11]) > 0 then redis.call('SREM', KEYS[11], id) end
  local k, now = ARGV[1] .. id, ARGV[5]
  if ARGV[17] == '1' then
    redis.call('DEL', k, ARGV[2] .. id)
    redis.call('ZREM', KEYS[12], id)
  else
    redis.call('HSET', k, 'st', 'success', 'ret', ARGV[15], 'fa', now, 'up', now)
    redis.call('PEXPIRE', k, ARGV[7])
    if ARGV[18] == '1' then redis.call('PEXPIRE', ARGV[2] .. id, ARGV[7]) end
    redis.call('RPUSH', KEYS[7], id)
    redis.call('HINCRBY', KEYS[4], 'success', 1)
  end
  redis.call('SREM', KEYS[10], id)
  redis.call('HINCRBY', KEYS[4], 'process', -1)
  local remote = ARGV[10] == 'c' and 1 or redis.call('PUBSUB', 'NUMSUB', ARGV[4])[2] - (ARGV[10] == '1' and 1 or 0)
  if remote > 0 then
    if ARGV[19] == '' then
      redis.call('PUBLISH', ARGV[4], 'f[' .. cjson.encode(id) .. ']')
    else
      redis.call('PUBLISH', ARGV[4], 'F' .. ARGV[6] .. ' [' .. ARGV[19] .. ']')
    end
  end
  nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return { '1', {}, nxt[2] or '', remote }
end

local pfx, ipfx, wpfx, chan = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, wid, ttl = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local nEnd = tonumber(ARGV[12])
local flags, pub, pubIds, gone = {}, {}, {}, {}
local cnt = { new = 0, delayed = 0, process = 0, retry = 0, success = 0, error = 0, cancel = 0 }
local done = { success = {}, error = {}, cancel = {} }
local front = {}
local function announce(json, id)
  if json == '' then pubIds[#pubIds + 1] = cjson.encode(id) else pub[#pub + 1] = json end
end
-- a stored priority is a plain number (it names a wait list and scores the levels zset); else nil
local function level(p)
  if not p then return '0' end
  local n = tonumber(p)
  if n and n == n and n > -math.huge and n < math.huge and not string.find(p, '[^%d%.eE%+%-]') then return p end
  return nil
end
local function badErr(id, why)
  return cjson.encode({ name = 'BadRecordError', code = 'QTASKS_ERR_BAD_RECORD',
    message = 'The stored record of task ' .. cjson.encode(id) .. ' cannot be used (' .. why .. '), so the task ends here and never runs again: inspect or remove it, then add the task again' })
end
local trims = {}
-- the history of attempts: appends one entry (spec: [how many kept, entry]), dropping the oldest
local function remember(k, spec)
  local x = cjson.decode(spec)
  local cur = redis.call('HGET', k, 'ah')
  -- a history that does not decode (written by hand or another version) starts again
  local ok, h = pcall(cjson.decode, cur or '[]')
  if not ok or type(h) ~= 'table' then h = {} end
  h[#h + 1] = x[2]
  while #h > x[1] do table.remove(h, 1) end
  if #h > 0 then redis.call('HSET', k, 'ah', cjson.encode(h)) end
end
-- retention: keeps the newest `count` tasks of status `st` and those that ended within `age` ms
local function trim(st, key, spec)
  local r = cjson.decode(spec)
  local n = 0
  if r[1] >= 0 then
    for _ = 1, math.min(1000, redis.call('LLEN', key) - r[1]) do
      local id = redis.call('LPOP', key)
      if redis.call('HGET', pfx .. id, 'st') == st then
        redis.call('DEL', pfx .. id, ipfx .. id)
        redis.call('ZREM', KEYS[12], id)
      end
      n = n + 1
    end
  end
  if r[2] >= 0 then
    local cut = now - r[2]
    while n < 1000 do
      local id = redis.call('LINDEX', key, 0)
      if not id then break end
      local f = redis.call('HMGET', pfx .. id, 'st', 'fa')
      if f[1] == st and (tonumber(f[2]) or 0) >= cut then break end
      redis.call('LPOP', key)
      if f[1] == st then
        redis.call('DEL', pfx .. id, ipfx .. id)
        redis.call('ZREM', KEYS[12], id)
      end
      n = n + 1
    end
  end
  cnt[st] = cnt[st] - n
end
local function many(cmd, key, list)
  local out = {}
  for s = 1, #list, 1000 do
    local r = redis.call(cmd, key, unpack(list, s, math.min(s + 999, #list)))
    if type(r) == 'table' then for j = 1, #r do out[#out + 1] = r[j] end end
  end
  return out
end

local ids = {}
for i = 0, nEnd - 1 do ids[i + 1] = ARGV[13 + i * 7] end
local own = nEnd > 0 and many('SMISMEMBER', KEYS[10], ids) or {}
local asked = (nEnd > 0 and redis.call('SCARD', KEYS[11]) > 0) and many('SMISMEMBER', KEYS[11], ids) or nil

for i = 0, nEnd - 1 do
  local b = 13 + i * 7
  local id, kind, data = ARGV[b], ARGV[b + 1], ARGV[b + 2]
  local k = pfx .. id
  if own[i + 1] == 0 then
    flags[i + 1] = '0'
  else
    flags[i + 1] = '1'
    gone[#gone + 1] = id
    cnt.process = cnt.process - 1
    local cx = false
    if asked and asked[i + 1] == 1 then
      redis.call('SREM', KEYS[11], id)
      cx = redis.call('HGET', k, 'cx')
      if cx and (kind == 'r' or kind == 'h') then
        -- a cancel was asked while it ran: it ends cancelled instead of going back to the queue
        kind = 'c'
        data = cx
      end
    end
    local st
    local keep = ARGV[b + 4]
    if kind == 's' or kind == 'e' then
      st = kind == 's' and 'success' or 'error'
      if keep == '1' then
        redis.call('DEL', k, ipfx .. id)
        redis.call('ZREM', KEYS[12], id)
        st = nil
      else
        redis.call('HSET', k, 'st', st, kind == 's' and 'ret' or 'err', data, 'fa', now, 'up', now)
        if keep ~= '' then trims[#trims + 1] = { st, keep } end
      end
      announce(ARGV[b + 6], id)
    elseif kind == 'c' then
      st = 'cancel'
      redis.call('HSET', k, 'st', st, 'cr', data, 'fa', now, 'up', now)
      announce(cx and '' or ARGV[b + 6], id)
    else
      local f = redis.call('HMGET', k, 'pri', 'att')
      f[1] = level(f[1])
      if not f[1] then
        -- its priority is not a number: it cannot be queued again
        st = 'error'
        flags[i + 1] = '2'
        redis.call('HSET', k, 'st', st, 'err', badErr(id, 'its priority is not a number'), 'fa', now, 'up', now)
        announce('', id)
      elseif kind == 'r' then
        local runAt = tonumber(ARGV[b + 3])
        cnt.retry = cnt.retry + 1
        if keep ~= '' then remember(k, keep) end
        if runAt > now then
          redis.call('HSET', k, 'st', 'retry', 'err', data, 'up', now, 'run', runAt)
          redis.call('ZADD', KEYS[2], runAt, id)
        else
          redis.call('HSET', k, 'st', 'retry', 'err', data, 'up', now)
          redis.call('RPUSH', wpfx .. f[1], id)
          redis.call('ZADD', KEYS[1], f[1], f[1])
        end
        announce(ARGV[b + 6], id)
      else -- handback: back to the front of its level; the attempt does not count
        redis.call('HSET', k, 'st', 'new', 'att', math.max(0, (tonumber(f[2]) or 1) - 1), 'up', now)
        front[#front + 1] = id
        front[#front + 1] = f[1]
        cnt.new = cnt.new + 1
      end
    end
    if st then
      cnt[st] = cnt[st] + 1
      redis.call('PEXPIRE', k, ttl)
      if ARGV[b + 5] == '1' then redis.call('PEXPIRE', ipfx .. id, ttl) end
      local d = done[st]
      d[#d + 1] = id
    end
  end
end
if #gone > 0 then
  many('SREM', KEYS[10], gone)
  if cnt.retry > 0 or #front > 0 then redis.call('ZADD', KEYS[5], 0, '0') end
end
for j = #front - 1, 1, -2 do
  redis.call('LPUSH', wpfx .. front[j + 1], front[j])
  redis.call('ZADD', KEYS[1], front[j + 1], front[j + 1])
end
many('RPUSH', KEYS[7], done.success)
many('RPUSH', KEYS[8], done.error)
many('RPUSH', KEYS[9], done.cancel)
for _, t in ipairs(trims) do trim(t[1], t[1] == 'success' and KEYS[7] or KEYS[8], t[2]) end
local remote = -1
if #pub + #pubIds > 0 then remote = ARGV[10] == 'c' and 1 or redis.call('PUBSUB', 'NUMSUB', chan)[2] - (ARGV[10] == '1' and 1 or 0) end
if remote > 0 then
  if #pub > 0 then redis.call('PUBLISH', chan, 'F' .. wid .. ' [' .. table.concat(pub, ',') .. ']') end
  if #pubIds > 0 then redis.call('PUBLISH', chan, 'f[' .. table.concat(pubIds, ',') .. ']') end
end

-- ids at the head of the finished lists whose record expired or was dropped (they leave `all` too
-- when the record is gone), at the pace tasks finish so that the indexes stay bounded; every
-- finished record has the same ttl, so the head of each list is the first to expire
local budget = tonumber(ARGV[11])
local statuses = { 'success', 'error', 'cancel' }
for j = 7, budget > 0 and 9 or 0 do
  local st, n = statuses[j - 6], 0
  while n < budget do
    local id = redis.call('LINDEX', KEYS[j], 0)
    if not id then break end
    local cur = redis.call('HGET', pfx .. id, 'st')
    if cur == st then break end
    redis.call('LPOP', KEYS[j])
    if not cur and redis.call('EXISTS', pfx .. id) == 0 then redis.call('ZREM', KEYS[12], id) end
    n = n + 1
  end
  cnt[st] = cnt[st] - n
end

-- due delayed tasks join the end of their level
local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local due, badDue = {}, {}
if nxt[2] and tonumber(nxt[2]) <= now then due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000) end
for j = 1, #due do
  local id = due[j]
  local k = pfx .. id
  redis.call('ZREM', KEYS[2], id)
  local f = redis.call('HMGET', k, 'st', 'pri')
  local pri = level(f[2])
  if (f[1] == 'delayed' or f[1] == 'retry') and not pri then
    -- its priority is not a number: it ends here (announced to every process)
    redis.call('HSET', k, 'st', 'error', 'err', badErr(id, 'its priority is not a number'), 'fa', now, 'up', now)
    redis.call('PEXPIRE', k, ttl)
    redis.call('PEXPIRE', ipfx .. id, ttl)
    redis.call('RPUSH', KEYS[8], id)
    cnt[f[1]] = cnt[f[1]] - 1
    cnt.error = cnt.error + 1
    badDue[#badDue + 1] = cjson.encode(id)
  elseif f[1] == 'delayed' or f[1] == 'retry' then
    if f[1] == 'delayed' then
      redis.call('HSET', k, 'st', 'new')
      cnt.delayed = cnt.delayed - 1
      cnt.new = cnt.new + 1
    end
    redis.call('RPUSH', wpfx .. pri, id)
    redis.call('ZADD', KEYS[1], pri, pri)
  end
end

-- claim from the lowest level first, FIFO within a level
local claimed = {}
local want = tonumber(ARGV[9])
if want > 0 and redis.call('HEXISTS', KEYS[6], 'paused') == 0 then
  local taken = {}
  while #taken < want do
    local lv = redis.call('ZRANGE', KEYS[1], 0, 0)
    if #lv == 0 then break end
    local ask = want - #taken
    local ids = redis.call('LPOP', wpfx .. lv[1], ask)
    if not ids or #ids < ask then redis.call('ZREM', KEYS[1], lv[1]) end
    if ids then
      for j = 1, #ids do
        local id = ids[j]
        local k = pfx .. id
        local f = redis.pcall('HMGET', k, 'd', 'st', 'att')
        -- a hash without its data is claimed too: the worker ends it QTASKS_ERR_BAD_RECORD
        local st = (not f.err) and (f[2] or (f[1] and 'new'))
        if f.err then
          -- not a task hash at all: it cannot run, it ends in a fresh record of its own
          redis.call('DEL', k)
          redis.call('HSET', k, 'st', 'error', 'err', badErr(id, 'it is not a task hash'), 'fa', now, 'up', now)
          redis.call('PEXPIRE', k, ttl)
          redis.call('RPUSH', KEYS[8], id)
          cnt.new = cnt.new - 1
          cnt.error = cnt.error + 1
          badDue[#badDue + 1] = cjson.encode(id)
        elseif st == 'new' or st == 'retry' then
          local att = (tonumber(f[3]) or 0) + 1
          redis.call('HSET', k, 'st', 'process', 'att', att, 'sa', now, 'up', now, 'wid', wid)
          cnt[st] = cnt[st] - 1
          taken[#taken + 1] = id
          local n = #claimed
          claimed[n + 1] = id
          claimed[n + 2] = f[1] or ''
          claimed[n + 3] = att
        end
      end
    end
  end
  if #taken > 0 then
    many('SADD', KEYS[10], taken)
    redis.call('ZADD', KEYS[3], ARGV[8], wid)
    cnt.process = cnt.process + #taken
    if redis.call('ZCARD', KEYS[1]) > 0 then redis.call('ZADD', KEYS[5], 0, '0') end
  end
end

for st, d in pairs(cnt) do
  if d ~= 0 then redis.call('HINCRBY', KEYS[4], st, d) end
end
if #due > 0 then nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES') end
if #badDue > 0 then redis.call('PUBLISH', chan, 'f[' .. table.concat(badDue, ',') .. ']') end
return { table.concat(flags), claimed, nxt[2] or '', remote }
