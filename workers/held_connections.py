"""Redis connections kept at hand for the hottest commands, so that one costs its round trip and little more.

The receiver stores each report with one script on them, and a worker begins and settles each attempt so.

Through the client, every command checks a connection out of the pool under a lock and probes it for unread
data (a non-blocking ``recv`` that gives up the GIL, with two ``settimeout`` calls), then passes through
retry and metrics wrappers and checks the connection back in: more CPU than the round trip itself.
:class:`HeldConnections` takes connections from the client's pool once
(so with its timeouts, health checks and retry policy, and closed when the client is closed) and keeps the
idle ones on a stack of its own. A connection goes back on the stack after a complete reply only; any other
failure disconnects it first (it connects again on its next command), so it never holds unread data. One
that Redis closed while it sat idle is found out by its next command, which then goes once more.
"""

from __future__ import annotations

import os
from typing import Any

import redis
from redis.connection import AbstractConnection
from redis.typing import EncodableT


class HeldConnections:
    """Runs one command at a time on each of a few connections taken from ``pool``; thread-safe."""

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self._pool = pool
        self._idle: list[AbstractConnection] = []  # append and pop are atomic: no lock needed
        self._pid = os.getpid()

    def execute(self, *args: EncodableT) -> Any:
        """Send one command and return its reply; raises redis-py's errors, as the client would.

        ``args`` must be a command that may run twice (see :func:`_once_more_if_closed`).
        """
        connection, was_idle = self._take()
        try:
            return _once_more_if_closed(connection, args) if was_idle else _round_trip(connection, args)
        except redis.ResponseError:
            raise  # Redis answered in full (with an error): the connection is in step
        except BaseException:
            _drop(connection)
            raise
        finally:
            self._idle.append(connection)

    def _take(self) -> tuple[AbstractConnection, bool]:
        """A connection, and whether it was held idle (rather than just made and checked by the pool)."""
        if self._pid != os.getpid():  # forked: the sockets are the parent's, never to be written here
            self._idle, self._pid = [], os.getpid()
        try:
            return self._idle.pop(), True
        except IndexError:
            return self._pool.get_connection(), False


def _round_trip(connection: AbstractConnection, args: tuple[EncodableT, ...]) -> Any:
    """The command and its reply, retried as the connection's own policy says (connects when it must)."""

    def send_and_read() -> Any:
        connection.send_command(*args)  # type: ignore[no-untyped-call]
        return connection.read_response()

    return connection.retry.call_with_retry(send_and_read, lambda _error: _drop(connection))


def _once_more_if_closed(connection: AbstractConnection, args: tuple[EncodableT, ...]) -> Any:
    """The round trip on a connection held idle, which Redis may have closed meanwhile (an idle timeout, a
    restart): that fails at once with a connection error, and the command goes once more on a new socket,
    as the pool's check at checkout would have sent it on one."""
    try:
        return _round_trip(connection, args)
    except redis.ConnectionError:
        _drop(connection)
        return _round_trip(connection, args)


def _drop(connection: AbstractConnection) -> None:
    """Close the socket, which may hold part of a reply; the connection connects again on its next command."""
    connection.disconnect()  # type: ignore[no-untyped-call]
