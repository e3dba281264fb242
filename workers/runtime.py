"""The per-process objects a worker needs, built once per process on first use (after any fork).

Building lazily, keyed by pid, means a prefork child never inherits its parent's sockets, and a threads or
solo pool builds everything once and shares it between its threads (each part is thread-safe).

The connection pools are sized for the tasks the worker really runs at once: Celery's ``-c`` (or the autoscale
maximum) once the worker reports it through :func:`adopt_worker_concurrency`, else ``SUPERSMS_CONCURRENCY``,
which is only the default of ``-c``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace

import redis

from supersms.settings import Settings
from supersms.workers.celery_config import max_countdown_s
from supersms.workers.metrics import MetricsRecorder
from supersms.workers.outcomes import Callback, Outcomes
from supersms.workers.pause import AccountPause
from supersms.workers.policy import RetryPolicy
from supersms.workers.provider import ProviderClient, build_session
from supersms.workers.ratelimit import RateLimiter
from supersms.workers.records import MessageStore
from supersms.workers.redis_io import connect
from supersms.workers.sender import Sender


@dataclass(frozen=True)
class Runtime:
    """Everything a worker process talks to."""

    settings: Settings
    redis: redis.Redis
    store: MessageStore
    pause: AccountPause
    sender: Sender
    outcomes: Outcomes
    metrics: MetricsRecorder


_lock = threading.Lock()
_runtimes: dict[int, Runtime] = {}
_worker_concurrency: int | None = None
POOL_HEADROOM = 4
"""Connections beyond one per task, for the worker's own threads that share the pools (the sweeper)."""
REDIS_CONNECTIONS_PER_TASK = 2
"""One held for the attempt's two scripts (:class:`MessageStore`), one for everything else a task does."""


def adopt_worker_concurrency(concurrency: int) -> None:
    """Size the runtimes built from now on for ``concurrency`` tasks at once: the worker's own pool size."""
    global _worker_concurrency
    with _lock:
        _worker_concurrency = concurrency


def runtime(settings: Settings, *, run_callback: Callback) -> Runtime:
    """This process's Runtime, built on first call."""
    pid = os.getpid()
    with _lock:
        if pid not in _runtimes:
            _runtimes.clear()
            _runtimes[pid] = build_runtime(_for_this_worker(settings), run_callback=run_callback)
        return _runtimes[pid]


def _for_this_worker(settings: Settings) -> Settings:
    if _worker_concurrency is None:
        return settings
    return replace(settings, worker_concurrency=_worker_concurrency)


def limiter_burst(settings: Settings) -> int:
    """The burst the limiter grants at Redis: one less than the documented burst, which holds at the provider.

    A grant and the request's arrival are a little apart (threads, network), so two grants a slot apart can
    arrive together; the slot held back absorbs that jitter.
    """
    return max(0, settings.rate_burst - 1)


def build_runtime(settings: Settings, *, run_callback: Callback) -> Runtime:
    """Wire the clients together from settings; requires the account credentials."""
    settings.require_credentials()
    pool_size = settings.worker_concurrency + POOL_HEADROOM
    redis_pool_size = settings.worker_concurrency * REDIS_CONNECTIONS_PER_TASK + POOL_HEADROOM
    client = connect(settings.redis_url, max_connections=redis_pool_size)
    store = MessageStore(redis_client=client, record_ttl_s=settings.record_ttl_s)
    outcomes = Outcomes(redis_client=client, store=store, run_callback=run_callback)
    pause = AccountPause(redis=client, cooldown_s=settings.pause_s)
    metrics = MetricsRecorder(redis_client=client)
    provider = ProviderClient(
        url=settings.api_url,
        account_id=settings.account_id or "",
        password=settings.password or "",
        session=build_session(url=settings.api_url, pool_size=pool_size),
        connect_timeout_s=settings.connect_timeout_s,
        read_timeout_s=settings.read_timeout_s,
        method=settings.http_method,
    )
    sender = Sender(
        store=store,
        limiter=RateLimiter(
            redis=client, rate_per_s=settings.rate_limit_per_s, burst=limiter_burst(settings)
        ),
        pause=pause,
        provider=provider,
        outcomes=outcomes,
        policy=RetryPolicy(
            max_attempts=settings.max_attempts,
            backoff_base_s=settings.backoff_base_s,
            backoff_max_s=settings.backoff_max_s,
        ),
        rate_wait_max_s=settings.rate_wait_max_s,
        max_countdown_s=max_countdown_s(settings),
        metrics=metrics,
    )
    return Runtime(
        settings=settings,
        redis=client,
        store=store,
        pause=pause,
        sender=sender,
        outcomes=outcomes,
        metrics=metrics,
    )
