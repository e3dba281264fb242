"""``supersms worker [CELERY WORKER OPTIONS]``: a Celery worker for sends and reports, task events on.

Defaults (each can be overridden by passing the Celery option): queues ``sms.send,sms.reports``, the threads
pool with ``SUPERSMS_CONCURRENCY`` threads, log level INFO, task events on (``-E``) for Flower. The connection
pools to Redis and to the provider are sized for the threads the worker really runs (``-c``, ``--autoscale``).
"""

from __future__ import annotations

from supersms.errors import StoreUnavailable
from supersms.workers.celery_config import REPORTS_QUEUE, SEND_QUEUE
from supersms.workers.redis_io import connect, translate_errors

HELP_FLAGS = frozenset({"-h", "--help"})


def worker_argv(argv: list[str]) -> list[str]:
    """The ``celery worker`` arguments: ours first where the caller did not give the same option."""
    defaults = {
        ("-Q", "--queues"): f"--queues={SEND_QUEUE},{REPORTS_QUEUE}",
        ("-l", "--loglevel"): "--loglevel=INFO",
    }
    given = {arg.split("=", 1)[0] for arg in argv}
    chosen = [value for names, value in defaults.items() if not given & set(names)]
    return ["worker", "--task-events", *chosen, *argv]


def main(argv: list[str]) -> int:
    """Check the account and Redis, then run the Celery worker until it is stopped."""
    from supersms.tasks.app import app, settings

    current = settings()
    if not HELP_FLAGS & set(argv):  # the help text needs neither the account nor Redis
        current.require_credentials()
        _require_redis(current.redis_url)
    app.worker_main(worker_argv(argv))
    return 0


def _require_redis(url: str) -> None:
    try:
        with translate_errors("answer a PING"):
            connect(url).ping()
    except StoreUnavailable:
        raise StoreUnavailable(f"cannot reach Redis at SUPERSMS_REDIS_URL={_safe(url)}") from None


def _safe(url: str) -> str:
    """The URL without a password."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
