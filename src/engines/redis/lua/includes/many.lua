-- `cmd key` with the values of `list`, in calls of at most 1,000 values (unpack takes a few
-- thousand at most; a list of pairs stays whole): the reply of the one call as it is, or, for
-- several calls, the entries of their table replies joined; no call for an empty list ({} then)
local function many(cmd, key, list)
  local n = #list
  if n == 0 then return {} end
  if n <= 1000 then return redis.call(cmd, key, unpack(list)) end
  local out = {}
  for s = 1, n, 1000 do
    local r = redis.call(cmd, key, unpack(list, s, math.min(s + 999, n)))
    if type(r) == 'table' then for j = 1, #r do out[#out + 1] = r[j] end end
  end
  return out
end
