--[[
  Takes a lease if it is free, or extends it if the caller already holds it (same token).

  KEYS[1] lease key (<prefix>:lease:<name>)
  ARGV[1] owner token
  ARGV[2] TTL in ms

  Returns 1 when the caller holds the lease afterwards, 0 when someone else does.
]]
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
