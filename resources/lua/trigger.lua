--[[
  Queues the jobs of triggered resting orders, ahead of new orders; a job that exists is held somewhere, so one HSETNX decides.

  Input:
    KEYS[1]   <shard>wait
    KEYS[2]   <shard>stats
    KEYS[3…]  each job's hash, <shard>job:<id>, in the order of ARGV's jobs
    ARGV[1]   the wake channel
    ARGV[2…]  job id, payload, …

  Output: the ids queued
]]
local out = {}
for j = 1, #KEYS - 2 do
  if redis.call('HSETNX', KEYS[2 + j], 'data', ARGV[2 * j + 1]) == 1 then
    out[#out + 1] = ARGV[2 * j]
  end
end
if #out > 0 then
  -- At the end workers pop from, ahead of new orders, first given first out; in chunks:
  -- unpack() has a limit on results.
  local rev = {}
  for j = #out, 1, -1 do rev[#rev + 1] = out[j] end
  for j = 1, #rev, 4000 do
    redis.call('RPUSH', KEYS[1], unpack(rev, j, math.min(j + 3999, #rev)))
  end
  redis.call('HINCRBY', KEYS[2], 'triggered', #out)
  redis.call('PUBLISH', ARGV[1], #out)
end
return out
