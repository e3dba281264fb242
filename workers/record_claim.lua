-- Claim a message for one send attempt: the only way a provider call may start.
-- KEYS[1] record hash, KEYS[2] in-flight sorted set, KEYS[3] due sorted set (the claimed id leaves it).
-- ARGV[1] claim token, ARGV[2] now (epoch ms), ARGV[3] now (ISO 8601), ARGV[4] message id.
-- Returns {'claimed', attempts} or {reason}: 'missing', 'claimed' (someone else holds it), 'early'
-- (its next attempt is not due), or the record's status when that status takes no more attempts.
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return {'missing'}
end
if status ~= 'queued' and status ~= 'retrying' then
  return {status}
end
if redis.call('HEXISTS', KEYS[1], 'claim') == 1 then
  return {'held'}
end
local due_ms = tonumber(redis.call('HGET', KEYS[1], 'next_attempt_ms') or '0')
if due_ms > tonumber(ARGV[2]) then
  return {'early'}
end
redis.call('HSET', KEYS[1], 'claim', ARGV[1], 'claimed_ms', ARGV[2], 'updated_at', ARGV[3])
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[4])
return {'claimed', attempts}
