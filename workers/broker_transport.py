"""kombu's Redis transport, with one synchronous Redis client per channel instead of one per operation.

kombu builds a new ``redis.Redis`` for every acknowledgement, every unacked-index update and every event
publish (``Channel.conn_or_acquire``). With redis-py 8 building one costs about as much as a round trip to
Redis (its response-callback table is copied each time), and a worker does it several times per task. The
client only wraps the channel's connection pool and is thread-safe, so one per pool does the same work:
commands still check a connection out of the pool, and a pipeline is still a new object per use. When
kombu replaces the pool (after a connection error), the client is built again for the new pool.

It also mends one path of kombu's on which a worker exits instead of reconnecting when Redis goes away
(see :meth:`Channel._connparams`).

Used for ``redis://`` and ``rediss://`` brokers (:func:`supersms.workers.celery_config.celery_config`);
other brokers, and failover URLs kombu switches to, use their own transports unchanged.
"""

from __future__ import annotations

import threading
from typing import Any

import redis
from kombu.transport import redis as kombu_redis

TRANSPORT = "supersms.workers.broker_transport:Transport"


class Channel(kombu_redis.Channel):
    """A Redis channel that keeps its synchronous client for as long as its pool lives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._sync_client: Any = None
        self._sync_client_lock = threading.Lock()
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[no-untyped-call]
        pool = self.pool
        client = self._sync_client
        if client is not None and client.connection_pool is pool:
            return client
        with self._sync_client_lock:
            if self._sync_client is None or self._sync_client.connection_pool is not pool:
                self._sync_client = super()._create_client()  # type: ignore[no-untyped-call]
            return self._sync_client

    def _connparams(self, asynchronous: bool = False) -> Any:
        """kombu's pool parameters; a connection error once kombu has let go of the connection.

        After a connection error, Celery's consumer collects the connection (kombu then sets the transport's
        ``client`` to None) and closes it again. A channel that was waiting on ``BRPOP`` when Redis went away
        is only closed then, and closing it restores its unacknowledged messages through a new pool built
        from ``client``: kombu raises ``AttributeError``, which Celery takes as unrecoverable, and the worker
        exits. Raised as a connection error instead, it is ignored like any other during that close, the
        worker reconnects, and the messages stay in the unacked set, restored after the visibility timeout.
        """
        if self.connection.client is None:
            raise redis.ConnectionError("the broker connection was closed")
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[no-untyped-call]


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with :class:`Channel`."""

    Channel = Channel
