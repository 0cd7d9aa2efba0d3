--[[
  What an agent does in Redis before working on a REQUEST, in one round trip (issue 23 §2; it used
  to be a MULTI and then a publishOnce-3 for the STATUS):
    1. marks the REQUEST taken (its guard's value gets the suffix TAKEN, as markTaken-1 does), so a
       re-publish of it never queues the work again;
    2. reads whether its RESPONSE was already published (the RESPONSE's guard): then nothing else;
    3. keeps the task's first start (SET NX), so a restarted attempt sees the same start;
    4. when the first start plus the run timeout has passed: nothing else (the caller raises an ALERT);
    5. publishes the STATUS exactly as publishOnce-3 does (inbox + log + guard, or nothing).

  KEYS[1] the REQUEST's guard key   (<prefix>:published:<requestId>)
  KEYS[2] the RESPONSE's guard key  (<prefix>:published:<responseId>)
  KEYS[3] the task's start key      (<prefix>:task:<requestId>:started)
  KEYS[4] the STATUS's guard key    (<prefix>:published:<statusId>)
  KEYS[5] the STATUS's inbox stream (<prefix>:bus:to:<to>)
  KEYS[6] log stream                (<prefix>:bus:log)
  ARGV[1] now, ms since the epoch
  ARGV[2] TTL of the start key in ms; 0 = the start is not kept (now is the start)
  ARGV[3] run timeout in ms; 0 = none
  ARGV[4] the STATUS's JSON
  ARGV[5] MAXLEN ~ for both streams
  ARGV[6] guard TTL in ms

  Returns { 0, <log entry id of the RESPONSE> }           when already answered,
          { 2, <first start> }                             when past its run timeout,
          { 1, <first start>, <log id>, <inbox id> }       when started and the STATUS published now,
          { 3, <first start>, <log id of the earlier STATUS> } when started and that STATUS id was published before.
]]
local TAKEN = ' taken'
local request = redis.call('GET', KEYS[1])
if request and string.sub(request, -#TAKEN) ~= TAKEN then
  redis.call('SET', KEYS[1], request .. TAKEN, 'KEEPTTL')
end

local answered = redis.call('GET', KEYS[2])
if answered then
  return { 0, answered }
end

local startedAt = ARGV[1]
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2], 'NX')
  startedAt = redis.call('GET', KEYS[3]) or ARGV[1]
end
local runTimeout = tonumber(ARGV[3])
local first = tonumber(startedAt) or tonumber(ARGV[1])
if runTimeout > 0 and first + runTimeout <= tonumber(ARGV[1]) then
  return { 2, startedAt }
end

local existing = redis.call('GET', KEYS[4])
if existing then
  return { 3, startedAt, existing }
end
local inboxId = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[5], '*', 'message', ARGV[4])
local logId = redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[5], '*', 'message', ARGV[4])
redis.call('SET', KEYS[4], logId, 'PX', ARGV[6])
return { 1, startedAt, logId, inboxId }
