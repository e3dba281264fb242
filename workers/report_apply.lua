-- Apply one delivery report to its message record, once, and announce the record if that made it final.
-- KEYS[1] record hash, KEYS[2] dedup marker of this report, KEYS[3] msgid index key, KEYS[4] events stream.
-- ARGV[1] rslt_type ('0' final, '3' intermediate), ARGV[2] status a final report leads to
-- ('delivered' | 'undelivered'), ARGV[3] report JSON, ARGV[4] msgid, ARGV[5] now (ISO 8601),
-- ARGV[6] record TTL (s), ARGV[7] message id.
-- Returns {outcome, callback_due}. outcome: 'missing' (no record, or one that has another msgid: park the
-- report), 'duplicate',
-- 'intermediate', 'ignored' (the record is final already and the report cannot change it) or the new final
-- status. callback_due (1/0): the producer's on_final callback is still to be called for the final status.
-- A duplicate or ignored report announces again if a final status was not announced yet: announcing is
-- idempotent, so a redelivered report finishes whatever an interrupted one left.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'missing', 0}
end
local known_msgid = redis.call('HGET', KEYS[1], 'msgid')
if known_msgid and known_msgid ~= ARGV[4] then
  -- Found by its ref, but this record was given another msgid: the report is another message's, whose
  -- producer chose a ref equal to this message's id. Not ours to apply: the msgid index finds its message.
  return {'missing', 0}
end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[6])) then
  return {'duplicate', announce(KEYS[1], KEYS[4])}
end
if redis.call('HEXISTS', KEYS[1], 'msgid') == 0 then
  redis.call('HSET', KEYS[1], 'msgid', ARGV[4])
  redis.call('SET', KEYS[3], ARGV[7], 'EX', tonumber(ARGV[6]))
end
if ARGV[1] == '3' then
  local kept = redis.call('HGET', KEYS[1], 'intermediate')
  local list = kept and cjson.decode(kept) or {}
  table.insert(list, cjson.decode(ARGV[3]))
  redis.call('HSET', KEYS[1], 'intermediate', cjson.encode(list), 'updated_at', ARGV[5])
  return {'intermediate', 0}
end
local status = redis.call('HGET', KEYS[1], 'status')
local reason = redis.call('HGET', KEYS[1], 'reason')
local open = status == 'queued' or status == 'retrying' or status == 'submitted'
local unknown = status == 'failed' and reason == 'outcome_unknown'
if not open and not unknown then
  return {'ignored', announce(KEYS[1], KEYS[4])}
end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'report', ARGV[3], 'updated_at', ARGV[5], 'reported_at', ARGV[5])
if unknown then
  redis.call('HSET', KEYS[1], 'reason', 'outcome_unknown; report received')
else
  redis.call('HDEL', KEYS[1], 'reason')  -- a retry or a pause it waited for no longer explains it
end
return {ARGV[2], announce(KEYS[1], KEYS[4])}
