-- Open the account-wide pause, or extend the one that holds when the new end is later; never shorten it.
-- KEYS[1]  the pause flag
-- ARGV[1]  its value (JSON: code, reason, opened_at), stored only when this call opens the pause
-- ARGV[2]  the cool-down in milliseconds
-- Returns {1 if this call opened the pause else 0, remaining ms (-1: no end), the value that holds}.
local cooldown_ms = tonumber(ARGV[2])
local remaining_ms = redis.call('PTTL', KEYS[1])
if remaining_ms == -2 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', cooldown_ms)
  return {1, cooldown_ms, ARGV[1]}
end
-- -1 is a pause set by hand with no end: it holds until lifted, so it is left alone.
if remaining_ms >= 0 and remaining_ms < cooldown_ms then
  redis.call('PEXPIRE', KEYS[1], cooldown_ms)
  remaining_ms = cooldown_ms
end
return {0, remaining_ms, redis.call('GET', KEYS[1])}
