--[[
  Record writes for a broker of another engine: compare-and-sets of many tasks' statuses and
  fields in one call (each as rwTransition does it, one after the other), with the retention of
  the ends that ask for one, then a few expired ids dropped from the head of each finished list.
  KEYS[1] cnt  KEYS[2] done:success  KEYS[3] done:error  KEYS[4] done:cancel  KEYS[5] all (zset)
  ARGV[1] task key prefix  ARGV[2] items key prefix  ARGV[3] result ttl (ms)  ARGV[4] now
  ARGV[5] how many expired ids at most to drop from the head of each finished list
  ARGV[6] the changes, as one JSON array (one argument costs the client far less than hundreds),
  each [id, statuses allowed now (',new,delayed,'), retention ('' keep, '1' drop the task now, or
  JSON [count, age] of the tasks of that end to keep, -1 for none; applied when the change ends it
  success or error, in this call: no reader sees the end before its retention), [field, value, …]
  to set, [field, …] to clear, the end of the body (`d`) of the task the caller holds ('' for
  none, or `,"seq":N}`)]; `up` is set to now unless a change sets it
  A change to `process` or `retry` of a task whose stored priority (`pri`) is not a number ends it
  `error` QTASKS_ERR_BAD_RECORD instead.
  Returns, as one JSON text (a single reply costs the client far less than nested ones), one entry
  per change: the hash after it, as HGETALL gives it (the hash read once, before the change, with
  the change applied; before the drop, for a task dropped at its end), or false when
  the task is unknown, not a task hash or in another status. When the stored body ends as the change
  says, the entry carries '=' in its place (the caller has it).
  The counts' changes and the ids pushed on each finished list are gathered and written once per
  call (a list's pushes before anything else reads or changes it): nothing reads them in between.
]]
local pfx, ipfx, ttl, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local lists = { success = KEYS[2], error = KEYS[3], cancel = KEYS[4] }
local out = {}
--- @include "level"
--- @include "bad-err"
--- @include "keep-only"
--- @include "drop-expired"
--- @include "many"
-- count changes by status, and ids waiting to be pushed on each finished list
local delta, pushes = {}, {}
local function count(st, n) delta[st] = (delta[st] or 0) + n end
local function pushAll(st)
  local ids = pushes[st]
  if ids and #ids > 0 then
    many('RPUSH', lists[st], ids)
    pushes[st] = {}
  end
end
for _, c in ipairs(cjson.decode(ARGV[6])) do
  local id, allowed, keep, sets, clear, tail = c[1], c[2], c[3], c[4], c[5], c[6]
  local k = pfx .. id
  -- the whole hash in one read: the status, the priority and the fields to clear (only those
  -- present are cleared) are taken from it, and the entry returned is it with the change applied
  local row = redis.pcall('HGETALL', k)
  local at = {}
  if not row.err then
    for j = 1, #row, 2 do at[row[j]] = j + 1 end
  end
  local st = at.d and (at.st and row[at.st] or 'new')
  if not st or not string.find(allowed, ',' .. st .. ',', 1, true) then
    out[#out + 1] = false
  else
    local set, nxt, up = {}, st, false
    for i = 1, #sets, 2 do
      set[#set + 1] = sets[i]
      set[#set + 1] = sets[i + 1]
      if sets[i] == 'st' then nxt = sets[i + 1] elseif sets[i] == 'up' then up = true end
    end
    if not up then
      set[#set + 1] = 'up'
      set[#set + 1] = ARGV[4]
    end
    local del = {}
    for i = 1, #clear do
      if at[clear[i]] then del[#del + 1] = clear[i] end
    end
    if (nxt == 'process' or nxt == 'retry') and not level(at.pri and row[at.pri]) then
      -- its stored priority is not a number: it cannot run or be queued again, it ends here
      set = { 'st', 'error', 'err', badErr(id, 'its priority is not a number'), 'fa', ARGV[4], 'up', ARGV[4] }
      nxt, del = 'error', {}
    end
    if #del > 0 then redis.call('HDEL', k, unpack(del)) end
    redis.call('HSET', k, unpack(set))
    -- the entry: the hash as read, with the change applied (the body left out when the caller has it)
    for i = 1, #set, 2 do
      local j = at[set[i]]
      if j then
        row[j] = set[i + 1]
      else
        row[#row + 1] = set[i]
        row[#row + 1] = set[i + 1]
      end
    end
    if tail and tail ~= '' and string.sub(row[at.d], -#tail) == tail then row[at.d] = '=' end
    if #del > 0 then
      local gone, kept = {}, {}
      for i = 1, #del do gone[del[i]] = true end
      for j = 1, #row, 2 do
        if not gone[row[j]] then
          kept[#kept + 1] = row[j]
          kept[#kept + 1] = row[j + 1]
        end
      end
      row = kept
    end
    -- dropped at its end: it joins neither the counts nor the finished list of that end
    local drop = keep == '1' and nxt ~= st and (nxt == 'success' or nxt == 'error')
    if nxt ~= st then
      count(st, -1)
      if not drop then count(nxt, 1) end
      if lists[st] then
        pushAll(st)
        redis.call('LREM', lists[st], 1, id)
        redis.call('PERSIST', k)
        redis.call('PERSIST', ipfx .. id)
      end
      if lists[nxt] and not drop then
        local ids = pushes[nxt] or {}
        ids[#ids + 1] = id
        pushes[nxt] = ids
        redis.call('PEXPIRE', k, ttl)
        redis.call('PEXPIRE', ipfx .. id, ttl)
      end
      if keep ~= '' and not drop and (nxt == 'success' or nxt == 'error') then trimLater(nxt, keep) end
    end
    out[#out + 1] = row
    if drop then dropTasks(pfx, ipfx, KEYS[5], { id }) end
  end
end
for st in pairs(lists) do pushAll(st) end

for _, t in ipairs(trims) do
  count(t[1], -keepOnly(t[1], lists[t[1]], t[2], pfx, ipfx, KEYS[5], now))
end

-- expired ids leave the finished lists at the pace tasks change, so that the indexes stay bounded
local budget = tonumber(ARGV[5])
for j, st in ipairs(budget > 0 and { 'success', 'error', 'cancel' } or {}) do
  count(st, -dropExpired(KEYS[1 + j], st, budget, pfx, KEYS[5]))
end
for st, n in pairs(delta) do
  if n ~= 0 then redis.call('HINCRBY', KEYS[1], st, n) end
end
return cjson.encode(out)
