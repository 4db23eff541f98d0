--[[
  Run by a worker when its connection came back and at each lease round: every task in its held
  set that it does not know (a claim whose reply was lost with the connection) goes back to the
  front of its level as the stall sweep does, without counting the attempt it never started (or
  ends cancelled when a cancel was asked). Tasks claimed at or after ARGV[8] are left alone (their
  claim is on the way, or was sent after this call and runs after it), and so are the tasks handed
  over to it that wait in its inbox (they reach it with its next pop or call). It is sent on the
  worker's blocking connection while no pop waits there, so every task a pop took is known.
  KEYS[1] prios  KEYS[2] cnt  KEYS[3] marker  KEYS[4] this worker's held set
  KEYS[5] cancel requests (set)  KEYS[6] done:cancel  KEYS[7] done:error  KEYS[8] this worker's inbox
  ARGV[1] task key prefix  ARGV[2] items key prefix  ARGV[3] wait list prefix  ARGV[4] event channel
  ARGV[5] now  ARGV[6] worker id  ARGV[7] result ttl (ms)  ARGV[8] earliest send time of the
  worker's claims on the way (else now)  ARGV[9] how many known ids follow
  ARGV[10..] the ids this worker runs, has buffered or is recording the end of
  Returns the ids moved out of the held set. A task whose stored priority is not a number ends
  `error` QTASKS_ERR_BAD_RECORD instead of going back (nothing read from a hash makes a write fail).
]]
local n = redis.call('SCARD', KEYS[4])
if n == 0 then return {} end
local known, before = tonumber(ARGV[9]), tonumber(ARGV[8])
local pfx, ipfx, wpfx = ARGV[1], ARGV[2], ARGV[3]
local now, wid, ttl = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local mine = {}
for i = 10, 9 + known do mine[ARGV[i]] = true end
for _, m in ipairs(redis.call('ZRANGE', KEYS[8], 0, -1)) do
  local a = string.find(m, '\n', 1, true)
  local b = a and string.find(m, '\n', a + 1, true)
  if b then mine[string.sub(m, b + 1)] = true end
end
local moved, notify = {}, {}
local back, cancelled, bad, waited = 0, 0, 0, 0
--- @include "level"
--- @include "bad-err"
for _, id in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  if not mine[id] then
    local k = pfx .. id
    local f = redis.pcall('HMGET', k, 'st', 'wid', 'pri', 'att', 'cx', 'sa')
    if f.err or (f[1] ~= 'process' and f[1] ~= 'waiting') or f[2] ~= wid then
      -- not this worker's running task any more (removed, or handed on): only the stale entry goes
      redis.call('SREM', KEYS[4], id)
      moved[#moved + 1] = id
    elseif (tonumber(f[6]) or 0) < before then
      if f[1] == 'waiting' then waited = waited + 1 end
      redis.call('SREM', KEYS[4], id)
      moved[#moved + 1] = id
      local pri = level(f[3])
      if not f[5] and not pri then
        redis.call('HSET', k, 'st', 'error', 'fa', now, 'err', badErr(id, 'its priority is not a number'))
        redis.call('PEXPIRE', k, ttl)
        redis.call('PEXPIRE', ipfx .. id, ttl)
        redis.call('RPUSH', KEYS[7], id)
        bad = bad + 1
        notify[#notify + 1] = id
      elseif f[5] then
        redis.call('SREM', KEYS[5], id)
        redis.call('HSET', k, 'st', 'cancel', 'cr', f[5], 'fa', now)
        redis.call('PEXPIRE', k, ttl)
        redis.call('PEXPIRE', ipfx .. id, ttl)
        redis.call('RPUSH', KEYS[6], id)
        cancelled = cancelled + 1
        notify[#notify + 1] = id
      else
        redis.call('HSET', k, 'st', 'new', 'att', math.max(0, (tonumber(f[4]) or 1) - 1), 'up', now)
        redis.call('LPUSH', wpfx .. pri, id)
        redis.call('ZADD', KEYS[1], pri, pri)
        back = back + 1
      end
    end
  end
end
if back > 0 then
  redis.call('ZADD', KEYS[3], 0, '0')
  redis.call('HINCRBY', KEYS[2], 'new', back)
end
if cancelled > 0 then redis.call('HINCRBY', KEYS[2], 'cancel', cancelled) end
if bad > 0 then redis.call('HINCRBY', KEYS[2], 'error', bad) end
if back + cancelled + bad > waited then redis.call('HINCRBY', KEYS[2], 'process', -(back + cancelled + bad - waited)) end
if waited > 0 then redis.call('HINCRBY', KEYS[2], 'waiting', -waited) end
-- one encode of the list (a table of strings 1..n encodes as a JSON array)
if #notify > 0 then redis.call('PUBLISH', ARGV[4], 'f' .. cjson.encode(notify)) end
return moved
