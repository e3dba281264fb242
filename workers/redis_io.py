"""The Redis connection and the translation of its errors, shared by everything that talks to Redis."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import redis

from supersms.errors import StoreUnavailable

SOCKET_TIMEOUT_S = 5.0
REDIS_BROKER_SCHEMES = frozenset({"redis", "rediss", "unix"})


def connect(url: str, *, max_connections: int = 64) -> redis.Redis:
    """A client with a bounded, thread-safe connection pool; connects lazily, on first command."""
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        max_connections=max_connections,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=SOCKET_TIMEOUT_S,
        health_check_interval=30,
    )


@contextmanager
def translate_errors(doing: str) -> Iterator[None]:
    """Turn a redis-py error into :class:`StoreUnavailable` that says what was being done."""
    try:
        yield
    except redis.RedisError as error:
        raise StoreUnavailable(f"Redis failed to {doing}: {error}") from error


def as_text(value: object) -> str:
    """A Redis reply part as text (a client without ``decode_responses`` gives bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def is_redis_url(url: str) -> bool:
    """True for a broker URL that redis-py can open (the first of several, as kombu takes failover lists)."""
    return urlsplit(url.split(";", 1)[0]).scheme in REDIS_BROKER_SCHEMES
