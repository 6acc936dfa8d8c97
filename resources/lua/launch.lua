--[[
  A token launch: registers the token and its first pool; the first launch of a symbol or mint wins, across processes.

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          ARGV[1], ARGV[2], ARGV[6]; PUBLISH ARGV[8]
    ARGV[1]  launches list
    ARGV[2]  tokens hash
    ARGV[3]  symbol (upper case)
    ARGV[4]  mint
    ARGV[5]  the launch record
    ARGV[6]  pool key
    ARGV[7]  pool state
    ARGV[8]  the channel that tells the other processes

  Output: 1 launched, 0 the symbol or mint is taken
]]
if redis.call('HEXISTS', ARGV[2], 's:' .. ARGV[3]) == 1 or
   redis.call('HEXISTS', ARGV[2], 'm:' .. ARGV[4]) == 1 then return 0 end
redis.call('HSET', ARGV[2], 's:' .. ARGV[3], ARGV[5], 'm:' .. ARGV[4], ARGV[3])
redis.call('HSET', ARGV[6], 'slot', '0', 'state', ARGV[7])
redis.call('RPUSH', ARGV[1], ARGV[5])
redis.call('PUBLISH', ARGV[8], ARGV[3])
return 1
