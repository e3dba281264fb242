"""Fixtures for worker machinery driven in this process: a sender's runtime against the in-process sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from supersms.sandbox.service import Sandbox
from supersms.settings import Settings
from supersms.workers.runtime import Runtime, build_runtime
from tests.support.worker_runtime import SENDER


@pytest.fixture
def callbacks() -> list[dict[str, Any]]:
    """The records the worker runtime's ``on_final`` callbacks were called with, in order."""
    return []


@pytest.fixture
def worker_runtime(redis_url: str, sandbox: Sandbox, callbacks: list[dict[str, Any]]) -> Iterator[Runtime]:
    """A worker process's runtime against the sandbox, with no rate limit."""
    settings = Settings(
        redis_url=redis_url,
        broker_url=redis_url,
        api_url=sandbox.url,
        default_sender=SENDER,
        rate_limit_per_s=0.0,
        account_id="infobank_test",
        password="pwinfobank",
    )
    runtime = build_runtime(settings, run_callback=lambda _signature, record: callbacks.append(record))
    yield runtime
    runtime.redis.close()
