-- Create a message record unless one with this id exists.
-- KEYS[1] record hash; ARGV[1] record TTL in seconds; ARGV[2..] field, value pairs.
-- Returns 1 when created, 0 when the id was taken (the existing record is left untouched).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
