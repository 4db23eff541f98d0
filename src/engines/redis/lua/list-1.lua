--[[
  Lists records newest first (by enqueue order), filtered and paged.
  KEYS[1] all (list of ids, oldest first; ids of records that are gone are skipped)
  ARGV[1] task key prefix  ARGV[2] statuses, comma-separated ('' for any)  ARGV[3] name ('' for any)
  ARGV[4] since ('' for none)  ARGV[5] until ('' for none)  ARGV[6] offset  ARGV[7] limit (-1 for all)
  Returns one HGETALL per matching record.
]]
local pfx = ARGV[1]
local statuses = nil
if ARGV[2] ~= '' then
  statuses = {}
  for s in string.gmatch(ARGV[2], '[^,]+') do statuses[s] = true end
end
local name = ARGV[3]
local since, till = tonumber(ARGV[4]), tonumber(ARGV[5])
local skip, limit = tonumber(ARGV[6]), tonumber(ARGV[7])
local needData = name ~= '' or since or till
local out, seen = {}, {}
local stop = -1
local chunk = 500
while limit < 0 or #out < limit do
  local ids = redis.call('LRANGE', KEYS[1], stop - chunk + 1, stop)
  if #ids == 0 then break end
  stop = stop - chunk
  for i = #ids, 1, -1 do
    local id = ids[i]
    if not seen[id] then
      seen[id] = true
      local k = pfx .. id
      local f = redis.call('HMGET', k, 'st', 'd')
      local ok = f[2] and (not statuses or statuses[f[1] or 'new'])
      if ok and needData then
        local d = cjson.decode(f[2])
        if name ~= '' and d.name ~= name then ok = false end
        if since and d.createdAt < since then ok = false end
        if till and d.createdAt >= till then ok = false end
      end
      if ok then
        if skip > 0 then
          skip = skip - 1
        else
          out[#out + 1] = redis.call('HGETALL', k)
          if limit >= 0 and #out >= limit then break end
        end
      end
    end
  end
  if #ids < chunk then break end
end
return out
