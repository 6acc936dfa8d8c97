--[[
  Each pool's state.

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          ARGV[…]
    ARGV[…]  pool keys

  Output: the states ('' where none)
]]
local out = {}
for i = 1, #ARGV do out[i] = redis.call('HGET', ARGV[i], 'state') or '' end
return out
