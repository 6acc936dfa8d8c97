--[[
  Moves due delayed jobs to wait, then claims up to max jobs under the global rate limit, each with a lease and a claim token.

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          <prefix>delayed, <prefix>wait, <prefix>active, <prefix>rl, <prefix>job:<id>
    ARGV[1]  the queue prefix
    ARGV[2]  max jobs
    ARGV[3]  lease, ms
    ARGV[4]  rate limit: jobs per window (0: none)
    ARGV[5]  rate window, ms

  Output: { {id, data, attempts, token, …}, ms until the rate limit frees (0: not limited), ms until the next delayed job (-1: none), jobs waiting }
]]
--- @include "includes/now"
local p = ARGV[1]
local max = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local rlMax = tonumber(ARGV[4])
local rlWin = tonumber(ARGV[5])
local due = redis.call('ZRANGEBYSCORE', p .. 'delayed', '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', p .. 'delayed', id)
  redis.call('RPUSH', p .. 'wait', id)
end
local limited = 0
if rlMax > 0 then
  local used = tonumber(redis.call('GET', p .. 'rl') or '0')
  if used >= rlMax then
    limited = redis.call('PTTL', p .. 'rl')
    if limited <= 0 then limited = 1 end
    max = 0
  elseif rlMax - used < max then max = rlMax - used end
end
local out = {}
local taken = 0
if max > 0 then
  local ids = redis.call('RPOP', p .. 'wait', max)
  if ids then
    for _, id in ipairs(ids) do
      local jk = p .. 'job:' .. id
      local data = redis.call('HGET', jk, 'data')
      if data then
        local att = redis.call('HINCRBY', jk, 'attempts', 1)
        local tok = redis.call('HINCRBY', jk, 'claims', 1) .. ':' .. now
        redis.call('HSET', jk, 'token', tok)
        redis.call('ZADD', p .. 'active', now + lease, id)
        out[#out + 1] = id; out[#out + 1] = data; out[#out + 1] = att; out[#out + 1] = tok
        taken = taken + 1
      end
    end
  end
  if rlMax > 0 and taken > 0 then
    if redis.call('INCRBY', p .. 'rl', taken) == taken then
      redis.call('PEXPIRE', p .. 'rl', rlWin)
    end
  end
end
local nd = -1
local first = redis.call('ZRANGE', p .. 'delayed', 0, 0, 'WITHSCORES')
if first[2] then nd = math.max(0, tonumber(first[2]) - now) end
return {out, limited, nd, redis.call('LLEN', p .. 'wait')}
