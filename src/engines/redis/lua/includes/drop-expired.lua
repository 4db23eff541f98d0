-- ids at the head of the finished list `key` of status `st` whose record expired or was dropped,
-- at most `budget` (every finished record has the same ttl, so the head is the first to expire):
-- they leave the list, and `all` too when the record is gone. Returns how many left the list
-- (each was counted in cnt under `st`).
-- An id leaves when its record is not in status `st` any more (gone, or moved on); the first whose
-- record is still `st` stops the walk. The head is read alone (in most calls it is live: one LINDEX
-- and one HGET); past a gone head, the next ids come in chunks that grow while whole chunks are
-- gone (one LRANGE and one EXISTS of all their keys tell), one by one otherwise. The ids that left
-- are trimmed at once, and those whose record is gone leave `all` in one ZREM per chunk: a record
-- costs Redis a few arguments instead of five calls.
local function dropExpired(key, st, budget, pfx, all)
  if budget < 1 then return 0 end
  local id = redis.call('LINDEX', key, '0')
  if not id then return 0 end
  local cur = redis.call('HGET', pfx .. id, 'st')
  if cur == st then return 0 end
  local n, gone, ng = 1, {}, 0
  if not cur and redis.call('EXISTS', pfx .. id) == 0 then
    ng = 1
    gone[1] = id
  end
  -- one id after another from `ids` (keys `keys`), as the head above; false when one is still `st`
  local function oneByOne(ids, keys)
    for j = 1, #ids do
      local c = redis.call('HGET', keys[j], 'st')
      if c == st then return false end
      n = n + 1
      if not c and redis.call('EXISTS', keys[j]) == 0 then
        ng = ng + 1
        gone[ng] = ids[j]
      end
    end
    return true
  end
  local chunk = 4
  while n < budget do
    local m = math.min(chunk, budget - n)
    local ids = redis.call('LRANGE', key, n, n + m - 1)
    if #ids == 0 then break end
    local keys = {}
    for j = 1, #ids do keys[j] = pfx .. ids[j] end
    if redis.call('EXISTS', unpack(keys)) == 0 then
      -- every record of the chunk is gone
      n = n + #ids
      redis.call('ZREM', all, unpack(ids))
      chunk = math.min(chunk * 2, 256)
    elseif not oneByOne(ids, keys) then
      break
    else
      chunk = 4
    end
    if #ids < m then break end
  end
  if ng > 0 then
    for s = 1, ng, 256 do redis.call('ZREM', all, unpack(gone, s, math.min(s + 255, ng))) end
  end
  if n == 1 then redis.call('LPOP', key) else redis.call('LTRIM', key, n, -1) end
  return n
end
