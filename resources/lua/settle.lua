--[[
  Ends or reschedules claimed jobs, only under their claim token: C completed, P parked, F failed, R retry after delay, D delay without an attempt, L back to wait without an attempt.

  Input:
    KEYS[1]  <shard>active
    KEYS[2]  <shard>delayed
    KEYS[3]  <shard>wait
    KEYS[4]  <shard>stats
    ARGV[1]  the shard's job key prefix, <shard>job:
    ARGV[2…] op, job id, delay ms, token, …

  Output: the number settled
]]
--- @include "includes/now"
local active, delayed, wait, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local jp = ARGV[1]
local n = 0
for i = 2, #ARGV, 4 do
  local op, id, delay, tok = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local jk = jp .. id
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
