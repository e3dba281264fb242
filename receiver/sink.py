"""Where a valid report goes so that it is durable before we say 200: Redis, or else the local spool.

After Redis fails, reports go straight to the spool for ``redis_retry_s`` (a Redis that hangs would otherwise
cost every report a connect timeout), then Redis is tried again. When it answers again, ``on_redis_back`` runs
(the replayer is nudged to move the spool over).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum

from supersms.errors import StoreUnavailable
from supersms.receiver.delivery import Delivery
from supersms.receiver.spool import SpoolWriter
from supersms.receiver.store import ReportStore

logger = logging.getLogger(__name__)

REDIS_RETRY_S = 2.0


class Destination(StrEnum):
    """Where a report was made durable."""

    REDIS = "redis"
    SPOOL = "spool"


class DurableSink:
    """Redis first, the spool while Redis is away; :class:`StoreUnavailable` only when neither takes it."""

    def __init__(
        self,
        *,
        store: ReportStore,
        spool: SpoolWriter,
        redis_retry_s: float = REDIS_RETRY_S,
        on_redis_back: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.spool = spool
        self._redis_retry_s = redis_retry_s
        self._on_redis_back = on_redis_back
        self._clock = clock
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def put(self, delivery: Delivery, dedup_key: str) -> Destination:
        """Make the report durable and say where; a repeated report is accepted and stored once."""
        if self._redis_worth_trying():
            try:
                self.store.append(delivery, dedup_key)
            except StoreUnavailable as error:
                self._redis_failed(error)
            else:
                self._redis_answered()
                return Destination.REDIS
        try:
            self.spool.append(delivery)
        except OSError as error:
            raise StoreUnavailable(
                f"neither Redis nor the spool in {self.spool.directory} took a report"
            ) from error
        return Destination.SPOOL

    def keep_malformed(self, delivery: Delivery, rule: str) -> None:
        """Keep a refused report for inspection when Redis answers; never fails the request."""
        if not self._redis_worth_trying():
            logger.warning("malformed report from %s (%s) not kept: Redis is away", delivery.source, rule)
            return
        try:
            self.store.keep_malformed(delivery, rule)
        except StoreUnavailable as error:
            self._redis_failed(error)
            logger.warning("malformed report from %s (%s) not kept: %s", delivery.source, rule, error)

    def can_store(self) -> bool:
        """True while a report could be made durable now: Redis answers, or the spool is writable."""
        if self._redis_worth_trying():
            try:
                self.store.ping()
            except StoreUnavailable as error:
                self._redis_failed(error)
            else:
                self._redis_answered()
                return True
        return self.spool.writable()

    def _redis_worth_trying(self) -> bool:
        failed_at = self._failed_at
        return failed_at is None or self._clock() - failed_at >= self._redis_retry_s

    def _redis_failed(self, error: StoreUnavailable) -> None:
        with self._lock:
            first = self._failed_at is None
            self._failed_at = self._clock()
        if first:
            logger.warning("%s; reports go to the spool in %s until it answers", error, self.spool.directory)

    def _redis_answered(self) -> None:
        if self._failed_at is None:  # the usual case, on every report: no lock to take
            return
        with self._lock:
            was_away, self._failed_at = self._failed_at is not None, None
        if was_away:
            logger.warning("Redis answers again; replaying the spool")
            self._on_redis_back()
