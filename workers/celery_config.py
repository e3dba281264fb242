"""Celery configuration derived from Settings (pure: returns a dict for ``app.conf.update``).

Why each choice:
- JSON only: producers in any language can enqueue, and nothing executes pickled data.
- ``acks_late`` with ``task_reject_on_worker_lost``: a task is acknowledged after it ran, so a lost worker's
  tasks come back; the claim in Redis keeps a redelivered task from sending twice.
- ``visibility_timeout``: how long the Redis broker waits before handing an unacknowledged task to another
  worker. Kept short (default 100 s) so a killed worker's tasks return within about two minutes, with the
  restore sweep run every 5 s. Every countdown is capped at a quarter of it (longer waits hop), so no
  ETA task is ever redelivered while it waits (kombu#337, celery#4400).
- ``broker_transport`` for a ``redis://`` or ``rediss://`` broker: kombu's Redis transport with one client
  per channel (:mod:`supersms.workers.broker_transport`) instead of a new client per acknowledgement and event.
- prefetch multiplier 1: a worker reserves no more tasks than it has threads, so tasks waiting for the rate
  limiter do not starve other workers; threads pool: sends are I/O-bound, one process keeps many in flight.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from supersms.settings import Settings
from supersms.workers import broker_transport
from supersms.workers.redis_io import url_scheme

SEND_QUEUE = "sms.send"
REPORTS_QUEUE = "sms.reports"
WORKER_POOL = "threads"  # sends wait on the network: one process keeps many in flight
RESTORE_INTERVAL_S = 5
REDIS_SCHEMES = frozenset({"redis", "rediss"})


def max_countdown_s(settings: Settings) -> float:
    """The longest countdown a task is ever published with."""
    return settings.visibility_timeout_s / 4


def celery_config(settings: Settings) -> dict[str, Any]:
    """The ``app.conf`` of the supersms Celery app."""
    return {
        "broker_url": kombu_url(settings.broker_url),
        "broker_transport": transport_for(settings.broker_url),
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": settings.visibility_timeout_s,
            "unacked_restore_interval": RESTORE_INTERVAL_S,
            "unacked_restore_throttle": 1,
        },
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "result_backend": None,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "task_default_queue": SEND_QUEUE,
        "task_routes": {
            "supersms.send": {"queue": SEND_QUEUE},
            "supersms.send_batch": {"queue": SEND_QUEUE},
            "supersms.*": {"queue": REPORTS_QUEUE},
        },
        "worker_prefetch_multiplier": 1,
        "worker_pool": WORKER_POOL,
        "worker_concurrency": settings.worker_concurrency,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
        "enable_utc": True,
    }


def kombu_url(url: str) -> str:
    """The broker URL as kombu reads it: a ``unix://`` Redis socket is ``redis+socket://`` to kombu, which knows
    no ``unix`` transport."""
    if not url.startswith("unix://"):
        return url
    path, _, query = url.removeprefix("unix://").partition("?")
    # kombu takes the database from ``virtual_host`` and would put a ``db`` parameter in database 0
    params = [("virtual_host" if name == "db" else name, value) for name, value in parse_qsl(query)]
    return f"redis+socket://{path}" + (f"?{urlencode(params)}" if params else "")


def transport_for(broker_url: str) -> str | None:
    """The kombu transport for ``broker_url``: ours for Redis, else None (kombu's choice by the URL's scheme)."""
    return broker_transport.TRANSPORT if url_scheme(broker_url) in REDIS_SCHEMES else None
