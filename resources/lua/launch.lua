--[[
  A token launch: registers the token and its first pool; the first launch of a symbol or mint wins, across processes.

  Input:
    KEYS[1]  {<prefix>chain}:launches (list)
    KEYS[2]  {<prefix>chain}:tokens (hash)
    KEYS[3]  the pool, {<prefix>chain}:pool:<id>
    ARGV[1]  symbol (upper case)
    ARGV[2]  mint
    ARGV[3]  the launch record
    ARGV[4]  pool state
    ARGV[5]  the channel that tells the other processes

  Output: 1 launched, 0 the symbol or mint is taken
]]
if redis.call('HEXISTS', KEYS[2], 's:' .. ARGV[1]) == 1 or
   redis.call('HEXISTS', KEYS[2], 'm:' .. ARGV[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], 's:' .. ARGV[1], ARGV[3], 'm:' .. ARGV[2], ARGV[1])
redis.call('HSET', KEYS[3], 'slot', '0', 'state', ARGV[4])
redis.call('RPUSH', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[5], ARGV[1])
return 1
