--[[
  One field of each pool's hash: its slot or its state.

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          ARGV[2…]
    ARGV[1]  the field: slot or state
    ARGV[2…] pool keys

  Output: the field of each pool, in order ('' where none)
]]
local out = {}
for i = 2, #ARGV do out[i - 1] = redis.call('HGET', ARGV[i], ARGV[1]) or '' end
return out
