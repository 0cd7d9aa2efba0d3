--[[
  Raises an alert once per incident key: the check and the write are one step, so a restarted
  or duplicated Sentinel can never record (and so never act on) the same incident twice.

  KEYS[1] alert records hash    (<prefix>:alerts:records; field = alert id, value = record JSON)
  KEYS[2] key → id index hash   (<prefix>:alerts:index;   field = incident key, value = alert id)
  KEYS[3] alerts by time zset   (<prefix>:alerts:by-time; score = raisedAt ms, member = alert id)

  ARGV[1] incident key
  ARGV[2] new alert id
  ARGV[3] new record JSON
  ARGV[4] raisedAt in ms

  Returns { 1, <new record JSON> } when raised now,
          { 0, <existing record JSON> } when the key was already raised (or its record is missing: '').
]]
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then
  return { 0, redis.call('HGET', KEYS[1], existing) or '' }
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
return { 1, ARGV[3] }
