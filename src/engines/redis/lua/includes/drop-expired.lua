-- ids at the head of the finished list `key` of status `st` whose record expired or was dropped,
-- at most `budget` (every finished record has the same ttl, so the head is the first to expire):
-- they leave the list, and `all` too when the record is gone. Returns how many left the list
-- (each was counted in cnt under `st`).
local function dropExpired(key, st, budget, pfx, all)
  local n = 0
  while n < budget do
    local id = redis.call('LINDEX', key, '0')
    if not id then break end
    local cur = redis.call('HGET', pfx .. id, 'st')
    if cur == st then break end
    redis.call('LPOP', key)
    if not cur and redis.call('EXISTS', pfx .. id) == 0 then redis.call('ZREM', all, id) end
    n = n + 1
  end
  return n
end
