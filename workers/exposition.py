"""The Prometheus view of supersms: what Flower does not show, read from Redis at each scrape.

Two kinds of numbers:
- counters and histograms the workers add to (:mod:`supersms.workers.metrics`): messages by status, provider
  replies and latency, rate-limiter waits, reports handled and their lag;
- gauges read from the live keys: the account pause, messages in flight, the report stream (length, parked,
  backlog, dead letters) and, when the broker is Redis, the length of the task queues and the tasks workers
  hold unacknowledged.

:func:`read_store` and :func:`read_broker` do the I/O (one pipeline each); :func:`store_families` and
:func:`broker_families` are pure. :class:`SupersmsCollector` ties them together for ``prometheus_client``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis
from kombu.transport.redis import PRIORITY_STEPS
from kombu.transport.redis import Channel as RedisChannel
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from supersms.errors import StoreUnavailable
from supersms.workers import keys
from supersms.workers.celery_config import REPORTS_QUEUE, SEND_QUEUE
from supersms.workers.metrics import (
    PROVIDER_LATENCY,
    RATE_WAIT,
    REPORT_LAG,
    Histogram,
    bucket_field,
)
from supersms.workers.pause import AccountPause, PauseState
from supersms.workers.records import Status

log = logging.getLogger(__name__)

QUEUES = (SEND_QUEUE, REPORTS_QUEUE)
UNACKED_KEY = RedisChannel.unacked_key
REPORT_OUTCOMES = ("delivered", "undelivered", "intermediate", "duplicate", "ignored", "dead")
HISTOGRAMS = {
    "supersms_provider_latency_seconds": (PROVIDER_LATENCY, "Duration of calls to the provider."),
    "supersms_rate_wait_seconds": (RATE_WAIT, "Time a send waited for the global rate limiter."),
    "supersms_report_lag_seconds": (REPORT_LAG, "Time from a report's receipt to its application."),
}


@dataclass(frozen=True)
class StoreReading:
    """What one scrape read from ``SUPERSMS_REDIS_URL``."""

    messages: Mapping[str, str] = field(default_factory=dict)
    replies: Mapping[str, str] = field(default_factory=dict)
    reports: Mapping[str, str] = field(default_factory=dict)
    rate_given_back: float = 0.0
    histograms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    in_flight: int = 0
    stream_length: int = 0
    parked: int = 0
    dead: int = 0
    pause: PauseState | None = None


@dataclass(frozen=True)
class BrokerReading:
    """What one scrape read from the broker, when it is Redis: queue lengths and unacknowledged tasks."""

    queue_lengths: Mapping[str, int]
    unacked: int


def read_store(client: redis.Redis) -> StoreReading:
    """Every counter, histogram and gauge kept in the store, in one round trip plus one for the pause."""
    pipe = client.pipeline(transaction=False)
    for key in (keys.METRICS_MESSAGES, keys.METRICS_REPLIES, keys.METRICS_REPORTS):
        pipe.hgetall(key)
    pipe.get(keys.METRICS_RATE_GIVEN_BACK)
    for histogram, _ in HISTOGRAMS.values():
        pipe.hgetall(histogram.key)
    pipe.zcard(keys.INFLIGHT)
    pipe.xlen(keys.REPORTS)
    pipe.xpending(keys.REPORTS, keys.REPORTS_GROUP)
    pipe.xlen(keys.REPORTS_DEAD)
    # A missing consumer group answers XPENDING with an error: read it as "nothing parked".
    messages, replies, reports, given_back, *rest = pipe.execute(raise_on_error=False)
    *histograms, in_flight, stream_length, pending, dead = rest
    return StoreReading(
        messages=_mapping(messages),
        replies=_mapping(replies),
        reports=_mapping(reports),
        rate_given_back=float(_plain(given_back) or 0),
        histograms={name: _mapping(raw) for name, raw in zip(HISTOGRAMS, histograms, strict=True)},
        in_flight=int(_plain(in_flight) or 0),
        stream_length=int(_plain(stream_length) or 0),
        parked=int(pending["pending"]) if isinstance(pending, dict) else 0,
        dead=int(_plain(dead) or 0),
        pause=AccountPause(redis=client, cooldown_s=1).current(),
    )


def read_broker(client: redis.Redis) -> BrokerReading:
    """Lengths of the task queues (all priority lists together) and the broker's unacknowledged tasks."""
    lists = {queue: queue_lists(queue) for queue in QUEUES}
    pipe = client.pipeline(transaction=False)
    for name in (name for names in lists.values() for name in names):
        pipe.llen(name)
    pipe.hlen(UNACKED_KEY)
    replies = iter(pipe.execute())
    lengths = {queue: sum(int(next(replies)) for _ in names) for queue, names in lists.items()}
    return BrokerReading(queue_lengths=lengths, unacked=int(next(replies)))


def queue_lists(queue: str) -> list[str]:
    """The Redis lists holding one Celery queue: kombu keeps each priority step in a list of its own."""
    return [queue if not step else f"{queue}{RedisChannel.sep}{step}" for step in PRIORITY_STEPS]


