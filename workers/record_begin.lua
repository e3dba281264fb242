-- Begin one send attempt: everything that must hold before the provider may be called, in one atomic step.
-- KEYS[1] record hash, KEYS[2] in-flight sorted set, KEYS[3] due sorted set (the claimed id leaves it),
-- KEYS[4] pause flag, KEYS[5] rate limiter key, KEYS[6] events stream, KEYS[7] the rate limiter's line of
-- sends given back (see gcra.lua).
-- ARGV[1] claim token, ARGV[2] now (epoch ms), ARGV[3] now (ISO 8601), ARGV[4] message id,
-- ARGV[5..7] the rate limiter's interval, tolerance and longest wait (us; interval 0: no limit),
-- ARGV[8] '1' when the caller waited for a slot booked by an earlier call, else '0'.
-- In order, returns the first that applies:
--   {'missing'}, {'submitted'}, {'held'} (another attempt holds the claim): nothing to do;
--   {'final', callback_due}: finished already (and announced now if an interrupted worker had not);
--   {'expired', callback_due}: its ttl ran out: the record ends 'failed' / 'ttl_expired' and is announced;
--   {'early', due_ms}: its next attempt is not due yet;
--   {'paused', remaining_ms (-1: no end), pause value, expires_ms, status}: the account pause holds;
--   {'wait', wait_us}: a rate slot is booked wait_us from now: wait, then begin again with ARGV[8] = '1';
--   {'limited', wait_us}: the next rate slot opens too late to wait for: give the place back, and come back
--   in wait_us, the turn in the line of sends given back;
--   {'claimed', attempts, payload, expires_ms, budget_used}: the claim is ours (taken now, or by this same
--   call run before: the same token); call the provider now.
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return {'missing'}
end
if status == 'submitted' then
  return {'submitted'}
end
if status ~= 'queued' and status ~= 'retrying' then
  return {'final', announce(KEYS[1], KEYS[6])}
end
local expires_ms = redis.call('HGET', KEYS[1], 'expires_ms') or '9007199254740991'
local function claimed(attempts)
  return {'claimed', attempts, redis.call('HGET', KEYS[1], 'payload'), expires_ms,
    redis.call('HGET', KEYS[1], 'budget_used') or '0'}
end
local claim = redis.call('HGET', KEYS[1], 'claim')
if claim == ARGV[1] then  -- this very begin ran before (its reply was lost and the call went again)
  return claimed(redis.call('HGET', KEYS[1], 'attempts'))
end
if claim then
  return {'held'}
end
local now_ms = tonumber(ARGV[2])
if now_ms >= tonumber(expires_ms) then
  redis.call('HSET', KEYS[1], 'status', 'failed', 'reason', 'ttl_expired', 'updated_at', ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[4])
  return {'expired', announce(KEYS[1], KEYS[6])}
end
local due_ms = tonumber(redis.call('HGET', KEYS[1], 'next_attempt_ms') or '0')
if due_ms > now_ms then
  return {'early', due_ms}
end
local pause = redis.call('GET', KEYS[4])
if pause then
  return {'paused', redis.call('PTTL', KEYS[4]), pause, expires_ms, status}
end
local interval_us = tonumber(ARGV[5])
if interval_us > 0 and ARGV[8] ~= '1' then
  local slot = reserve_slot(KEYS[5], interval_us, tonumber(ARGV[6]), tonumber(ARGV[7]), KEYS[7])
  if slot[1] == 0 then
    return {'limited', slot[2]}
  end
  if slot[2] > 0 then
    return {'wait', slot[2]}
  end
end
redis.call('HSET', KEYS[1], 'claim', ARGV[1], 'claimed_ms', ARGV[2], 'updated_at', ARGV[3])
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[4])
return claimed(attempts)
