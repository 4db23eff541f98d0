-- drops finished tasks `ids` at once: their records, items and index entries (`all`), in one DEL
-- and one ZREM per 500; their finished list and counts are the caller's
local function dropTasks(pfx, ipfx, all, ids)
  for s = 1, #ids, 500 do
    local e = math.min(s + 499, #ids)
    local keys = {}
    for j = s, e do
      keys[#keys + 1] = pfx .. ids[j]
      keys[#keys + 1] = ipfx .. ids[j]
    end
    redis.call('DEL', unpack(keys))
    redis.call('ZREM', all, unpack(ids, s, e))
  end
end
-- retention: keeps the newest `count` tasks of status `st` in its finished list `key` and those
-- that ended within `age` ms (spec: JSON [count, age], -1 for none); the others are dropped with
-- their items and index entry (`all`), at most 1000 per call. A finished list is in finishing
-- order, oldest first; every id popped was counted in cnt under `st` (also one whose record expired
-- already or moved on, which is not dropped): returns how many were popped. The ids to pop are read
-- in one LRANGE (by count) or in chunks (by age), the records of status `st` among them deleted in
-- one DEL and taken out of `all` in one ZREM, and the list trimmed once: a record costs one read of
-- its status instead of five calls.
local function keepOnly(st, key, spec, pfx, ipfx, all, now)
  local r = cjson.decode(spec)
  local n = 0
  -- the records of status `st` among the first `upto` of `ids` leave with their items and index
  -- entries
  local function dropOwn(ids, upto, states)
    local own = {}
    for j = 1, upto do
      if states[j] == st then own[#own + 1] = ids[j] end
    end
    dropTasks(pfx, ipfx, all, own)
  end
  if r[1] >= 0 then
    local over = math.min(1000, redis.call('LLEN', key) - r[1])
    if over > 0 then
      local ids = redis.call('LRANGE', key, 0, over - 1)
      local states = {}
      for j = 1, #ids do states[j] = redis.call('HGET', pfx .. ids[j], 'st') end
      dropOwn(ids, #ids, states)
      n = #ids
    end
  end
  if r[2] >= 0 then
    local cut = now - r[2]
    local chunk = 8
    while n < 1000 do
      local m = math.min(chunk, 1000 - n)
      local ids = redis.call('LRANGE', key, n, n + m - 1)
      if #ids == 0 then break end
      local states, out = {}, 0
      for j = 1, #ids do
        local f = redis.call('HMGET', pfx .. ids[j], 'st', 'fa')
        if f[1] == st and (tonumber(f[2]) or 0) >= cut then break end
        states[j] = f[1]
        out = j
      end
      dropOwn(ids, out, states)
      n = n + out
      if out < #ids or #ids < m then break end
      chunk = math.min(chunk * 2, 256)
    end
  end
  if n == 1 then redis.call('LPOP', key) elseif n > 1 then redis.call('LTRIM', key, n, -1) end
  return n
end
-- the retention specs a call applies (with keepOnly, after its ends joined their lists), each
-- status and spec once: applying one again in the same call would pop nothing more (unless it
-- reached its 1000 ids, which the next call goes on with)
local trims, trimSeen = {}, {}
local function trimLater(st, spec)
  local k = st .. spec
  if trimSeen[k] then return end
  trimSeen[k] = true
  trims[#trims + 1] = { st, spec }
end
