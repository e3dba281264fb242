-- End a claim whose worker vanished mid-attempt: the request may have reached the provider, so the message
-- is not sent again; it ends 'failed' with reason 'outcome_unknown' (a later report still wins), and is
-- announced in the same step.
-- KEYS[1] record hash, KEYS[2] in-flight sorted set, KEYS[3] events stream. ARGV[1] message id,
-- ARGV[2] cutoff (epoch ms), ARGV[3] now (ISO 8601).
-- Returns {ended, callback_due}: ended 1 when the claim was expired, 0 otherwise; callback_due as announce.
local claimed_ms = tonumber(redis.call('HGET', KEYS[1], 'claimed_ms') or '-1')
if claimed_ms < 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {0, 0}
end
if claimed_ms > tonumber(ARGV[2]) then
  return {0, 0}
end
redis.call('HDEL', KEYS[1], 'claim', 'claimed_ms')
redis.call('ZREM', KEYS[2], ARGV[1])
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'queued' or status == 'retrying' then
  redis.call('HSET', KEYS[1], 'status', 'failed', 'reason', 'outcome_unknown', 'updated_at', ARGV[3])
end
return {1, announce(KEYS[1], KEYS[3])}
