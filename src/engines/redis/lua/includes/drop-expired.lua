-- ids at the head of the finished list `key` of status `st` whose record expired or was dropped,
-- at most `budget` (every finished record has the same ttl, so the head is the first to expire):
-- they leave the list, and `all` too when the record is gone. Returns how many left the list
-- (each was counted in cnt under `st`).
-- An id leaves when its record is not in status `st` any more (gone, or moved on); the first whose
-- record is still `st` stops the walk. The head is read alone (in most calls it is live: one LINDEX
-- and one HGET); past a gone head the ids come in chunks that grow while whole chunks are gone (one
-- LRANGE and one EXISTS of all their keys tell), and the run of gone records at the start of a
-- chunk is found by halving it (EXISTS again); the record after that run is read as the head was.
-- The ids that left are trimmed at once, and those whose record is gone leave `all` in one ZREM per
-- chunk: a record costs Redis a few arguments instead of five calls.
local function dropExpired(key, st, budget, pfx, all)
  if budget < 1 then return 0 end
  local id = redis.call('LINDEX', key, '0')
  if not id then return 0 end
  local k = pfx .. id
  local cur = redis.call('HGET', k, 'st')
  if cur == st then return 0 end
  if not cur and redis.call('EXISTS', k) == 0 then redis.call('ZREM', all, id) end
  local n, chunk = 1, 8
  -- how many of keys[i..j] in a row, from i, are gone (`some`: one of them is known to exist)
  local function goneRun(keys, i, j, some)
    if not some and redis.call('EXISTS', unpack(keys, i, j)) == 0 then return j - i + 1 end
    if i == j then return 0 end
    local mid = math.floor((i + j) / 2)
    local left = goneRun(keys, i, mid, false)
    if left <= mid - i then return left end
    return left + goneRun(keys, mid + 1, j, true)
  end
  while n < budget do
    local m = math.min(chunk, budget - n)
    local ids = redis.call('LRANGE', key, n, n + m - 1)
    if #ids == 0 then break end
    local keys = {}
    for j = 1, #ids do keys[j] = pfx .. ids[j] end
    local g = goneRun(keys, 1, #ids, false)
    if g > 0 then redis.call('ZREM', all, unpack(ids, 1, g)) end
    n = n + g
    if g < #ids then
      -- the record after the run exists: still `st` stops the walk, else (moved on, or its id was
      -- taken by a new task) it leaves the list and stays indexed
      if redis.call('HGET', keys[g + 1], 'st') == st then break end
      n = n + 1
      chunk = 8
    else
      if #ids < m then break end
      chunk = math.min(chunk * 2, 256)
    end
  end
  if n == 1 then redis.call('LPOP', key) else redis.call('LTRIM', key, n, -1) end
  return n
end
