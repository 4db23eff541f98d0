--[[
  Record writes for a broker of another engine: a compare-and-set of one task's status and fields.
  KEYS[1] task hash  KEYS[2] cnt  KEYS[3] done:success  KEYS[4] done:error  KEYS[5] done:cancel
  KEYS[6] items list
  ARGV[1] task id  ARGV[2] statuses allowed now (',new,delayed,')  ARGV[3] result ttl (ms)
  ARGV[4] how many field pairs to set follow, then those pairs, then the fields to clear
  A record that reaches a final status expires after the ttl (its items too) and joins its finished
  list; one that leaves a final status (queued again) is kept again and leaves that list.
  Returns the HGETALL after the change, or false when the task is unknown, not a task hash or in
  another status.
]]
local k = KEYS[1]
local f = redis.pcall('HMGET', k, 'd', 'st')
if f.err or not f[1] then return false end
local st = f[2] or 'new'
if not string.find(ARGV[2], ',' .. st .. ',', 1, true) then return false end
local id, n = ARGV[1], tonumber(ARGV[4])
local set, nxt = {}, st
for i = 5, 4 + n * 2, 2 do
  set[#set + 1] = ARGV[i]
  set[#set + 1] = ARGV[i + 1]
  if ARGV[i] == 'st' then nxt = ARGV[i + 1] end
end
local del = {}
for i = 5 + n * 2, #ARGV do del[#del + 1] = ARGV[i] end
if #del > 0 then redis.call('HDEL', k, unpack(del)) end
if #set > 0 then redis.call('HSET', k, unpack(set)) end
if nxt ~= st then
  local lists = { success = KEYS[3], error = KEYS[4], cancel = KEYS[5] }
  redis.call('HINCRBY', KEYS[2], st, -1)
  redis.call('HINCRBY', KEYS[2], nxt, 1)
  if lists[st] then
    redis.call('LREM', lists[st], 1, id)
    redis.call('PERSIST', k)
    redis.call('PERSIST', KEYS[6])
  end
  if lists[nxt] then
    redis.call('RPUSH', lists[nxt], id)
    redis.call('PEXPIRE', k, ARGV[3])
    redis.call('PEXPIRE', KEYS[6], ARGV[3])
  end
end
return redis.call('HGETALL', k)
