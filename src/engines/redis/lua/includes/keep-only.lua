-- drops a finished task at once: its record, its items and its index entry (`all`); its finished
-- list and counts are the caller's
local function dropTask(pfx, ipfx, all, id)
  redis.call('DEL', pfx .. id, ipfx .. id)
  redis.call('ZREM', all, id)
end
-- retention: keeps the newest `count` tasks of status `st` in its finished list `key` and those
-- that ended within `age` ms (spec: JSON [count, age], -1 for none); the others are dropped with
-- their items and index entry (`all`), at most 1000 per call. A finished list is in finishing
-- order, oldest first; every id popped was counted in cnt under `st` (also one whose record expired
-- already): returns how many were popped.
local function keepOnly(st, key, spec, pfx, ipfx, all, now)
  local r = cjson.decode(spec)
  local n = 0
  if r[1] >= 0 then
    for _ = 1, math.min(1000, redis.call('LLEN', key) - r[1]) do
      local id = redis.call('LPOP', key)
      if redis.call('HGET', pfx .. id, 'st') == st then dropTask(pfx, ipfx, all, id) end
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
      if f[1] == st then dropTask(pfx, ipfx, all, id) end
      n = n + 1
    end
  end
  return n
end
