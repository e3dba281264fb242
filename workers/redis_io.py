"""The Redis connection and the translation of its errors, shared by everything that talks to Redis."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import redis

from supersms.errors import StoreUnavailable

SOCKET_TIMEOUT_S = 5.0
REDIS_BROKER_SCHEMES = frozenset({"redis", "rediss", "unix"})


def connect(url: str, *, max_connections: int = 64, timeout_s: float = SOCKET_TIMEOUT_S) -> redis.Redis:
    """A client with a bounded, thread-safe connection pool; connects lazily, on first command. A command
    (and a connect) that waits longer than ``timeout_s`` fails as :class:`redis.TimeoutError`.

    Over TCP (``redis://``) its sockets are :class:`KernelTimeoutConnection`; TLS and Unix sockets keep
    redis-py's own connections.
    """
    plain_tcp = url_scheme(url) == "redis"  # redis-py's own class otherwise: TLS, or a Unix socket
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        max_connections=max_connections,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=30,
        **({"connection_class": KernelTimeoutConnection} if plain_tcp else {}),
    )


class KernelTimeoutConnection(redis.Connection):
    """A TCP connection to Redis whose socket blocks, its read and write timeouts kept by the kernel
    (``SO_RCVTIMEO``, ``SO_SNDTIMEO``) instead of by Python.

    Python makes a socket with a timeout wait in ``poll()`` before every send and every receive, and every
    wait hands the interpreter lock to another thread and back: a round trip costs four such hand-offs
    instead of two. On a threaded server that answers each request after one Redis round trip (the
    receiver), and on a worker making two per message, that is a measurable part of the CPU. A read that
    the kernel times out raises :class:`redis.TimeoutError`, as Python's timeout would.
    """

    def __init__(self, *, socket_timeout: float | None = None, **kwargs: Any) -> None:
        self._kernel_timeout_s = socket_timeout
        super().__init__(socket_timeout=None, **kwargs)  # type: ignore[no-untyped-call]

    def _connect(self) -> socket.socket:
        sock: socket.socket = super()._connect()  # type: ignore[no-untyped-call]
        if self._kernel_timeout_s:
            seconds = int(self._kernel_timeout_s)
            timeval = struct.pack("ll", seconds, int((self._kernel_timeout_s - seconds) * 1_000_000))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        return sock

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().read_response(*args, **kwargs)
        except redis.ConnectionError as error:
            if isinstance(error.__context__, BlockingIOError):  # the kernel's timeout, not a broken link
                raise redis.TimeoutError("Timeout reading from socket") from None
            raise


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
    return url_scheme(url) in REDIS_BROKER_SCHEMES


def url_scheme(url: str) -> str:
    """The scheme of ``url``, or of the first of several (kombu's failover lists separate them with ``;``)."""
    return urlsplit(url.split(";", 1)[0]).scheme
