--[[
  Ends or reschedules claimed jobs, only under their claim token: C completed, P parked, F failed, R retry after delay, D delay without an attempt, L back to wait without an attempt.

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          <prefix>job:<id>, <prefix>active, <prefix>delayed, <prefix>wait, <prefix>stats
    ARGV[1]  the queue prefix
    ARGV[2…] op, job id, delay ms, token, …

  Output: the number settled
]]
--- @include "includes/now"
local p = ARGV[1]
local n = 0
for i = 2, #ARGV, 4 do
  local op, id, delay, tok = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local jk = p .. 'job:' .. id
  if redis.call('HGET', jk, 'token') == tok and redis.call('ZREM', p .. 'active', id) == 1 then
    n = n + 1
    if op == 'C' then
      redis.call('DEL', jk); redis.call('HINCRBY', p .. 'stats', 'completed', 1)
    elseif op == 'P' then
      redis.call('DEL', jk); redis.call('HINCRBY', p .. 'stats', 'parked', 1)
    elseif op == 'F' then
      redis.call('DEL', jk); redis.call('HINCRBY', p .. 'stats', 'failed', 1)
    elseif op == 'R' then
      redis.call('ZADD', p .. 'delayed', now + delay, id)
    elseif op == 'D' then
      redis.call('HINCRBY', jk, 'attempts', -1)
      redis.call('ZADD', p .. 'delayed', now + delay, id)
    elseif op == 'L' then
      redis.call('HINCRBY', jk, 'attempts', -1)
      redis.call('RPUSH', p .. 'wait', id)
    end
  end
end
return n
