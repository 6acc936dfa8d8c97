--[[
  Makes staged jobs visible to workers, first in first out, and wakes them.

  Input:
    KEYS[1]  <shard>staged
    KEYS[2]  <shard>wait
    ARGV[1]  the wake channel
    ARGV[2…] job ids

  Output: the number published
]]
local n = 0
for i = 2, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('LPUSH', KEYS[2], ARGV[i])
    n = n + 1
  end
end
if n > 0 then redis.call('PUBLISH', ARGV[1], n) end
return n
