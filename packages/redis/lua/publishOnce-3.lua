--[[
  Delivers a non-REQUEST message (STATUS, RESPONSE, DECISION, ALERT) exactly once per message id:
  the recipient's inbox entry, the bus log entry and the publish guard are written together or
  not at all. A second publish of the same id (a retried job, a Director replaying its log after
  a restart, an AOF that lost the tail of a second) finds the guard and writes nothing.

  KEYS[1] guard key      (<prefix>:published:<messageId>)
  KEYS[2] inbox stream   (<prefix>:bus:to:<to>)
  KEYS[3] log stream     (<prefix>:bus:log)
  ARGV[1] message JSON
  ARGV[2] MAXLEN ~ for both streams
  ARGV[3] guard TTL in ms

  Returns { 1, <log entry id>, <inbox entry id> } when delivered now,
          { 0, <log entry id of the earlier delivery> } when the id was delivered before.
]]
local existing = redis.call('GET', KEYS[1])
if existing then
  return { 0, existing }
end
local streamId = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'message', ARGV[1])
local logId = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'message', ARGV[1])
redis.call('SET', KEYS[1], logId, 'PX', ARGV[3])
return { 1, logId, streamId }
