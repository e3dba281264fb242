-- GCRA (generic cell rate algorithm): one global send rate shared by every worker, on Redis's clock.
-- KEYS[1]  the theoretical arrival time (TAT) of the next send, in microseconds of Redis's clock
-- ARGV[1]  emission interval T in whole microseconds (1 / rate)
-- ARGV[2]  tolerance tau in whole microseconds (burst * T)
-- Returns {1, 0} when a send may go now, {0, wait_us} when the next slot opens in wait_us microseconds.
-- All values are whole microseconds below 2^53, so Lua's doubles hold them exactly.

-- Reading TIME makes the script non-deterministic; effects replication (the default since Redis 5,
-- and the only mode since 7.0, where this call is a no-op) replicates the SET below, not the script.
if redis.replicate_commands then
  redis.replicate_commands()
end

local interval_us = tonumber(ARGV[1])
local tolerance_us = tonumber(ARGV[2])
local time = redis.call('TIME')
local now_us = tonumber(time[1]) * 1000000 + tonumber(time[2])

local tat_us = tonumber(redis.call('GET', KEYS[1]) or now_us)
if tat_us < now_us then
  tat_us = now_us
end

local wait_us = tat_us - tolerance_us - now_us
if wait_us > 0 then
  return {0, wait_us}
end

local next_tat_us = tat_us + interval_us
-- The key lives exactly as long as it matters: once the TAT has passed, a missing key means the same.
local ttl_ms = math.ceil((next_tat_us - now_us) / 1000)
redis.call('SET', KEYS[1], string.format('%d', next_tat_us), 'PX', ttl_ms)
return {1, 0}
