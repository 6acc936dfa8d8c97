--[[
  The server's time in ms as `now`. Scripts are effect-replicated (Redis >= 5), so TIME is
  allowed.
]]
local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)
