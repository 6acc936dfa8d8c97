--[[
  Puts jobs whose lease expired back on wait (their worker died or stalled).

  Input:
    KEYS[1]  <shard>active
    KEYS[2]  <shard>wait
    KEYS[3]  <shard>stats
    ARGV[1]  the wake channel

  Output: the number recovered
]]
--- @include "includes/now"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('RPUSH', KEYS[2], id)
  redis.call('HINCRBY', KEYS[3], 'stalled', 1)
end
if #ids > 0 then redis.call('PUBLISH', ARGV[1], #ids) end
return #ids
