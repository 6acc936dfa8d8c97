--[[
  Recreates the jobs of orders PostgreSQL says are unfinished but Redis holds nowhere (Redis lost data).

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          <prefix>job:<id>, <prefix>active, <prefix>delayed, <prefix>staged, <prefix>wait, <prefix>stats; PUBLISH <prefix>wake
    ARGV[1]  the queue prefix
    ARGV[2]  the stats field to count them in
    ARGV[3…] job id, payload, …

  Output: the ids recreated
]]
local p = ARGV[1]
local out = {}
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  local jk = p .. 'job:' .. id
  local held = redis.call('EXISTS', jk) == 1 and (
    redis.call('ZSCORE', p .. 'active', id) or redis.call('ZSCORE', p .. 'delayed', id) or
    redis.call('ZSCORE', p .. 'staged', id) or redis.call('LPOS', p .. 'wait', id))
  if not held then
    redis.call('HSET', jk, 'data', ARGV[i + 1], 'attempts', 0)
    redis.call('LREM', p .. 'wait', 0, id)
    redis.call('RPUSH', p .. 'wait', id)
    out[#out + 1] = id
  end
end
if #out > 0 then
  redis.call('HINCRBY', p .. 'stats', ARGV[2], #out)
  redis.call('PUBLISH', p .. 'wake', #out)
end
return out
