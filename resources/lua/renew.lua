--[[
  Extends the leases of jobs still held under the given claim tokens.

  Input:
    KEYS[1]  <shard>active
    ARGV[1]  the shard's job key prefix, <shard>job:
    ARGV[2]  lease, ms
    ARGV[3…] job id, token, …

  Output: the number renewed
]]
--- @include "includes/now"
local jp = ARGV[1]
local deadline = now + tonumber(ARGV[2])
local n = 0
for i = 3, #ARGV, 2 do
  if redis.call('HGET', jp .. ARGV[i], 'token') == ARGV[i + 1] and
     redis.call('ZADD', KEYS[1], 'XX', 'CH', deadline, ARGV[i]) == 1 then n = n + 1 end
end
return n
