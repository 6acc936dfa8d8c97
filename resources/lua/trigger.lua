--[[
  Queues the jobs of triggered resting orders, ahead of new orders; a job that exists is held somewhere, so one HSETNX decides.

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          <prefix>job:<id>, <prefix>wait, <prefix>stats; PUBLISH <prefix>wake
    ARGV[1]  the queue prefix
    ARGV[2…] job id, payload, …

  Output: the ids queued
]]
local p = ARGV[1]
local out = {}
for i = 2, #ARGV, 2 do
  if redis.call('HSETNX', p .. 'job:' .. ARGV[i], 'data', ARGV[i + 1]) == 1 then
    out[#out + 1] = ARGV[i]
  end
end
if #out > 0 then
  -- At the end workers pop from, ahead of new orders, first given first out; in chunks:
  -- unpack() has a limit on results.
  local rev = {}
  for j = #out, 1, -1 do rev[#rev + 1] = out[j] end
  for j = 1, #rev, 4000 do
    redis.call('RPUSH', p .. 'wait', unpack(rev, j, math.min(j + 3999, #rev)))
  end
  redis.call('HINCRBY', p .. 'stats', 'triggered', #out)
  redis.call('PUBLISH', p .. 'wake', #out)
end
return out
