--[[
  One chunk of `list`: looks at up to ARGV[4] ids of the index, newest first, below a cursor, and
  returns the records of those whose status matches. Records are not decoded here (the caller
  filters by name and time and pages), so no record can make this call fail, and one call never
  looks at more than one chunk.
  KEYS[1] all (zset: id -> enqueue seq)
  ARGV[1] task key prefix  ARGV[2] statuses, comma-separated ('' for any)
  ARGV[3] cursor: the highest seq to look at ('+inf', or '(' .. seq to start below one)
  ARGV[4] how many ids at most to look at
  Returns { next cursor ('' when the index is exhausted), then id, HGETALL per matching record }
  (a key that is not a hash gives { 'st', '?' }: the caller flags it).
]]
local pfx = ARGV[1]
local statuses = nil
if ARGV[2] ~= '' then
  statuses = {}
  for s in string.gmatch(ARGV[2], '[^,]+') do statuses[s] = true end
end
local chunk = tonumber(ARGV[4])
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[3], '-inf', 'WITHSCORES', 'LIMIT', 0, chunk)
local out = { #ids < chunk * 2 and '' or ('(' .. ids[#ids]) }
for i = 1, #ids, 2 do
  local k = pfx .. ids[i]
  local f = redis.pcall('HMGET', k, 'st', 'd')
  if f.err then
    out[#out + 1] = ids[i]
    out[#out + 1] = { 'st', '?' }
  elseif f[1] or f[2] then
    if not statuses or statuses[f[1] or 'new'] then
      out[#out + 1] = ids[i]
      out[#out + 1] = redis.call('HGETALL', k)
    end
  end
end
return out
