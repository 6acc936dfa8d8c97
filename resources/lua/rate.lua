--[[
  The global rate limit, one fixed window for every shard and process: take reserves up to n claims in the current window; give returns what a claim did not use, only to the window it was taken from.

  Input:
    KEYS[1]  {<prefix>rl} (hash: n used, w the window's id; expires with the window)
    ARGV[1]  'take' or 'give'
    ARGV[2]  n
    ARGV[3]  take: jobs per window; give: the window id take returned
    ARGV[4]  take: window, ms

  Output: take: {granted, ms until the window frees (0: not limited), window id}; give: 1
]]
local k = KEYS[1]
if ARGV[1] == 'give' then
  if redis.call('HGET', k, 'w') == ARGV[3] then redis.call('HINCRBY', k, 'n', -tonumber(ARGV[2])) end
  return 1
end
--- @include "includes/now"
local want, max, win = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local w = redis.call('HGET', k, 'w')
if not w then
  w = tostring(now)
  redis.call('HSET', k, 'n', 0, 'w', w)
  redis.call('PEXPIRE', k, win)
end
local used = tonumber(redis.call('HGET', k, 'n'))
if used >= max then
  local ttl = redis.call('PTTL', k)
  if ttl <= 0 then ttl = 1 end
  return {0, ttl, w}
end
local grant = math.min(want, max - used)
redis.call('HINCRBY', k, 'n', grant)
return {grant, 0, w}