def store_families(reading: StoreReading) -> Iterator[Metric]:
    """The metric families of a store reading."""
    yield _labelled_counter(
        "supersms_messages",
        "Times a message entered each status (retrying: once per scheduled retry).",
        "status",
        {**dict.fromkeys(Status, "0"), **reading.messages},
    )
    yield _replies(reading.replies)
    yield _labelled_counter(
        "supersms_reports",
        "Delivery reports handled by correlation, by outcome.",
        "outcome",
        {**dict.fromkeys(REPORT_OUTCOMES, "0"), **reading.reports},
    )
    yield CounterMetricFamily(
        "supersms_rate_slots_given_back",
        "Sends re-queued because the next rate-limiter slot was further off than they may wait.",
        value=reading.rate_given_back,
    )
    for name, (histogram, documentation) in HISTOGRAMS.items():
        yield _histogram(name, documentation, histogram, reading.histograms.get(name, {}))
    yield from _pause(reading.pause)
    yield from _gauges(
        ("supersms_messages_in_flight", "Messages claimed for a provider call right now.", reading.in_flight),
        ("supersms_reports_stream_length", "Entries in the report stream.", reading.stream_length),
        (
            "supersms_reports_parked",
            "Reports read but not applied yet: waiting for their message, or in a correlator's hands.",
            reading.parked,
        ),
        (
            "supersms_reports_backlog",
            "Reports received and not read by any correlator yet.",
            max(0, reading.stream_length - reading.parked),
        ),
        ("supersms_reports_dead", "Reports that never matched a message (dead-letter stream).", reading.dead),
    )


def broker_families(reading: BrokerReading) -> Iterator[Metric]:
    """The metric families of a broker reading."""
    queues = GaugeMetricFamily(
        "supersms_queue_length",
        "Tasks waiting in the broker's queue (not those prefetched or waiting for a countdown).",
        labels=["queue"],
    )
    for queue, length in reading.queue_lengths.items():
        queues.add_metric([queue], length)
    yield queues
    yield GaugeMetricFamily(
        "supersms_broker_unacked_tasks",
        "Tasks workers hold unacknowledged: running, prefetched, or waiting for a countdown.",
        value=reading.unacked,
    )


class SupersmsCollector(Collector):
    """Reads the store (and the broker, when it is Redis) at each scrape. ``*_up`` say whether that worked."""

    def __init__(self, *, redis_client: redis.Redis, broker_client: redis.Redis | None) -> None:
        self._redis = redis_client
        self._broker = broker_client

    def describe(self) -> Iterable[Metric]:
        """Nothing: registering the collector must not touch Redis."""
        return []

    def collect(self) -> Iterator[Metric]:
        yield from self._collect_store()
        if self._broker is not None:
            yield from self._collect_broker(self._broker)

    def _collect_store(self) -> Iterator[Metric]:
        try:
            reading = read_store(self._redis)
        except (redis.RedisError, StoreUnavailable) as error:
            log.warning("metrics: cannot read Redis: %s", error)
            yield _up("supersms_store_up", "1 when the message store could be read.", False)
            return
        yield _up("supersms_store_up", "1 when the message store could be read.", True)
        yield from store_families(reading)

    def _collect_broker(self, broker: redis.Redis) -> Iterator[Metric]:
        try:
            reading = read_broker(broker)
        except redis.RedisError as error:
            log.warning("metrics: cannot read the broker: %s", error)
            yield _up("supersms_broker_up", "1 when the Redis broker could be read.", False)
            return
        yield _up("supersms_broker_up", "1 when the Redis broker could be read.", True)
        yield from broker_families(reading)


def _labelled_counter(name: str, documentation: str, label: str, values: Mapping[str, str]) -> Metric:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for value_label, value in sorted(values.items()):
        family.add_metric([str(value_label)], float(value))
    return family


def _replies(raw: Mapping[str, str]) -> Metric:
    family = CounterMetricFamily(
        "supersms_provider_replies",
        "Calls to the provider by the reply's err_code (none: no reply) and by outcome.",
        labels=["err_code", "outcome"],
    )
    for labels, value in sorted(raw.items()):
        try:
            err_code, outcome = json.loads(labels)
        except ValueError:
            log.debug("metrics: unreadable reply field %r skipped", labels)
            continue
        family.add_metric([str(err_code), str(outcome)], float(value))
    return family


def _histogram(name: str, documentation: str, histogram: Histogram, raw: Mapping[str, str]) -> Metric:
    """Cumulative buckets from the stored per-bucket counts; the +Inf bucket is the count."""
    cumulative = 0.0
    buckets: list[tuple[str, float]] = []
    for bound_s in (*histogram.bounds_s, math.inf):
        cumulative += float(raw.get(bucket_field(bound_s), 0))
        buckets.append((_le(bound_s), cumulative))
    return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=float(raw.get("sum", 0)))


def _le(bound_s: float) -> str:
    """A bucket bound as Prometheus writes it: ``0.05``, ``1.0``, ``+Inf``."""
    return "+Inf" if math.isinf(bound_s) else repr(float(bound_s))


def _pause(pause: PauseState | None) -> Iterator[Metric]:
    active = GaugeMetricFamily(
        "supersms_pause_active",
        "1 while the account-wide pause holds, labelled with the provider code that opened it.",
        labels=["code"],
    )
    active.add_metric([pause.code if pause else ""], 1 if pause else 0)
    yield active
    yield GaugeMetricFamily(
        "supersms_pause_remaining_seconds",
        "Seconds until the account-wide pause ends by itself (0: no pause).",
        value=pause.remaining_s if pause else 0,
    )


def _gauges(*specs: tuple[str, str, float]) -> Iterator[Metric]:
    for name, documentation, value in specs:
        yield GaugeMetricFamily(name, documentation, value=value)


def _up(name: str, documentation: str, up: bool) -> Metric:
    return GaugeMetricFamily(name, documentation, value=1 if up else 0)


def _mapping(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _plain(raw: Any) -> Any:
    """A pipeline result, or None where the command answered an error."""
    return None if isinstance(raw, Exception) else raw
