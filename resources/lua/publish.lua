--[[
  Makes staged jobs visible to workers, first in first out, and wakes them.

  Input:
    KEYS: none yet; the keys are built from ARGV (issue 14 moves them to KEYS under one hash tag):
          <prefix>staged, <prefix>wait; PUBLISH <prefix>wake
    ARGV[1]  the queue prefix
    ARGV[2…] job ids

  Output: the number published
]]
local p = ARGV[1]
local n = 0
for i = 2, #ARGV do
  if redis.call('ZREM', p .. 'staged', ARGV[i]) == 1 then
    redis.call('LPUSH', p .. 'wait', ARGV[i])
    n = n + 1
  end
end
if n > 0 then redis.call('PUBLISH', p .. 'wake', n) end
return n
