--[[
  Each pool's slot.

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          ARGV[…]
    ARGV[…]  pool keys

  Output: the slots ('' where none)
]]
local out = {}
for i = 1, #ARGV do out[i] = redis.call('HGET', ARGV[i], 'slot') or '' end
return out
