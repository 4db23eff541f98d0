--[[
  Removes tasks that are not running: the ids given, or every task in one status (purge).
  KEYS[1] prios  KEYS[2] delayed  KEYS[3] cnt  KEYS[4] done:success  KEYS[5] done:error  KEYS[6] done:cancel
  KEYS[7] all (zset: id -> enqueue seq)
  ARGV[1] task key prefix  ARGV[2] items key prefix  ARGV[3] wait list prefix
  ARGV[4] status to purge ('' to remove the ids)  ARGV[5..] ids; when purging, ARGV[5] '1': the
  queue's tasks are queued by a broker of another engine, so records of the status found in the
  index (KEYS[7]) and in no list go too
  Returns how many were removed.
]]
local pfx, ipfx, wpfx, purge = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
--- @include "many"
local done = { success = KEYS[4], error = KEYS[5], cancel = KEYS[6] }
local removed = 0
local function drop(id, st, pri, unlink)
  if unlink then
    if done[st] then
      redis.call('LREM', done[st], 1, id)
    elseif redis.call('ZREM', KEYS[2], id) == 0 then
      redis.call('LREM', wpfx .. pri, 1, id)
    end
  end
  redis.call('DEL', pfx .. id, ipfx .. id)
  redis.call('ZREM', KEYS[7], id)
  redis.call('HINCRBY', KEYS[3], st, -1)
  removed = removed + 1
end
if purge == '' then
  for i = 5, #ARGV do
    local f = redis.pcall('HMGET', pfx .. ARGV[i], 'st', 'pri', 'd')
    if f.err then
      -- not a task hash at all: it goes (it can be in no list a worker reads)
      redis.call('DEL', pfx .. ARGV[i], ipfx .. ARGV[i])
      redis.call('ZREM', KEYS[7], ARGV[i])
      removed = removed + 1
    else
      local st = f[1] or (f[3] and 'new')
      if st and st ~= 'process' and st ~= 'waiting' then drop(ARGV[i], st, f[2] or '0', true) end
    end
  end
  return removed
end
-- purge: rebuild each list the status lives in, keeping the others
local function status(id)
  local f = redis.call('HMGET', pfx .. id, 'st', 'd')
  return f[1] or (f[2] and 'new')
end
local function sweepList(key)
  local keep = {}
  for _, id in ipairs(redis.call('LRANGE', key, 0, -1)) do
    if status(id) == purge then drop(id, purge, nil, false) else keep[#keep + 1] = id end
  end
  redis.call('DEL', key)
  many('RPUSH', key, keep)
end
if done[purge] then
  sweepList(done[purge])
else
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    if status(id) == purge then
      redis.call('ZREM', KEYS[2], id)
      drop(id, purge, nil, false)
    end
  end
  if purge ~= 'delayed' then
    for _, lv in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do sweepList(wpfx .. lv) end
  end
  if ARGV[5] == '1' then
    for _, id in ipairs(redis.call('ZRANGE', KEYS[7], 0, -1)) do
      if status(id) == purge then drop(id, purge, nil, false) end
    end
  end
end
return removed
