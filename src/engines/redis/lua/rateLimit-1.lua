--[[
  Sliding-window rate limit: records a start when fewer than `max` happened in the last `per` ms.
  KEYS[1] window (zset: score start time)
  ARGV[1] now  ARGV[2] max  ARGV[3] per (ms)  ARGV[4] unique member
  Returns 0 when a start was recorded, otherwise the ms to wait.
]]
local now, max, per = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
if redis.call('ZCARD', KEYS[1]) < max then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], per)
  return 0
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(first[2]) + per - now)
