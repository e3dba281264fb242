-- Publish a record's final status to the events stream, once per final status.
-- KEYS[1] record hash, KEYS[2] events stream. ARGV[1] events stream max length (approximate).
-- Returns whether the producer asked for a callback (1/0) when a status was announced, or false when it was
-- announced already or is not final.
local status = redis.call('HGET', KEYS[1], 'status')
local final = status == 'delivered' or status == 'undelivered' or status == 'rejected' or status == 'failed'
if not final or redis.call('HGET', KEYS[1], 'announced') == status then
  return false
end
redis.call('HSET', KEYS[1], 'announced', status)
local fields = {'id', 'status', 'to_country', 'ref', 'msgid', 'err_code', 'reason', 'report', 'updated_at'}
local entry = {}
for _, name in ipairs(fields) do
  local value = redis.call('HGET', KEYS[1], name)
  if value then
    table.insert(entry, name)
    table.insert(entry, value)
  end
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', tonumber(ARGV[1]), '*', unpack(entry))
return redis.call('HEXISTS', KEYS[1], 'on_final')
