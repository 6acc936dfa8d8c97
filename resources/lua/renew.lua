--[[
  Extends the leases of jobs still held under the given claim tokens.

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          <prefix>job:<id>, <prefix>active
    ARGV[1]  the queue prefix
    ARGV[2]  lease, ms
    ARGV[3…] job id, token, …

  Output: the number renewed
]]
--- @include "includes/now"
local p = ARGV[1]
local deadline = now + tonumber(ARGV[2])
local n = 0
for i = 3, #ARGV, 2 do
  if redis.call('HGET', p .. 'job:' .. ARGV[i], 'token') == ARGV[i + 1] and
     redis.call('ZADD', p .. 'active', 'XX', 'CH', deadline, ARGV[i]) == 1 then n = n + 1 end
end
return n
