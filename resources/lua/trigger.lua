--[[
  Brings back the jobs of triggered resting orders; a job that exists is held somewhere, so one HSETNX decides. Each new job either joins the queue ahead of new orders, or is leased at once, as claim.lua would (attempt, token, lease), to the process that fired it: its worker threads take it from memory, without a claim round trip.

  Input:
    KEYS[1]   <shard>wait
    KEYS[2]   <shard>stats
    KEYS[3]   <shard>active
    KEYS[4…]  each job's hash, <shard>job:<id>, in the order of ARGV's jobs
    ARGV[1]   the wake channel
    ARGV[2]   lease, ms
    ARGV[3…]  job id, payload, '1' to lease it here or '0' to queue it, …

  Output: { ids queued, {id, attempts, token, …} leased }
]]
--- @include "includes/now"
local wait, stats, active = KEYS[1], KEYS[2], KEYS[3]
local lease = tonumber(ARGV[2])
local queued, leased, nleased = {}, {}, 0
for j = 1, #KEYS - 3 do
  local a = 3 * j
  local jk = KEYS[3 + j]
  if redis.call('HSETNX', jk, 'data', ARGV[a + 1]) == 1 then
    local id = ARGV[a]
    if ARGV[a + 2] == '1' then
      local att = redis.call('HINCRBY', jk, 'attempts', 1)
      local tok = redis.call('HINCRBY', jk, 'claims', 1) .. ':' .. now
      redis.call('HSET', jk, 'token', tok)
      redis.call('ZADD', active, now + lease, id)
      leased[#leased + 1] = id; leased[#leased + 1] = att; leased[#leased + 1] = tok
      nleased = nleased + 1
    else
      queued[#queued + 1] = id
    end
  end
end
if #queued > 0 then
  -- At the end workers pop from, ahead of new orders, first given first out; in chunks:
  -- unpack() has a limit on results.
  local rev = {}
  for j = #queued, 1, -1 do rev[#rev + 1] = queued[j] end
  for j = 1, #rev, 4000 do
    redis.call('RPUSH', wait, unpack(rev, j, math.min(j + 3999, #rev)))
  end
  redis.call('PUBLISH', ARGV[1], #queued)
end
if #queued + nleased > 0 then
  redis.call('HINCRBY', stats, 'triggered', #queued + nleased)
end
return {queued, leased}
