--[[
  Adds numbers to shared state values, in the order given (a value that is not a number counts as
  0): the increments of one tick in one call. A field given several times is read and written once,
  and each of its increments still gets the value right after it.
  KEYS[1] state hash
  ARGV field, amount, field, amount, ... (an amount that is not a finite number fails the call
  before anything is written)
  Returns the new value after each increment, as a string (a JSON number).
]]
for i = 2, #ARGV, 2 do
  local by = tonumber(ARGV[i])
  if not by or by ~= by or by == math.huge or by == -math.huge then
    return redis.error_reply('ERR qtasks: state increment of ' .. cjson.encode(ARGV[i - 1]) .. ' by ' .. cjson.encode(ARGV[i]) .. ': not a finite number')
  end
end
-- per field: its value as a number and as written (the text of its last increment)
local num, text, fields, out = {}, {}, {}, {}
for i = 1, #ARGV, 2 do
  local f = ARGV[i]
  local v = num[f]
  if v == nil then
    v = tonumber(redis.call('HGET', KEYS[1], f) or '0') or 0
    fields[#fields + 1] = f
  end
  v = v + tonumber(ARGV[i + 1])
  local s = string.format('%.15g', v)
  if tonumber(s) ~= v then s = string.format('%.17g', v) end
  num[f], text[f] = tonumber(s), s
  out[#out + 1] = s
end
local args = {}
for _, f in ipairs(fields) do
  args[#args + 1] = f
  args[#args + 1] = text[f]
end
redis.call('HSET', KEYS[1], unpack(args))
return out
