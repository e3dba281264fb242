"""The baseline: the bare minimum a Celery worker does to send one message, with the same settings as ours.

Same broker (the run's private Redis, ``BENCH_BROKER_URL``), JSON only, ``acks_late``, prefetch multiplier 1,
threads pool (``-c``, and ``BENCH_CONCURRENCY`` for the pool size), a plain keep-alive ``requests.Session``
whose connection pool is sized as the provider client's (threads + 4), the same timeouts. Each task is one
POST of the form fields it carries, plus the account, to ``BENCH_API_URL``, and nothing else: no
validation, no record, no claim, no rate limiter, no metrics, no task events.

Run by ``celery -A bench.bare worker -P threads -c N -Q bench.bare --prefetch-multiplier 1 -l INFO`` (the log
level ``supersms worker`` runs at by default).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import requests
from celery import Celery
from requests.adapters import HTTPAdapter

from supersms.sandbox.rules import Account

TASK_NAME = "bench.bare_send"
QUEUE = "bench.bare"
TIMEOUT_S = (3.0, 10.0)  # SUPERSMS_CONNECT_TIMEOUT, SUPERSMS_READ_TIMEOUT defaults

app = Celery("bench-bare", set_as_current=False)


@app.on_configure.connect
def _configure(sender: Celery, **_: Any) -> None:
    sender.conf.update(
        broker_url=os.environ["BENCH_BROKER_URL"],
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_default_queue=QUEUE,
        worker_prefetch_multiplier=1,
        worker_pool="threads",
        worker_hijack_root_logger=False,
    )


_lock = threading.Lock()
_sessions: dict[int, requests.Session] = {}


def session() -> requests.Session:
    """One keep-alive session per process, shared by its threads, built on first use."""
    with _lock:
        if os.getpid() not in _sessions:
            threads = int(os.environ.get("BENCH_CONCURRENCY", "32"))
            plain = requests.Session()
            plain.mount("http://", HTTPAdapter(pool_maxsize=threads + 4))
            _sessions[os.getpid()] = plain
        return _sessions[os.getpid()]


@app.task(name=TASK_NAME, ignore_result=True)
def bare_send(**fields: str) -> int:
    """POST the form fields with the account to the provider; return the HTTP status."""
    account = Account()
    data = {"id": account.id, "pwd": account.password, **fields}
    with session().post(os.environ["BENCH_API_URL"], data=data, timeout=TIMEOUT_S) as response:
        response.content  # noqa: B018 - read the reply, as a real client must
        return response.status_code


def enqueue(messages: list[dict[str, str]]) -> None:
    """Publish one bare task per message: the plain ``apply_async`` loop."""
    for fields in messages:
        bare_send.apply_async(kwargs=fields)
