--[[
  Adds a whole number to the set kept in a shared state value as a JSON array of numbers, once (a
  missing value, or one that is not such an array, counts as empty): the ended members of a
  workflow group.
  KEYS[1] state hash
  ARGV[1] field  ARGV[2] the member (digits)
  Beside the array, field `<field>\0#` keeps `<members>:<length of the array's text>`, so that a
  large set is neither checked nor counted char by char at every call: it holds while the array's
  text has that length (a write by anything else, an older version's `update` say, changes the
  length: the array is then checked and counted again). The state's readers skip that field.
  Returns how many members the set holds.
]]
local H, key, m = KEYS[1], ARGV[1], ARGV[2]
local side = key .. '\0#'
local got = redis.call('HMGET', H, key, side)
local cur, meta = got[1], got[2]
-- members in `cur` when it is an array as written here and by JSON.stringify ("[1,2,3]")
local n
if cur and meta then
  local c = string.find(meta, ':', 1, true)
  if c and tonumber(string.sub(meta, c + 1)) == #cur then n = tonumber(string.sub(meta, 1, c - 1)) end
end
if not n and cur then
  if cur == '[]' then
    n = 0
  elseif string.find(cur, '^%[[%d,]*%]$') and not string.find(cur, ',,', 1, true)
    and string.sub(cur, 2, 2) ~= ',' and string.sub(cur, -2, -2) ~= ',' then
    n = select(2, string.gsub(cur, ',', ',')) + 1
  else
    -- any other form: decoded (an array of whole numbers with spaces, say) and written as above;
    -- anything else starts a new set
    local ok, set = pcall(cjson.decode, cur)
    local out = {}
    if ok and type(set) == 'table' then
      for _, v in ipairs(set) do
        if type(v) ~= 'number' or v < 0 or v ~= math.floor(v) then
          out = {}
          break
        end
        out[#out + 1] = string.format('%d', v)
      end
    end
    cur, n = '[' .. table.concat(out, ',') .. ']', #out
  end
end
if not cur then cur, n = '[]', 0 end
local found = n > 0 and (cur == '[' .. m .. ']' or string.sub(cur, 1, #m + 2) == '[' .. m .. ','
  or string.sub(cur, -#m - 2) == ',' .. m .. ']' or string.find(cur, ',' .. m .. ',', 1, true))
if found then
  local want = n .. ':' .. #cur
  if meta ~= want or got[1] ~= cur then redis.call('HSET', H, key, cur, side, want) end
  return n
end
local nxt = n == 0 and '[' .. m .. ']' or string.sub(cur, 1, -2) .. ',' .. m .. ']'
redis.call('HSET', H, key, nxt, side, (n + 1) .. ':' .. #nxt)
return n + 1
