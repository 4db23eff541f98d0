--[[
  Appends one `ctx.log()` line to a task's record (field `lg`, a JSON array), keeping the newest.
  KEYS[1] task hash
  ARGV[1] the line's JSON ({ at, attempt, line })  ARGV[2] lines kept at most (> 0)
  Returns 1 when kept, 0 for an unknown task.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = redis.call('HGET', KEYS[1], 'lg')
-- lines that do not decode (written by hand or another version) start again
local ok, lines = pcall(cjson.decode, cur or '[]')
if not ok or type(lines) ~= 'table' then lines = {} end
lines[#lines + 1] = cjson.decode(ARGV[1])
local max = tonumber(ARGV[2])
while #lines > max do table.remove(lines, 1) end
redis.call('HSET', KEYS[1], 'lg', cjson.encode(lines))
return 1
