--[[
  Appends events to a run's event log if, and only if, the log is at the expected version.
  This guard is what lets a restarted or duplicated Director never apply a step twice: the
  loser of a race gets a conflict and re-reads the log instead of writing.

  KEYS[1] run events stream  (<prefix>:run:<id>:events)
  KEYS[2] run meta hash      (<prefix>:run:<id>:meta; field `version`)
  KEYS[3] runs index zset    (<prefix>:runs; score = creation time, ms)

  ARGV[1] expected version (number of events already in the log)
  ARGV[2] run id
  ARGV[3] creation time in ms (used only when the run is new)
  ARGV[4..] events, one JSON string each

  Returns { 1, newVersion } on success, { 0, currentVersion } on a version conflict.
]]
local version = tonumber(redis.call('HGET', KEYS[2], 'version') or '0')
local expected = tonumber(ARGV[1])
if version ~= expected then
  return { 0, version }
end
for i = 4, #ARGV do
  version = version + 1
  redis.call('XADD', KEYS[1], '*', 'v', tostring(version), 'event', ARGV[i])
end
redis.call('HSET', KEYS[2], 'version', tostring(version), 'updatedAt', ARGV[3])
if expected == 0 then
  redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[2])
  redis.call('HSET', KEYS[2], 'createdAt', ARGV[3])
end
return { 1, version }
