-- Move an unclaimed, unfinished message to another status without an attempt (pause, ttl, invalid input).
-- KEYS[1] record hash. ARGV[1] new status, ARGV[2..] field pairs.
-- Returns the status afterwards; a finished or claimed record is left as it is.
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return 'missing'
end
if (status ~= 'queued' and status ~= 'retrying') or redis.call('HEXISTS', KEYS[1], 'claim') == 1 then
  return status
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], unpack(ARGV, 2))
return ARGV[1]
