--[[
  Gives a lease up, only for its holder (token compared before DEL).

  KEYS[1] lease key (<prefix>:lease:<name>)
  ARGV[1] owner token

  Returns 1 when released, 0 when the lease is held by another token or has expired.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
