--[[
  Writes a pool's genesis state only where there is none.

  Input:
    KEYS[1]  the pool, {<prefix>chain}:pool:<id>
    ARGV[1]  slot
    ARGV[2]  state

  Output: 1
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'slot', ARGV[1], 'state', ARGV[2])
end
return 1
