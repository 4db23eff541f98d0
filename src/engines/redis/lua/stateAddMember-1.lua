--[[
  Adds whole numbers to sets kept in shared state values as JSON arrays of numbers, each once, in
  the order given (a missing value, or one that is not such an array, counts as empty): the ended
  members of workflow groups, those of one tick in one call. A field given several times is read
  and written once, and each add still gets the set's size right after it.
  KEYS[1] state hash
  ARGV field, member (digits), field, member, ...
  Beside each array, field `<field>\0#` keeps `<members>:<length of the array's text>`, so that a
  large set is neither checked nor counted char by char at every call: it holds while the array's
  text has that length (a write by anything else, an older version's `update` say, changes the
  length: the array is then checked and counted again). The state's readers skip that field.
  Redis makes a Lua string of a value by reading every byte: a set is read once and written once
  per call, however many members it gains.
  Returns how many members the set holds after each add.
]]
local H = KEYS[1]

-- the set in `field` as stored: its text (an array as written here and by JSON.stringify,
-- "[1,2,3]") and its size, with whether the text had to be rewritten to be such an array
local function load(field)
  local got = redis.call('HMGET', H, field, field .. '\0#')
  local cur, meta = got[1], got[2]
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
  if not cur then return { text = '[]', n = 0, stored = got[1], meta = meta, added = {}, seen = {} } end
  return { text = cur, n = n, stored = got[1], meta = meta, added = {}, seen = {} }
end

-- true when `m` is in the text of `s` (the members it held when read)
local function held(s, m)
  local cur = s.text
  return s.n > 0 and (cur == '[' .. m .. ']' or string.sub(cur, 1, #m + 2) == '[' .. m .. ','
    or string.sub(cur, -#m - 2) == ',' .. m .. ']' or string.find(cur, ',' .. m .. ',', 1, true) ~= nil)
end

local sets, order, out = {}, {}, {}
for i = 1, #ARGV, 2 do
  local field, m = ARGV[i], ARGV[i + 1]
  local s = sets[field]
  if not s then
    s = load(field)
    sets[field] = s
    order[#order + 1] = field
  end
  if not s.seen[m] then
    s.seen[m] = true
    if not held(s, m) then s.added[#s.added + 1] = m end
  end
  out[#out + 1] = s.n + #s.added
end

for _, field in ipairs(order) do
  local s = sets[field]
  local nxt = s.text
  local n = s.n + #s.added
  if #s.added > 0 then
    local more = table.concat(s.added, ',')
    nxt = s.n == 0 and '[' .. more .. ']' or string.sub(s.text, 1, -2) .. ',' .. more .. ']'
  end
  local want = n .. ':' .. #nxt
  if #s.added > 0 or s.meta ~= want or s.stored ~= nxt then redis.call('HSET', H, field, nxt, field .. '\0#', want) end
end
return out
