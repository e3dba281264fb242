-- Record the outcome of a claimed attempt and release the claim; a final status is announced in the same step.
-- KEYS[1] record hash, KEYS[2] in-flight sorted set, KEYS[3] msgid index key or '' for none,
-- KEYS[4] due sorted set, KEYS[5] events stream. ARGV[1] claim token, ARGV[2] new status, ARGV[3] message id, ARGV[4] record TTL (s),
-- ARGV[5] epoch ms the next attempt is due ('' when there is none), ARGV[6..] field pairs.
-- A record that a report already finished (delivered/undelivered) keeps its status and gains the fields.
-- A record that becomes submitted loses its reason: reasons explain retrying, rejected and failed only.
-- Returns {status afterwards, callback_due (see announce.lua)}, or {'lost', 0} when the claim is no longer
-- ours (swept as stale).
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then
  return {'lost', 0}
end
redis.call('HDEL', KEYS[1], 'claim', 'claimed_ms')
redis.call('ZREM', KEYS[2], ARGV[3])
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'queued' or status == 'retrying' then
  status = ARGV[2]
  redis.call('HSET', KEYS[1], 'status', status)
  if status == 'submitted' then
    redis.call('HDEL', KEYS[1], 'reason')  -- why it waited (a pause, a retry) no longer holds
  end
end
if #ARGV > 5 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 6))
end
if status == 'retrying' and ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[4], ARGV[5], ARGV[3])
end
if KEYS[3] ~= '' then
  redis.call('SET', KEYS[3], ARGV[3], 'EX', tonumber(ARGV[4]))
end
return {status, announce(KEYS[1], KEYS[5])}
