-- Create message records, each unless a record with its id exists.
-- KEYS[1] due sorted set, KEYS[2..n+1] the n record hashes. ARGV[1] record TTL in seconds, ARGV[2] a JSON
-- array of n entries, one per record hash in order: [due epoch ms or '' (not due), message id, field, value,
-- ...], every element a string; ARGV[3] a JSON array [field, value, ...] that every record has (written
-- first, so a record's own field of the same name wins), or '[]'.
-- Returns n flags: 1 where created, 0 where the id was taken (that record is left untouched).
-- One call per batch, not one per record: the producer sends one command and parses one reply instead of a
-- thousand, with one JSON argument instead of every field as an argument of its own. Redis runs the whole
-- batch at once (about 10 ms for a thousand records).
local ttl = tonumber(ARGV[1])
local records = cjson.decode(ARGV[2])
local common = cjson.decode(ARGV[3] or '[]')
local created, due = {}, {}
for i, record in ipairs(records) do
  local key = KEYS[i + 1]
  if redis.call('EXISTS', key) == 1 then
    created[i] = 0
  else
    if #common > 0 then
      redis.call('HSET', key, unpack(common))
    end
    redis.call('HSET', key, unpack(record, 3))
    redis.call('EXPIRE', key, ttl)
    if record[1] ~= '' then
      due[#due + 1] = record[1]
      due[#due + 1] = record[2]
    end
    created[i] = 1
  end
end
if #due > 0 then
  -- one ZADD for the batch: two arguments a record, within what unpack takes up to 4000 records
  redis.call('ZADD', KEYS[1], unpack(due))
end
return created
