-- Add one report to the reports stream unless a delivery of the same report was added before.
-- KEYS[1]  the report's dedup marker (supersms:reports:received:{dedup_key})
-- KEYS[2]  the reports stream
-- ARGV[1]  the marker's lifetime in seconds
-- ARGV[2]  query, ARGV[3] received_ms, ARGV[4] source: the stream entry's fields
-- Returns the new entry's id, or false when the report was already there.
-- The check, the XADD and the marker run as one step (a script is atomic), so this is SET NX + XADD; the
-- marker is written after the XADD so that an XADD refused (e.g. out of memory) leaves no marker behind
-- that would make a later retry of the report look like a duplicate.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return false
end
local id = redis.call('XADD', KEYS[2], '*', 'query', ARGV[2], 'received_ms', ARGV[3], 'source', ARGV[4])
redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
return id
