"""Worker-side metrics: counters and histograms kept in Redis, shared by every worker process on every host.

Each event is one non-transactional pipeline of ``HINCRBY``/``HINCRBYFLOAT``/``INCRBY`` on small keys
(:mod:`supersms.workers.keys`, ``supersms:metrics:*``). Nothing is kept in the process, so ``supersms metrics``
serves the sum over all workers from one place (:mod:`supersms.workers.exposition`), and a worker that dies
loses no count.

Recording never fails a send: a Redis error is logged at DEBUG and the event is dropped.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
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


class MetricsRecorder:
    """Adds one process's events to the shared metrics; ``redis_client=None`` records nothing."""

    def __init__(self, *, redis_client: redis.Redis | None) -> None:
        self._redis = redis_client

    def transition(self, status: str, count: int = 1) -> None:
        """``count`` messages entered ``status``."""

        def add(pipe: Pipeline) -> None:
            pipe.hincrby(keys.METRICS_MESSAGES, str(status), count)

        self._write(add)

    def provider_call(self, outcome: str, err_code: str | None, latency_s: float) -> None:
        """One call to the provider ended with ``outcome`` (and the reply's err_code) after ``latency_s``."""

        def add(pipe: Pipeline) -> None:
            pipe.hincrby(keys.METRICS_REPLIES, reply_field(err_code, str(outcome)), 1)
            _observe(pipe, PROVIDER_LATENCY, [latency_s])

        self._write(add)

    def rate_wait(self, waited_s: float, *, given_back: bool) -> None:
        """A send waited ``waited_s`` for the rate limiter, then went ahead or gave its slot back."""

        def add(pipe: Pipeline) -> None:
            _observe(pipe, RATE_WAIT, [waited_s])
            if given_back:
                pipe.incrby(keys.METRICS_RATE_GIVEN_BACK, 1)

        self._write(add)

    def reports_handled(self, outcomes: Mapping[str, int], lags_ms: Iterable[float]) -> None:
        """A correlation pass: reports by outcome (parked ones are a gauge, not counted) and their lags."""

        def add(pipe: Pipeline) -> None:
            for outcome, count in outcomes.items():
                if outcome == PARKED or not count:
                    continue
                pipe.hincrby(keys.METRICS_REPORTS, outcome, count)
                if outcome in FINAL_REPORT_STATUSES:
                    pipe.hincrby(keys.METRICS_MESSAGES, outcome, count)
            _observe(pipe, REPORT_LAG, [max(0.0, lag_ms) / _MS_PER_S for lag_ms in lags_ms])

        self._write(add)

    def _write(self, add: Callable[[Pipeline], None]) -> None:
        if self._redis is None:
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            add(pipe)
            pipe.execute()
        except redis.RedisError as error:
            log.debug("metrics not recorded: %s", error)
        except Exception:  # a metric is never worth a failed send
            log.warning("metrics not recorded", exc_info=True)


DISABLED = MetricsRecorder(redis_client=None)


def _observe(pipe: Pipeline, histogram: Histogram, values_s: list[float]) -> None:
    """Queue the updates for ``values_s``: one increment per bucket touched, then the sum.

    The count is not stored: it is the total over the buckets, so a scrape between two commands of one
    event cannot see a count that disagrees with the buckets.
    """
    if not values_s:
        return
    buckets: dict[str, int] = {}
    for value_s in values_s:
        field = histogram.bucket_field(value_s)
        buckets[field] = buckets.get(field, 0) + 1
    for field, count in buckets.items():
        pipe.hincrby(histogram.key, field, count)
    pipe.hincrbyfloat(histogram.key, "sum", sum(values_s))
