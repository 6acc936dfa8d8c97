--[[
  Lands transactions on the simulated chain: every fill recorded once by its signature and every pool moved by compare-and-set on its slot, or nothing.

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          the ledger and pool keys in ARGV
    ARGV[1]  n
    ARGV[2…] n × (ledger key, fill), then per pool: key, expected slot, new slot, state

  Output: {1} landed; {0, i, fill, …} some had landed before (nothing written); {2, state, …} a pool moved meanwhile (nothing written)
]]
local n = tonumber(ARGV[1])
local landed = {}
for i = 1, n do
  local fill = redis.call('GET', ARGV[2 * i])
  if fill then landed[#landed + 1] = i; landed[#landed + 1] = fill end
end
if #landed > 0 then return {0, unpack(landed)} end
local first = 2 * n + 2
local moved = {}
for i = first, #ARGV, 4 do
  if redis.call('HGET', ARGV[i], 'slot') ~= ARGV[i + 1] then
    moved[#moved + 1] = redis.call('HGET', ARGV[i], 'state') or ''
  end
end
if #moved > 0 then return {2, unpack(moved)} end
for i = first, #ARGV, 4 do
  redis.call('HSET', ARGV[i], 'slot', ARGV[i + 2], 'state', ARGV[i + 3])
end
for i = 1, n do redis.call('SET', ARGV[2 * i], ARGV[2 * i + 1]) end
return {1}
