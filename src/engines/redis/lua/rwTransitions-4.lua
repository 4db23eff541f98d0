--[[
  Record writes for a broker of another engine: compare-and-sets of many tasks' statuses and
  fields in one call (each as rwTransition does it, one after the other).
  KEYS[1] cnt  KEYS[2] done:success  KEYS[3] done:error  KEYS[4] done:cancel
  ARGV[1] task key prefix  ARGV[2] items key prefix  ARGV[3] result ttl (ms), then per change:
  id, statuses allowed now (',new,delayed,'), how many field pairs to set, those pairs, how many
  fields to clear, those fields
  Returns one entry per change: the HGETALL after it, or false when the task is unknown, not a task
  hash or in another status.
]]
local pfx, ipfx, ttl = ARGV[1], ARGV[2], ARGV[3]
local lists = { success = KEYS[2], error = KEYS[3], cancel = KEYS[4] }
local out = {}
local b = 4
while b <= #ARGV do
  local id, allowed = ARGV[b], ARGV[b + 1]
  local nset = tonumber(ARGV[b + 2])
  local setFrom = b + 3
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
    if ndel > 0 then redis.call('HDEL', k, unpack(ARGV, delFrom, delFrom + ndel - 1)) end
    if #set > 0 then redis.call('HSET', k, unpack(set)) end
    if nxt ~= st then
      redis.call('HINCRBY', KEYS[1], st, -1)
      redis.call('HINCRBY', KEYS[1], nxt, 1)
      if lists[st] then
        redis.call('LREM', lists[st], 1, id)
        redis.call('PERSIST', k)
        redis.call('PERSIST', ipfx .. id)
      end
      if lists[nxt] then
        redis.call('RPUSH', lists[nxt], id)
        redis.call('PEXPIRE', k, ttl)
        redis.call('PEXPIRE', ipfx .. id, ttl)
      end
    end
    out[#out + 1] = redis.call('HGETALL', k)
  end
end
return out
