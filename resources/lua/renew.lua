--[[
  Extends the leases of jobs still held under the given claim tokens.

  Input:
    KEYS[1]   <shard>active
    KEYS[2…]  each job's hash, <shard>job:<id>, in the order of ARGV's jobs
    ARGV[1]   lease, ms
    ARGV[2…]  job id, token, …

  Output: the number renewed
]]
--- @include "includes/now"
local deadline = now + tonumber(ARGV[1])
local n = 0
for j = 1, #KEYS - 1 do
  local id, tok = ARGV[2 * j], ARGV[2 * j + 1]
  if redis.call('HGET', KEYS[1 + j], 'token') == tok and
     redis.call('ZADD', KEYS[1], 'XX', 'CH', deadline, id) == 1 then n = n + 1 end
end
return n
