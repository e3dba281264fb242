-- Announce a record's final status unless it was announced already (see announce.lua).
-- KEYS[1] record hash, KEYS[2] events stream. Returns 1 when the on_final callback is still due, else 0.
return announce(KEYS[1], KEYS[2])
