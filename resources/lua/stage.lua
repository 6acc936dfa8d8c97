--[[
  Stages jobs: stored, not yet visible to workers (their order rows are not committed yet).

  Input:
    KEYS[1]  <shard>staged (zset)
    ARGV[1]  the shard's job key prefix, <shard>job: (a job's hash: <shard>job:<id>, same tag)
    ARGV[2]  the submitting instance (staged jobs are swept by it)
    ARGV[3…] job id, payload, job id, payload, …

  Output: the number of jobs staged (an id already held is skipped)
]]
--- @include "includes/now"
local staged = KEYS[1]
local jp = ARGV[1]
local by = ARGV[2]
local added = 0
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('HSETNX', jp .. id, 'data', ARGV[i + 1]) == 1 then
    redis.call('HSET', jp .. id, 'attempts', 0, 'by', by)
    redis.call('ZADD', staged, now, id)
    added = added + 1
  end
end
return added
