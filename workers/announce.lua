-- Shared by every script that can finish a record (prepended by supersms.workers.lua.register): publish the
-- record's final status to the events stream in the same atomic step as the change, once per final status.
-- announce(record_key, events_key) returns 1 when the producer's on_final callback is still due for this
-- status (asked for, and not yet marked done by the caller in 'called_back'), else 0.
local EVENTS_MAXLEN = 1000000
local EVENT_FIELDS = {'id', 'status', 'to_country', 'ref', 'msgid', 'err_code', 'reason', 'report', 'updated_at'}

local function announce(record_key, events_key)
  local status = redis.call('HGET', record_key, 'status')
  if status ~= 'delivered' and status ~= 'undelivered' and status ~= 'rejected' and status ~= 'failed' then
    return 0
  end
  if redis.call('HGET', record_key, 'announced') ~= status then
    redis.call('HSET', record_key, 'announced', status)
    local entry = {}
    for _, name in ipairs(EVENT_FIELDS) do
      local value = redis.call('HGET', record_key, name)
      if value then
        table.insert(entry, name)
        table.insert(entry, value)
      end
    end
    redis.call('XADD', events_key, 'MAXLEN', '~', EVENTS_MAXLEN, '*', unpack(entry))
  end
  if redis.call('HEXISTS', record_key, 'on_final') == 1 and redis.call('HGET', record_key, 'called_back') ~= status then
    return 1
  end
  return 0
end
