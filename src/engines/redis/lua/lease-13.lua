--[[
  Run by every worker each leaseMs/2: renews its lease, keeps its heartbeat, reports cancel requests
  of the tasks it holds, moves the tasks of workers whose lease expired back to the queue (or ends
  them after maxStalls), and drops finished records past their ttl.
  KEYS[1] prios  KEYS[2] leases (zset: worker id -> lease deadline)  KEYS[3] cnt  KEYS[4] marker
  KEYS[5] workers (hash: id -> info)  KEYS[6] seen (zset: id -> last heartbeat)  KEYS[7] done:success
  KEYS[8] done:error  KEYS[9] done:cancel  KEYS[10] all (zset: id -> enqueue seq)
  KEYS[11] cancel requests (set)  KEYS[12] meta (hash: `sweep`, where the sweep of `all` is)
  KEYS[13] idle workers (hash: worker id -> `want:expires:leaseMs`)
  ARGV[1] task key prefix  ARGV[2] items key prefix  ARGV[3] wait list prefix  ARGV[4] held set prefix
  ARGV[5] event channel  ARGV[6] now  ARGV[7] lease deadline  ARGV[8] worker id ('' for none)
  ARGV[9] worker info JSON  ARGV[10] max stalls  ARGV[11] result ttl (ms)  ARGV[12] dead after (ms)
  ARGV[13] inbox prefix
  Tasks handed over to a worker that never took them from its inbox (its idle entry expired, or its
  lease did) go back to the front of the queue; their attempt never started, so none is counted.
  Returns a flat list of id, cancel reason for tasks this worker holds whose cancel was asked.
  Nothing read from a task hash can make a write fail: a stalled task whose stored priority is not
  a number ends `error` QTASKS_ERR_BAD_RECORD instead of going back to the queue.
]]
local pfx, ipfx, wpfx, hpfx, chan = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, wid = tonumber(ARGV[6]), ARGV[8]
local maxStalls, ttl = tonumber(ARGV[10]), tonumber(ARGV[11])
local cancels, notify = {}, {}
local cnt = { new = 0, process = 0, waiting = 0, error = 0, cancel = 0 }

