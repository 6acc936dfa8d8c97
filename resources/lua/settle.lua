--[[
  Ends or reschedules claimed jobs, only under their claim token: C completed, P parked, F failed, R retry after delay, D delay without an attempt, L back to wait without an attempt.

  Input:
    KEYS[1]   <shard>active
    KEYS[2]   <shard>delayed
    KEYS[3]   <shard>wait
    KEYS[4]   <shard>stats
    KEYS[5…]  each job's hash, <shard>job:<id>, in the order of ARGV's operations
    ARGV[1…]  op, job id, delay ms, token, …

  Output: the number settled
]]
--- @include "includes/now"
local active, delayed, wait, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local n = 0
for j = 1, #KEYS - 4 do
  local a = 4 * (j - 1)
  local op, id, delay, tok = ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3]), ARGV[a + 4]
  local jk = KEYS[4 + j]
  if redis.call('HGET', jk, 'token') == tok and redis.call('ZREM', active, id) == 1 then
    n = n + 1
    if op == 'C' then
      redis.call('DEL', jk); redis.call('HINCRBY', stats, 'completed', 1)
    elseif op == 'P' then
      redis.call('DEL', jk); redis.call('HINCRBY', stats, 'parked', 1)
    elseif op == 'F' then
      redis.call('DEL', jk); redis.call('HINCRBY', stats, 'failed', 1)
    elseif op == 'R' then
      redis.call('ZADD', delayed, now + delay, id)
    elseif op == 'D' then
      redis.call('HINCRBY', jk, 'attempts', -1)
      redis.call('ZADD', delayed, now + delay, id)
    elseif op == 'L' then
      redis.call('HINCRBY', jk, 'attempts', -1)
      redis.call('RPUSH', wait, id)
    end
  end
end
return n
