"""A background thread in each worker for what no task triggers by itself.

Every worker runs one; a short Redis lock lets one of them sweep per interval. Each sweep:
- ends claims older than ``SUPERSMS_STALE_CLAIM`` (longer than any provider call can last): their worker died
  while its request may have reached the provider, so the message ends ``failed`` with ``outcome_unknown``;
- triggers a correlation run, which retries parked reports and reclaims entries a dead consumer left pending;
- when the send queue is empty, re-enqueues messages overdue by more than the broker's redelivery time
  (``SUPERSMS_VISIBILITY_TIMEOUT`` plus a margin) with no claim: their task was lost (a worker killed between
  taking a task and recording it as unacknowledged, or a task rejected while the broker was away). A duplicate
  task is harmless: the claim lets one attempt through.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from supersms.errors import StoreUnavailable
from supersms.workers import keys
from supersms.workers.background import BackgroundThread
from supersms.workers.records import Status
from supersms.workers.redis_io import translate_errors
from supersms.workers.runtime import Runtime

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 5.0
LOST_TASK_MARGIN_S = 30.0
LOST_TASK_BATCH = 500


class Sweeper(BackgroundThread):
    """Runs :meth:`sweep_once` every ``interval_s`` on a daemon thread until :meth:`stop`."""

    def __init__(
        self,
        *,
        runtime: Runtime,
        trigger_correlation: Callable[[], object],
        send_queue_empty: Callable[[], bool],
        republish: Callable[[list[str]], object],
        interval_s: float = SWEEP_INTERVAL_S,
    ) -> None:
        super().__init__("supersms-sweeper", longest_wait_s=interval_s)
        self._runtime = runtime
        self._trigger_correlation = trigger_correlation
        self._send_queue_empty = send_queue_empty
        self._republish = republish
        self._interval_s = interval_s

    def sweep_once(self) -> list[str]:
        """Expire stale claims and wake correlation, unless another worker swept just now; returns the ids ended."""
        lock_ms = int(self._interval_s * 1000 * 0.8)
        with translate_errors("take the sweep lock"):
            if not self._runtime.redis.set(keys.SWEEP_LOCK, os.getpid(), nx=True, px=lock_ms):
                return []
        ended = self._runtime.store.expire_stale_claims(older_than_s=self._runtime.settings.stale_claim_s)
        for message_id in ended:
            log.warning(
                "message %s: its worker vanished mid-attempt; ended failed (outcome_unknown)", message_id
            )
            self._runtime.outcomes.settled(message_id)
        if ended:
            self._runtime.metrics.transition(Status.FAILED, len(ended))
        self._trigger_correlation()
        self._recover_lost_tasks()
        return ended

    def _recover_lost_tasks(self) -> None:
        if not self._send_queue_empty():
            return  # a backlog is legitimately overdue: look again once it has drained
        grace_s = self._runtime.settings.visibility_timeout_s + LOST_TASK_MARGIN_S
        lost = self._runtime.store.overdue(older_than_s=grace_s, limit=LOST_TASK_BATCH)
        if lost:
            log.warning("re-enqueuing %d message(s) whose task was lost, e.g. %s", len(lost), lost[0])
            self._republish(lost)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                self.sweep_once()
            except StoreUnavailable as error:
                log.warning("sweep skipped: %s", error)
            except Exception:  # the broker or anything else failed: this thread must outlive any outage
                log.exception("sweep failed; trying again in %.0f s", self._interval_s)
