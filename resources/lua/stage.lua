--[[
  Stages jobs: stored, not yet visible to workers (their order rows are not committed yet).

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          <prefix>job:<id> (hash), <prefix>staged (zset)
    ARGV[1]  the queue prefix
    ARGV[2]  the submitting instance (staged jobs are swept by it)
    ARGV[3…] job id, payload, job id, payload, …

  Output: the number of jobs staged (an id already held is skipped)
]]
--- @include "includes/now"
local p = ARGV[1]
local by = ARGV[2]
local added = 0
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('HSETNX', p .. 'job:' .. id, 'data', ARGV[i + 1]) == 1 then
    redis.call('HSET', p .. 'job:' .. id, 'attempts', 0, 'by', by)
    redis.call('ZADD', p .. 'staged', now, id)
    added = added + 1
  end
end
return added