if wid ~= '' then
  if redis.call('SCARD', hpfx .. wid) > 0 then
    redis.call('ZADD', KEYS[2], ARGV[7], wid)
    for _, id in ipairs(redis.call('SINTER', hpfx .. wid, KEYS[11])) do
      cancels[#cancels + 1] = id
      cancels[#cancels + 1] = redis.call('HGET', pfx .. id, 'cx') or '-'
    end
  end
  redis.call('HSET', KEYS[5], wid, ARGV[9])
  redis.call('ZADD', KEYS[6], now, wid)
end
for _, w in ipairs(redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now - tonumber(ARGV[12]))) do
  redis.call('HDEL', KEYS[5], w)
  redis.call('ZREM', KEYS[6], w)
end

local function final(k, id, st, done, field, value)
  redis.call('HSET', k, 'st', st, field, value, 'fa', now)
  redis.call('PEXPIRE', k, ttl)
  redis.call('PEXPIRE', ipfx .. id, ttl)
  redis.call('RPUSH', done, id)
  cnt[st] = cnt[st] + 1
  notify[#notify + 1] = id
end
--- @include "level"
--- @include "bad-err"
--- @include "drop-expired"
--- @include "idle-entry"

-- the inbox of worker w back to the front of the queue (its tasks never started)
local function unhand(w)
  local ib = ARGV[13] .. w
  local ms = redis.call('ZRANGE', ib, 0, -1)
  if #ms == 0 then return end
  redis.call('DEL', ib)
  for j = #ms, 1, -1 do
    local m = ms[j]
    local a = string.find(m, '\n', 1, true)
    local b = a and string.find(m, '\n', a + 1, true)
    local id = b and string.sub(m, b + 1)
    local f = id and redis.pcall('HMGET', pfx .. id, 'st', 'wid', 'pri')
    local pri = f and not f.err and f[1] == 'process' and f[2] == w and level(f[3])
    if pri then
      redis.call('SREM', hpfx .. w, id)
      redis.call('HSET', pfx .. id, 'st', 'new', 'att', 0, 'up', now)
      redis.call('LPUSH', wpfx .. pri, id)
      redis.call('ZADD', KEYS[1], pri, pri)
      redis.call('ZADD', KEYS[4], 0, '0')
      cnt.process = cnt.process - 1
      cnt.new = cnt.new + 1
    end
  end
end
local idle = redis.call('HGETALL', KEYS[13])
for j = 1, #idle, 2 do
  local _, expires = idleEntry(idle[j + 1])
  if not expires or expires < now then
    redis.call('HDEL', KEYS[13], idle[j])
    unhand(idle[j])
  end
end

-- tasks held by workers whose lease expired
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[2], dead)
  redis.call('HDEL', KEYS[13], dead)
  unhand(dead)
  local held = hpfx .. dead
  for _, id in ipairs(redis.call('SMEMBERS', held)) do
    local k = pfx .. id
    -- pcall: a key that is not a task hash is left alone (no write of this round fails on it)
    local f = redis.pcall('HMGET', k, 'st', 'wid', 'stl', 'pri', 'cx')
    -- a task waiting for its children (`waiting`) is held too: it runs again from the start
    if not f.err and (f[1] == 'process' or f[1] == 'waiting') and f[2] == dead then
      cnt[f[1]] = cnt[f[1]] - 1
      local stalls = (tonumber(f[3]) or 0) + 1
      redis.call('HSET', k, 'stl', stalls)
      if f[5] then
        redis.call('SREM', KEYS[11], id)
        final(k, id, 'cancel', KEYS[9], 'cr', f[5])
      elseif not level(f[4]) then
        final(k, id, 'error', KEYS[8], 'err', badErr(id, 'its priority is not a number'))
      elseif stalls > maxStalls then
        final(k, id, 'error', KEYS[8], 'err', cjson.encode({ name = 'StalledError', code = 'QTASKS_ERR_STALLED',
          message = 'The task stalled ' .. stalls .. ' time(s): its worker stopped renewing its lease (crashed or blocked)' }))
      else
        local pri = level(f[4])
        redis.call('HSET', k, 'st', 'new', 'up', now)
        redis.call('LPUSH', wpfx .. pri, id)
        redis.call('ZADD', KEYS[1], pri, pri)
        redis.call('ZADD', KEYS[4], 0, '0')
        cnt.new = cnt.new + 1
      end
    end
  end
  redis.call('DEL', held)
end

-- finished records past their ttl (oldest first; they leave `all` too when the record is gone)
for j, st in ipairs({ 'success', 'error', 'cancel' }) do cnt[st] = (cnt[st] or 0) - dropExpired(KEYS[6 + j], st, 1000, pfx, KEYS[10]) end
-- ids of records gone some other way (deleted by hand, evicted) leave `all` through a sweep that
-- goes on where the last one stopped, whatever lives at the head
local from = redis.call('HGET', KEYS[12], 'sweep') or '-inf'
local swept = redis.call('ZRANGEBYSCORE', KEYS[10], from, '+inf', 'WITHSCORES', 'LIMIT', 0, 200)
for j = 1, #swept, 2 do
  if redis.call('EXISTS', pfx .. swept[j]) == 0 then redis.call('ZREM', KEYS[10], swept[j]) end
end
if #swept < 400 then redis.call('HDEL', KEYS[12], 'sweep') else redis.call('HSET', KEYS[12], 'sweep', '(' .. swept[#swept]) end

for st, d in pairs(cnt) do
  if d ~= 0 then redis.call('HINCRBY', KEYS[3], st, d) end
end
-- one encode of the list (a table of strings 1..n encodes as a JSON array)
if #notify > 0 then redis.call('PUBLISH', chan, 'f' .. cjson.encode(notify)) end
return cancels
