-- Reserve a send slot of the global rate (see gcra.lua).
-- KEYS[1] the TAT key. ARGV[1] interval T (us), ARGV[2] tolerance tau (us), ARGV[3] longest wait to book (us).
-- Returns {1, wait_us} when a slot is booked wait_us from now, {0, wait_us} when none opens soon enough.
return reserve_slot(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
