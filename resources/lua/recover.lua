--[[
  Puts jobs whose lease expired back on wait (their worker died or stalled).

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          <prefix>active, <prefix>wait, <prefix>stats; PUBLISH <prefix>wake
    ARGV[1]  the queue prefix

  Output: the number recovered
]]
--- @include "includes/now"
local p = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', p .. 'active', '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(ids) do
  redis.call('ZREM', p .. 'active', id)
  redis.call('RPUSH', p .. 'wait', id)
  redis.call('HINCRBY', p .. 'stats', 'stalled', 1)
end
if #ids > 0 then redis.call('PUBLISH', p .. 'wake', #ids) end
return #ids
