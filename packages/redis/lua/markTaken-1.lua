--[[
  Marks a REQUEST as taken by its consumer: its publish guard's value (the log entry id) gets the
  suffix TAKEN, keeping its TTL, so a re-publish of the id no longer adds its job (logOnce-2).
  The agent does this inside startTask-6; this script is for consumers with no task start.

  KEYS[1] the REQUEST's guard key (<prefix>:published:<requestId>)

  Returns 1 when marked now, 0 when already marked or when there is no guard (expired, archived).
]]
local TAKEN = ' taken'
local existing = redis.call('GET', KEYS[1])
if not existing or string.sub(existing, -#TAKEN) == TAKEN then
  return 0
end
redis.call('SET', KEYS[1], existing .. TAKEN, 'KEEPTTL')
return 1
