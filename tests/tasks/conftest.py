"""Fixtures for end-to-end sending: the sandbox provider in-process, real worker subprocesses, a producer."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from drills.rabbitmq import rabbitmq_answers
from supersms.sandbox.service import Sandbox
from supersms.workers.celery_config import REPORTS_QUEUE, SEND_QUEUE
from supersms.workers.records import MessageStore
from supersms.workers.redis_io import connect
from tests.support.processes import Process, start_worker

ACCOUNT = {"SUPERSMS_ID": "infobank_test", "SUPERSMS_PASSWORD": "pwinfobank"}
TEST_BROKER_URL = os.environ.get("SUPERSMS_TEST_BROKER_URL", "")
"""The broker of the producer and the workers (``make test-rabbitmq`` sets it); the private Redis when unset."""
BROKER = {"SUPERSMS_BROKER_URL": TEST_BROKER_URL} if TEST_BROKER_URL else {}
redis_broker_only = pytest.mark.skipif(
    bool(TEST_BROKER_URL),
    reason="a path of the Redis broker only (bulk publishing, priority lists); the broker is another server",
)


@pytest.fixture(scope="session", autouse=True)
def producer_environment(redis_server) -> Iterator[None]:
    """The test process is a producer of the private Redis (set before the app reads its settings)."""
    from supersms.tasks.app import settings

    saved = dict(os.environ)
    os.environ.update(
        {"SUPERSMS_REDIS_URL": redis_server.url, "SUPERSMS_FROM": "01029652189", **ACCOUNT, **BROKER}
    )
    settings.cache_clear()
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def worker_env(redis_url: str, sandbox: Sandbox) -> dict[str, str]:
    """Settings for worker processes: fast backoff and short timeouts so failures show within seconds."""
    return {
        **ACCOUNT,
        "SUPERSMS_REDIS_URL": redis_url,
        "SUPERSMS_API_URL": sandbox.url,
        "SUPERSMS_FROM": "01029652189",
        "SUPERSMS_RATE_LIMIT": "0",
        "SUPERSMS_BACKOFF_BASE": "0.2",
        "SUPERSMS_BACKOFF_MAX": "2",
        "SUPERSMS_CONNECT_TIMEOUT": "0.5",
        "SUPERSMS_READ_TIMEOUT": "2",
        "SUPERSMS_STALE_CLAIM": "4",
        "SUPERSMS_VISIBILITY_TIMEOUT": "20",
        "SUPERSMS_PAUSE": "30",
        **BROKER,
    }


@pytest.fixture(autouse=True)
def empty_broker() -> None:
    """Another broker than the private Redis keeps what earlier tests left in its queues: purge them."""
    if not TEST_BROKER_URL:
        return  # the Redis broker is flushed with the store before each test
    if not rabbitmq_answers(TEST_BROKER_URL):
        pytest.skip(f"nothing answers at the broker {urlsplit(TEST_BROKER_URL).netloc.rpartition('@')[2]}")
    from supersms.tasks.app import app

    with app.connection_for_write() as connection:
        for queue in (SEND_QUEUE, REPORTS_QUEUE):
            with contextlib.suppress(*connection.channel_errors):  # not declared yet: nothing in it
                connection.channel().queue_purge(queue)


@pytest.fixture
def workers(worker_env: dict[str, str], tmp_path: Path) -> Iterator[list[Process]]:
    """Started workers (append with ``start``); all are stopped by their pid at the end of the test."""
    started: list[Process] = []
    yield started
    for process in started:
        process.request_stop()
    for process in started:
        process.stop()


@pytest.fixture
def start(workers: list[Process], worker_env: dict[str, str], tmp_path: Path):
    def start_one(
        name: str = "w1",
        *,
        concurrency: int = 8,
        queues: str | None = None,
        options: Sequence[str] = (),
        **env: str,
    ) -> Process:
        process = start_worker(
            name,
            env={**worker_env, **env},
            tmp_path=tmp_path,
            concurrency=concurrency,
            queues=queues,
            options=options,
        )
        workers.append(process)
        return process

    return start_one


@pytest.fixture
def store(redis_url: str) -> MessageStore:
    return MessageStore(redis_client=connect(redis_url), record_ttl_s=3600)
