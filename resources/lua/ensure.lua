--[[
  Recreates the jobs of orders PostgreSQL says are unfinished but Redis holds nowhere (Redis lost data).

  Input:
    KEYS[1]   <shard>active
    KEYS[2]   <shard>delayed
    KEYS[3]   <shard>staged
    KEYS[4]   <shard>wait
    KEYS[5]   <shard>stats
    KEYS[6…]  each job's hash, <shard>job:<id>, in the order of ARGV's jobs
    ARGV[1]   the wake channel
    ARGV[2]   the stats field to count them in
    ARGV[3…]  job id, payload, …

  Output: the ids recreated
]]
local active, delayed, staged, wait, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local out = {}
for j = 1, #KEYS - 5 do
  local jk, id = KEYS[5 + j], ARGV[2 * j + 1]
  local held = redis.call('EXISTS', jk) == 1 and (
    redis.call('ZSCORE', active, id) or redis.call('ZSCORE', delayed, id) or
    redis.call('ZSCORE', staged, id) or redis.call('LPOS', wait, id))
  if not held then
    redis.call('HSET', jk, 'data', ARGV[2 * j + 2], 'attempts', 0)
    redis.call('LREM', wait, 0, id)
    redis.call('RPUSH', wait, id)
    out[#out + 1] = id
  end
end
if #out > 0 then
  redis.call('HINCRBY', stats, ARGV[2], #out)
  redis.call('PUBLISH', ARGV[1], #out)
end
return out
