-- GCRA (generic cell rate algorithm): one global send rate shared by every worker, on Redis's clock.
-- A library (prepended by supersms.workers.lua.register): reserve_slot(key, interval_us, tolerance_us,
-- max_wait_us[, line_key]) books the next send slot if it opens within max_wait_us, and returns {1, wait_us}
-- (send after waiting wait_us, 0 for now) or {0, wait_us} (not booked: come back in wait_us; without a line,
-- that is when the next slot opens).
-- key holds the theoretical arrival time (TAT) of the next send in microseconds of Redis's clock; the
-- interval T is 1 / rate and the tolerance tau is burst * T. Booking a slot ahead moves the TAT exactly as
-- a send arriving at that moment would, so waiting workers queue in order instead of asking again and again.
-- All values are whole microseconds below 2^53, so Lua's doubles hold them exactly.

-- Reading TIME makes a script non-deterministic; effects replication (the default since Redis 5, and the
-- only mode since 7.0, where this call is a no-op) replicates the writes, not the script. It must come
-- before any write, so it runs first, here.
if redis.replicate_commands then
  redis.replicate_commands()
end

-- A send that cannot book a slot gives its place back (its task comes again after a countdown). With
-- line_key given, the countdown queues it: line_key holds the slot after the one promised to the last send
-- given back; each send given back is promised that slot (or the next free one, if later) and told to come
-- back when it is half the booking horizon away. Without the line, every send given back would come back
-- after the same wait, and all would ask again at once, each costing a task, for all but one to be given
-- back again.
local function reserve_slot(key, interval_us, tolerance_us, max_wait_us, line_key)
  local time = redis.call('TIME')
  local now_us = tonumber(time[1]) * 1000000 + tonumber(time[2])
  local tat_us = tonumber(redis.call('GET', key) or now_us)
  if tat_us < now_us then
    tat_us = now_us
  end
  local wait_us = tat_us - tolerance_us - now_us
  if wait_us > max_wait_us then
    if not line_key then
      return {0, wait_us}
    end
    local promised_us = math.max(tonumber(redis.call('GET', line_key) or 0), tat_us)
    local next_us = promised_us + interval_us
    redis.call('SET', line_key, string.format('%d', next_us), 'PX', math.ceil((next_us - now_us) / 1000))
    return {0, promised_us - tolerance_us - now_us - math.floor(max_wait_us / 2)}
  end
  if wait_us < 0 then
    wait_us = 0
  end
  local next_tat_us = tat_us + interval_us
  -- The key lives exactly as long as it matters: once the TAT has passed, a missing key means the same.
  redis.call('SET', key, string.format('%d', next_tat_us), 'PX', math.ceil((next_tat_us - now_us) / 1000))
  return {1, wait_us}
end
