"""Fixtures for worker machinery driven in this process: a sender's runtime against the in-process sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


RuntimeFor = Callable[..., Runtime]


@pytest.fixture
def runtime_for(redis_url: str, callbacks: list[dict[str, Any]]) -> Iterator[RuntimeFor]:
    """Builds a worker process's runtime against the provider at a given URL, with no rate limit (and any
    other settings given by name)."""
    built: list[Runtime] = []

    def build(api_url: str, **overrides: Any) -> Runtime:
        settings = Settings(
            redis_url=redis_url,
            broker_url=redis_url,
            api_url=api_url,
            default_sender=SENDER,
            rate_limit_per_s=0.0,
            account_id="infobank_test",
            password="pwinfobank",
            **overrides,
        )
        built.append(
            build_runtime(settings, run_callback=lambda _signature, record: callbacks.append(record))
        )
        return built[-1]

    yield build
    for runtime in built:
        runtime.redis.close()


@pytest.fixture
def worker_runtime(runtime_for: RuntimeFor, sandbox: Sandbox) -> Runtime:
    """A worker process's runtime against the sandbox, with no rate limit."""
    return runtime_for(sandbox.url)
