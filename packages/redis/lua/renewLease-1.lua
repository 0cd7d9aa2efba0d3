--[[
  Extends a lease, only for its holder (token compared before PEXPIRE).

  KEYS[1] lease key (<prefix>:lease:<name>)
  ARGV[1] owner token
  ARGV[2] TTL in ms

  Returns 1 when renewed, 0 when the lease is held by another token or has expired.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
