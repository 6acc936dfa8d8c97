--[[
  Writes a pool's genesis state only where there is none.

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          ARGV[1]
    ARGV[1]  the pool key
    ARGV[2]  slot
    ARGV[3]  state

  Output: 1
]]
if redis.call('EXISTS', ARGV[1]) == 0 then
  redis.call('HSET', ARGV[1], 'slot', ARGV[2], 'state', ARGV[3])
end
return 1
