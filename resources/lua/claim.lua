--[[
  Moves due delayed jobs to wait, then claims up to max jobs of this shard, each with a lease and a claim token. The global rate limit is taken before (rate.lua): max is what it granted.
  The one script that touches keys it is not given: the jobs it pops are known only inside it, so their hashes are named from ARGV[1], the shard's prefix, which carries the shard's hash tag (same slot as KEYS; BullMQ's way).

  Input:
    KEYS[1]  <shard>delayed
    KEYS[2]  <shard>wait
    KEYS[3]  <shard>active
    ARGV[1]  the shard's job key prefix, <shard>job:
    ARGV[2]  max jobs
    ARGV[3]  lease, ms

  Output: { {id, data, attempts, token, …}, ms until the next delayed job (-1: none), jobs still waiting }
]]
--- @include "includes/now"
local delayed, wait, active = KEYS[1], KEYS[2], KEYS[3]
local jp = ARGV[1]
local max = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', delayed, id)
  redis.call('RPUSH', wait, id)
end
local out = {}
if max > 0 then
  local ids = redis.call('RPOP', wait, max)
  if ids then
    for _, id in ipairs(ids) do
      local jk = jp .. id
      local data = redis.call('HGET', jk, 'data')
      if data then
        local att = redis.call('HINCRBY', jk, 'attempts', 1)
        local tok = redis.call('HINCRBY', jk, 'claims', 1) .. ':' .. now
        redis.call('HSET', jk, 'token', tok)
        redis.call('ZADD', active, now + lease, id)
        out[#out + 1] = id; out[#out + 1] = data; out[#out + 1] = att; out[#out + 1] = tok
      end
    end
  end
end
local nd = -1
local first = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
if first[2] then nd = math.max(0, tonumber(first[2]) - now) end
return {out, nd, redis.call('LLEN', wait)}
