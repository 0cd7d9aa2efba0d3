--[[
  Logs a REQUEST once per message id, before its BullMQ job is added (the job add runs BullMQ's
  own Lua and cannot share a script with this one). One script, so the publish guard check costs
  no round trip of its own: the guard is read, and on a first publish set, with the log append.

  The guard holds the log entry id; a consumer that takes the job (the agent's startTask-6, the
  Scribe's markTaken-1) appends TAKEN to it. Until then a re-publish adds the job again, which is
  a no-op while the job exists (BullMQ's add is idempotent by job id) and queues it when it was
  lost (a crash, or an AOF cut, between this script and the add). Once taken, a re-publish never
  queues the work again, even after its finished job was removed.

  KEYS[1] guard key  (<prefix>:published:<messageId>)
  KEYS[2] log stream (<prefix>:bus:log)
  ARGV[1] message JSON
  ARGV[2] MAXLEN ~ for the log stream
  ARGV[3] guard TTL in ms

  Returns { 1, <new log entry id> } when logged now (add the job),
          { 2, <log entry id> } when logged before and not taken yet (add the job again: idempotent),
          { 0, <log entry id> } when logged before and taken (do not add).
]]
local TAKEN = ' taken'
local existing = redis.call('GET', KEYS[1])
if existing then
  if string.sub(existing, -#TAKEN) == TAKEN then
    return { 0, string.sub(existing, 1, -#TAKEN - 1) }
  end
  return { 2, existing }
end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'message', ARGV[1])
redis.call('SET', KEYS[1], id, 'PX', ARGV[3])
return { 1, id }
