"""The global send rate: one limit for every worker process on every host, kept in Redis.

The limiter is GCRA (the generic cell rate algorithm) in Lua (``gcra.lua``), so deciding and recording a send
is one atomic step, and the clock is Redis's own (``TIME``): hosts whose clocks disagree still share one rate.
A send that must wait a little books its slot ahead and sleeps until it, so many waiting workers ask once
each instead of all asking again whenever a slot opens. The state is one key holding a timestamp; it expires
by itself when sending goes idle. The sender takes its slot inside the claim of an attempt
(``record_begin.lua``), with the arguments :meth:`RateLimiter.script_args` gives.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

from supersms.errors import StoreUnavailable
from supersms.workers import keys, lua

_US_PER_S = 1_000_000


@dataclass(frozen=True)
class Decision:
    """The limiter's answer: ``allowed`` to send now, or else ``wait_s`` until the next slot opens.

    When allowed, ``wait_s`` is how long to wait for the booked slot (0: now); when not, how long until the
    next slot opens (it may still go to another worker that asks first).
    """

    allowed: bool
    wait_s: float = 0.0


ALLOWED = Decision(allowed=True)


class RateLimiter:
    """At most ``rate_per_s`` sends per second across all workers together, plus a small ``burst``.

    From idle, ``burst + 1`` sends go at once; after that one send every ``1 / rate_per_s`` seconds. The
    bound: no window of one second (start included, end excluded) holds more than ``ceil(rate_per_s) + burst``
    sends, which is ``rate_per_s + burst`` for a whole-number rate. The interval is rounded up to whole
    microseconds, so the rate is never exceeded. ``rate_per_s == 0`` means no limit, and Redis is never asked.
    """

    def __init__(self, *, redis: Redis, rate_per_s: float, burst: int, key: str = keys.RATE) -> None:
        if not (math.isfinite(rate_per_s) and rate_per_s >= 0):
            raise ValueError(f"rate_per_s must be a finite number >= 0, got {rate_per_s!r}")
        if burst < 0:
            raise ValueError(f"burst must be >= 0, got {burst!r}")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._key = key
        self._interval_us = math.ceil(_US_PER_S / rate_per_s) if rate_per_s else 0
        self._script = lua.register(redis, "ratelimit", uses=("gcra",))

    def script_args(self, *, max_wait_s: float) -> list[int]:
        """What ``reserve_slot`` takes after the key: interval, tolerance and longest wait, in microseconds."""
        return [self._interval_us, self.burst * self._interval_us, int(max_wait_s * _US_PER_S)]

    def try_acquire(self) -> Decision:
        """Take a send slot if one is free now (one atomic script call); never waits."""
        return self._reserve(max_wait_s=0.0)

    def acquire(self, *, max_wait_s: float) -> Decision:
        """Take a send slot, sleeping for the one booked when it opens within ``max_wait_s``.

        Returns the denied :class:`Decision` when the next slot lies beyond that, so the caller can give its
        place back (re-queue with a countdown of ``wait_s``) instead of holding a worker asleep.
        """
        decision = self._reserve(max_wait_s=max_wait_s)
        if decision.allowed and decision.wait_s:
            time.sleep(decision.wait_s)
        return decision

    def _reserve(self, *, max_wait_s: float) -> Decision:
        if not self._interval_us:
            return ALLOWED
        try:
            booked, wait_us = self._script(keys=[self._key], args=self.script_args(max_wait_s=max_wait_s))
        except RedisError as e:
            raise StoreUnavailable(f"rate limiter: Redis failed: {e}") from e
        return Decision(allowed=bool(booked), wait_s=int(wait_us) / _US_PER_S)
