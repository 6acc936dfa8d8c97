--[[
  Lands transactions on the simulated chain: every fill recorded once by its signature and every pool moved by compare-and-set on its slot, or nothing.

  Input:
    KEYS[1…n]    the ledger keys, {<prefix>chain}:tx:<signature>
    KEYS[n+1…]   the pool keys, {<prefix>chain}:pool:<id> (one tag: the chain is one slot)
    ARGV[1]      n
    ARGV[2…n+1]  the fills
    ARGV[n+2…]   per pool: expected slot, new slot, state

  Output: {1} landed; {0, i, fill, …} some had landed before (nothing written); {2, state, …} a pool moved meanwhile (nothing written)
]]
local n = tonumber(ARGV[1])
local landed = {}
for i = 1, n do
  local fill = redis.call('GET', KEYS[i])
  if fill then landed[#landed + 1] = i; landed[#landed + 1] = fill end
end
if #landed > 0 then return {0, unpack(landed)} end
local moved = {}
for k = n + 1, #KEYS do
  local a = n + 2 + (k - n - 1) * 3
  if redis.call('HGET', KEYS[k], 'slot') ~= ARGV[a] then
    moved[#moved + 1] = redis.call('HGET', KEYS[k], 'state') or ''
  end
end
if #moved > 0 then return {2, unpack(moved)} end
for k = n + 1, #KEYS do
  local a = n + 2 + (k - n - 1) * 3
  redis.call('HSET', KEYS[k], 'slot', ARGV[a + 1], 'state', ARGV[a + 2])
end
for i = 1, n do redis.call('SET', KEYS[i], ARGV[i + 1]) end
return {1}
