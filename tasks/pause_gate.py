"""While the account pause holds, a worker stops taking tasks from ``sms.send``; it resumes when it ends.

Without the gate every queued task would be pulled, found paused and re-published with a countdown: a
churn as large as the backlog. With it, queued messages simply stay in the broker (status ``queued``) and
only the few already reserved wait as ``retrying``. The check runs four times a second on the consumer's own timer.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import bootsteps

from supersms.errors import StoreUnavailable
from supersms.tasks.app import app, current_runtime
from supersms.workers.celery_config import SEND_QUEUE

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 0.25


class PauseGate(bootsteps.StartStopStep):  # type: ignore[misc]
    """Cancels the ``sms.send`` consumer while paused; adds it back only if this gate removed it."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, consumer: Any, **kwargs: Any) -> None:
        super().__init__(consumer, **kwargs)
        self._timer_ref: Any = None
        self._gated = False

    def start(self, consumer: Any) -> None:
        self._timer_ref = consumer.timer.call_repeatedly(
            CHECK_INTERVAL_S, self.check, (consumer,), priority=10
        )

    def stop(self, consumer: Any) -> None:
        if self._timer_ref is not None:
            self._timer_ref.cancel()

    def check(self, consumer: Any) -> None:
        try:
            paused = current_runtime().pause.current()
        except StoreUnavailable as error:
            log.warning("pause gate: %s", error)
            return
        if paused is not None and consumer.task_consumer.consuming_from(SEND_QUEUE):
            log.error(
                "account paused (%s): not taking messages from %s until it ends", paused.code, SEND_QUEUE
            )
            consumer.cancel_task_queue(SEND_QUEUE)
            self._gated = True
        elif paused is None and self._gated:
            log.warning("account pause ended: taking messages from %s again", SEND_QUEUE)
            consumer.add_task_queue(SEND_QUEUE)
            self._gated = False


app.steps["consumer"].add(PauseGate)
