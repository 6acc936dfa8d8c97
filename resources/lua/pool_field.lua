--[[
  One field of each pool's hash: its slot or its state.

  Input:
    KEYS[1…] the pool keys, {<prefix>chain}:pool:<id>
    ARGV[1]  the field: slot or state

  Output: the field of each pool, in order ('' where none)
]]
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGET', KEYS[i], ARGV[1]) or '' end
return out
