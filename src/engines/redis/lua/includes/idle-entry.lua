-- an idle worker's entry (`want:expires:leaseMs`, written by the finish script): its three numbers
-- (each nil when it does not read as one; all nil without two colons) and the position of its
-- first colon
local function idleEntry(v)
  local a = string.find(v, ':', 1, true)
  local b = a and string.find(v, ':', a + 1, true)
  if not b then return nil end
  return tonumber(string.sub(v, 1, a - 1)), tonumber(string.sub(v, a + 1, b - 1)), tonumber(string.sub(v, b + 1)), a
end
