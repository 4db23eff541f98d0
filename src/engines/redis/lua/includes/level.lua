-- a stored priority is a plain number (it names a wait list and scores the levels zset); else nil
local function level(p)
  if not p then return '0' end
  local n = tonumber(p)
  if n and n == n and n > -math.huge and n < math.huge and not string.find(p, '[^%d%.eE%+%-]') then return p end
  return nil
end
