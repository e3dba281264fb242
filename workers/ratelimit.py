"""The global send rate: one limit for every worker process on every host, kept in Redis.

The limiter is GCRA (the generic cell rate algorithm) in one Lua script (``ratelimit.lua``), so deciding
and recording a send is one atomic step, and the clock is Redis's own (``TIME``): hosts whose clocks disagree
still share one rate. The state is one key holding a timestamp; it expires by itself when sending goes idle.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from supersms.errors import StoreUnavailable
from supersms.workers import keys

_SCRIPT = (Path(__file__).parent / "ratelimit.lua").read_text(encoding="utf-8")
_US_PER_S = 1_000_000


@dataclass(frozen=True)
class Decision:
    """The limiter's answer: ``allowed`` to send now, or else ``wait_s`` until the next slot opens.

    ``wait_s`` is 0 when allowed. A slot that opens may still go to another worker that asks first.
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
        self._script = redis.register_script(_SCRIPT)  # computes the SHA only; nothing connects here

    def try_acquire(self) -> Decision:
        """Take a send slot if one is free now (one atomic script call); never waits."""
        if not self._interval_us:
            return ALLOWED
        args = [self._interval_us, self.burst * self._interval_us]
        try:
            allowed, wait_us = self._script(keys=[self._key], args=args)
        except RedisError as e:
            raise StoreUnavailable(f"rate limiter: Redis failed: {e}") from e
        return ALLOWED if allowed else Decision(allowed=False, wait_s=int(wait_us) / _US_PER_S)

    def acquire(self, *, max_wait_s: float) -> Decision:
        """Take a send slot, sleeping for it only while the total wait stays within ``max_wait_s``.

        Returns the denied :class:`Decision` as soon as the next slot lies beyond that budget, so the caller
        can give its place back (re-queue with a countdown of ``wait_s``) instead of holding a worker asleep.
        """
        deadline = time.monotonic() + max_wait_s
        while True:
            decision = self.try_acquire()
            if decision.allowed or decision.wait_s > deadline - time.monotonic():
                return decision
            time.sleep(decision.wait_s)
