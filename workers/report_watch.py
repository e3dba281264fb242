"""Wakes correlation as soon as a report lands in the stream, without the receiver knowing about Celery.

Each worker runs one watcher thread that blocks on ``XREAD`` past the last entry it saw; a new entry makes it
call ``trigger`` (which enqueues ``supersms.correlate`` unless one is pending). The watcher only wakes
correlation: the consumer group, not this thread, decides which worker applies which report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis

from supersms.workers import keys
from supersms.workers.background import BackgroundThread

log = logging.getLogger(__name__)

BLOCK_MS = 1000
RETRY_AFTER_ERROR_S = 1.0


class ReportWatcher(BackgroundThread):
    """Calls ``trigger()`` whenever the report stream grows; runs on a daemon thread until :meth:`stop`."""

    def __init__(self, *, redis_client: redis.Redis, trigger: Callable[[], object]) -> None:
        super().__init__("supersms-report-watch", longest_wait_s=max(BLOCK_MS / 1000, RETRY_AFTER_ERROR_S))
        self._redis = redis_client
        self._trigger = trigger

    def _run(self) -> None:
        last_id = "$"
        while not self._stopped.is_set():
            try:
                reply: Any = self._redis.xread({keys.REPORTS: last_id}, count=1, block=BLOCK_MS)
                if reply:
                    last_id = reply[0][1][-1][0]
                    self._trigger()
            except redis.RedisError as error:
                log.warning("report watch: %s", error)
                self._stopped.wait(RETRY_AFTER_ERROR_S)
            except Exception:  # the broker refused the trigger: keep watching, the sweep catches up
                log.exception("report watch: could not trigger correlation")
                self._stopped.wait(RETRY_AFTER_ERROR_S)
