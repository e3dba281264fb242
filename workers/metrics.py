"""Worker-side metrics: counters and histograms kept in Redis, shared by every worker process on every host.

Events are added up in the process and written about once a second, as one non-transactional pipeline of
``HINCRBY``/``HINCRBYFLOAT``/``INCRBY`` on small keys (:mod:`supersms.workers.keys`, ``supersms:metrics:*``),
so a send costs no Redis round trip for its metrics. ``supersms metrics`` serves the sum over all workers
from one place (:mod:`supersms.workers.exposition`); a worker that dies loses at most its last second of counts.

Recording never fails a send: a Redis error is logged at DEBUG and that second's counts are dropped.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import redis
from redis.client import Pipeline

from supersms.workers import keys

log = logging.getLogger(__name__)

NO_ERR_CODE = "none"
OTHER_ERR_CODE = "other"
PARKED = "missing"
FINAL_REPORT_STATUSES = ("delivered", "undelivered")
_ERR_CODE = re.compile(r"[A-Za-z0-9]{1,8}")
_MS_PER_S = 1000.0


@dataclass(frozen=True)
class Histogram:
    """A histogram with fixed upper bounds (seconds), stored as one hash: a field per bucket, and the sum."""

    key: str
    bounds_s: tuple[float, ...]

    def bucket_field(self, value_s: float) -> str:
        """The field of the one bucket ``value_s`` falls in: the first bound ≥ it (bounds are inclusive)."""
        for bound_s in self.bounds_s:
            if value_s <= bound_s:
                return bucket_field(bound_s)
        return bucket_field(math.inf)


PROVIDER_LATENCY = Histogram(keys.METRICS_PROVIDER_LATENCY, (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
RATE_WAIT = Histogram(keys.METRICS_RATE_WAIT, (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))
REPORT_LAG = Histogram(keys.METRICS_REPORT_LAG, (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0))


def bucket_field(bound_s: float) -> str:
    """``le:0.05`` … ``le:+Inf``: the hash field of the bucket with upper bound ``bound_s``."""
    return "le:+Inf" if math.isinf(bound_s) else f"le:{bound_s!r}"


def reply_field(err_code: str | None, outcome: str) -> str:
    """The field of one (err_code, outcome) pair; odd codes are folded into ``other`` to bound the labels."""
    if err_code is None:
        return json.dumps([NO_ERR_CODE, outcome])
    return json.dumps([err_code if _ERR_CODE.fullmatch(err_code) else OTHER_ERR_CODE, outcome])


Increment = tuple[str, str | None]
"""Where a count goes: (key, hash field), or (key, None) for a plain counter."""


class MetricsRecorder:
    """Adds one process's events to the shared metrics; ``redis_client=None`` records nothing.

    Counts wait in the process until :meth:`flush`, which a daemon thread calls every ``flush_interval_s``
    while there is something to write, the worker calls at shutdown, and the process calls at exit.
    Thread-safe.
    """

    def __init__(self, *, redis_client: redis.Redis | None, flush_interval_s: float = 1.0) -> None:
        self._redis = redis_client
        self._flush_interval_s = flush_interval_s
        self._lock = threading.Lock()
        self._pending: dict[Increment, int | float] = {}
        self._flusher: threading.Thread | None = None
        if redis_client is not None:
            atexit.register(
                self.flush
            )  # a short-lived producer (``supersms send``) exits within the interval

    def transition(self, status: str, count: int = 1) -> None:
        """``count`` messages entered ``status``."""
        self._add({(keys.METRICS_MESSAGES, str(status)): count})

    def provider_call(self, outcome: str, err_code: str | None, latency_s: float) -> None:
        """One call to the provider ended with ``outcome`` (and the reply's err_code) after ``latency_s``."""
        self._add(
            {
                (keys.METRICS_REPLIES, reply_field(err_code, str(outcome))): 1,
                **_observed(PROVIDER_LATENCY, [latency_s]),
            }
        )

    def rate_wait(self, waited_s: float, *, given_back: bool) -> None:
        """A send waited ``waited_s`` for the rate limiter, then went ahead or gave its slot back."""
        increments = _observed(RATE_WAIT, [waited_s])
        if given_back:
            increments[(keys.METRICS_RATE_GIVEN_BACK, None)] = 1
        self._add(increments)

    def reports_handled(self, outcomes: Mapping[str, int], lags_ms: Iterable[float]) -> None:
        """A correlation pass: reports by outcome (parked ones are a gauge, not counted) and their lags."""
        increments = _observed(REPORT_LAG, [max(0.0, lag_ms) / _MS_PER_S for lag_ms in lags_ms])
        for outcome, count in outcomes.items():
            if outcome == PARKED or not count:
                continue
            increments[(keys.METRICS_REPORTS, outcome)] = count
            if outcome in FINAL_REPORT_STATUSES:
                increments[(keys.METRICS_MESSAGES, outcome)] = count
        self._add(increments)

    def flush(self) -> None:
        """Write what has been counted since the last flush."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending or self._redis is None:
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            for (key, field), amount in pending.items():
                _queue(pipe, key, field, amount)
            pipe.execute()
        except redis.RedisError as error:
            log.debug("metrics not recorded: %s", error)
        except Exception:  # a metric is never worth a failed send
            log.warning("metrics not recorded", exc_info=True)

    def _add(self, increments: Mapping[Increment, int | float]) -> None:
        if self._redis is None:
            return
        with self._lock:
            for where, amount in increments.items():
                self._pending[where] = self._pending.get(where, 0) + amount
            if self._flusher is None or not self._flusher.is_alive():
                self._flusher = threading.Thread(
                    target=self._flush_soon, name="supersms-metrics", daemon=True
                )
                self._flusher.start()

    def _flush_soon(self) -> None:
        """Flush every interval until a whole interval passes with nothing counted."""
        while True:
            time.sleep(self._flush_interval_s)
            with self._lock:
                if not self._pending:
                    self._flusher = None
                    return
            self.flush()


DISABLED = MetricsRecorder(redis_client=None)


def _observed(histogram: Histogram, values_s: list[float]) -> dict[Increment, int | float]:
    """The increments for ``values_s``: one per bucket touched, then the sum.

    The count is not stored: it is the total over the buckets, so a scrape between two commands of one
    flush cannot see a count that disagrees with the buckets.
    """
    if not values_s:
        return {}
    increments: dict[Increment, int | float] = {}
    for value_s in values_s:
        where = (histogram.key, histogram.bucket_field(value_s))
        increments[where] = int(increments.get(where, 0)) + 1
    increments[(histogram.key, "sum")] = float(sum(values_s))
    return increments


def _queue(pipe: Pipeline, key: str, field: str | None, amount: int | float) -> None:
    if field is None:
        pipe.incrby(key, int(amount))
    elif isinstance(amount, float):
        pipe.hincrbyfloat(key, field, amount)
    else:
        pipe.hincrby(key, field, amount)
