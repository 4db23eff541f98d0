--[[
  Record writes for a broker of another engine: compare-and-sets of many tasks' statuses and
  fields in one call (each as rwTransition does it, one after the other), with the retention of
  the ends that ask for one, then a few expired ids dropped from the head of each finished list.
  KEYS[1] cnt  KEYS[2] done:success  KEYS[3] done:error  KEYS[4] done:cancel  KEYS[5] all (zset)
  ARGV[1] task key prefix  ARGV[2] items key prefix  ARGV[3] result ttl (ms)  ARGV[4] now
  ARGV[5] how many expired ids at most to drop from the head of each finished list, then per change:
  id, statuses allowed now (',new,delayed,'), retention ('' keep, '1' drop the task now, or JSON
  [count, age] of the tasks of that end to keep, -1 for none; applied when the change ends it
  success or error, in this call: no reader sees the end before its retention), how many field
  pairs to set, those pairs, how many fields to clear, those fields
  A change to `process` or `retry` of a task whose stored priority (`pri`) is not a number ends it
  `error` QTASKS_ERR_BAD_RECORD instead.
  Returns one entry per change: the HGETALL after it (before the drop, for a task dropped at its
  end), or false when the task is unknown, not a task hash or in another status.
]]
local pfx, ipfx, ttl, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local lists = { success = KEYS[2], error = KEYS[3], cancel = KEYS[4] }
local out = {}
local trims = {}
--- @include "level"
--- @include "bad-err"
--- @include "keep-only"
--- @include "drop-expired"
local b = 6
while b <= #ARGV do
  local id, allowed, keep = ARGV[b], ARGV[b + 1], ARGV[b + 2]
  local nset = tonumber(ARGV[b + 3])
  local setFrom = b + 4
  local ndel = tonumber(ARGV[setFrom + nset * 2])
  local delFrom = setFrom + nset * 2 + 1
  b = delFrom + ndel
  local k = pfx .. id
  local f = redis.pcall('HMGET', k, 'd', 'st')
  local st = (not f.err) and f[1] and (f[2] or 'new')
  if not st or not string.find(allowed, ',' .. st .. ',', 1, true) then
    out[#out + 1] = false
  else
    local set, nxt = {}, st
    for i = setFrom, setFrom + nset * 2 - 1, 2 do
      set[#set + 1] = ARGV[i]
      set[#set + 1] = ARGV[i + 1]
      if ARGV[i] == 'st' then nxt = ARGV[i + 1] end
    end
    if (nxt == 'process' or nxt == 'retry') and not level(redis.call('HGET', k, 'pri')) then
      -- its stored priority is not a number: it cannot run or be queued again, it ends here
      set = { 'st', 'error', 'err', badErr(id, 'its priority is not a number'), 'fa', now, 'up', now }
      nxt, ndel = 'error', 0
    end
    if ndel > 0 then redis.call('HDEL', k, unpack(ARGV, delFrom, delFrom + ndel - 1)) end
    if #set > 0 then redis.call('HSET', k, unpack(set)) end
    -- dropped at its end: it joins neither the counts nor the finished list of that end
    local drop = keep == '1' and nxt ~= st and (nxt == 'success' or nxt == 'error')
    if nxt ~= st then
      redis.call('HINCRBY', KEYS[1], st, -1)
      if not drop then redis.call('HINCRBY', KEYS[1], nxt, 1) end
      if lists[st] then
        redis.call('LREM', lists[st], 1, id)
        redis.call('PERSIST', k)
        redis.call('PERSIST', ipfx .. id)
      end
      if lists[nxt] and not drop then
        redis.call('RPUSH', lists[nxt], id)
        redis.call('PEXPIRE', k, ttl)
        redis.call('PEXPIRE', ipfx .. id, ttl)
      end
      if keep ~= '' and not drop and (nxt == 'success' or nxt == 'error') then trims[#trims + 1] = { nxt, keep } end
    end
    out[#out + 1] = redis.call('HGETALL', k)
    if drop then dropTask(pfx, ipfx, KEYS[5], id) end
  end
end

for _, t in ipairs(trims) do
  local n = keepOnly(t[1], lists[t[1]], t[2], pfx, ipfx, KEYS[5], now)
  if n > 0 then redis.call('HINCRBY', KEYS[1], t[1], -n) end
end

-- expired ids leave the finished lists at the pace tasks change, so that the indexes stay bounded
local budget = tonumber(ARGV[5])
for j, st in ipairs(budget > 0 and { 'success', 'error', 'cancel' } or {}) do
  local n = dropExpired(KEYS[1 + j], st, budget, pfx, KEYS[5])
  if n > 0 then redis.call('HINCRBY', KEYS[1], st, -n) end
end
return out
