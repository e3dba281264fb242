-- Create a message record unless one with this id exists.
-- KEYS[1] record hash, KEYS[2] due sorted set. ARGV[1] record TTL in seconds, ARGV[2] epoch ms from which
-- the message is due (added to the due set unless ''), ARGV[3] message id, ARGV[4..] field, value pairs.
-- Returns 1 when created, 0 when the id was taken (the existing record is left untouched).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
end
return 1
