--[[
  Stages jobs: stored, not yet visible to workers (their order rows are not committed yet).

  Input:
    KEYS[1]   <shard>staged (zset)
    KEYS[2…]  each job's hash, <shard>job:<id>, in the order of ARGV's jobs
    ARGV[1]   the submitting instance (staged jobs are swept by it)
    ARGV[2…]  job id, payload, job id, payload, …

  Output: the number of jobs staged (an id already held is skipped)
]]
--- @include "includes/now"
local staged = KEYS[1]
local by = ARGV[1]
local added = 0
for j = 1, #KEYS - 1 do
  local jk, id = KEYS[1 + j], ARGV[2 * j]
  if redis.call('HSETNX', jk, 'data', ARGV[2 * j + 1]) == 1 then
    redis.call('HSET', jk, 'attempts', 0, 'by', by)
    redis.call('ZADD', staged, now, id)
    added = added + 1
  end
end
return added
