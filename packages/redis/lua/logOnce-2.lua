--[[
  Appends a message to the bus log exactly once per message id (the publish guard for REQUESTs,
  whose BullMQ job add cannot share a MULTI with the log append).

  KEYS[1] guard key  (<prefix>:published:<messageId>)
  KEYS[2] log stream (<prefix>:bus:log)
  ARGV[1] message JSON
  ARGV[2] MAXLEN ~ for the log stream
  ARGV[3] guard TTL in ms

  Returns { 1, <new log entry id> } when appended now,
          { 0, <log entry id of the earlier append> } when the id was already logged.
]]
local existing = redis.call('GET', KEYS[1])
if existing then
  return { 0, existing }
end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'message', ARGV[1])
redis.call('SET', KEYS[1], id, 'PX', ARGV[3])
return { 1, id }
