"""The task ``supersms.send`` on queue ``sms.send``: one attempt at one message, then re-enqueue if needed."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from supersms.errors import InvalidMessage, StoreUnavailable, UnknownMessage
from supersms.protocol.message import validate_message, validate_message_id
from supersms.tasks.app import app, current_runtime, settings
from supersms.workers.celery_config import max_countdown_s
from supersms.workers.intake import message_id_for_task, queued_record, rejected_record, with_ref
from supersms.workers.masking import masked_repr
from supersms.workers.records import Status
from supersms.workers.runtime import Runtime

log = logging.getLogger(__name__)

TASK_NAME = "supersms.send"
BATCH_TASK_NAME = "supersms.send_batch"
STORE_RETRY_BASE_S = 2
STORE_RETRY_MAX_S = 20


@app.task(
    name=TASK_NAME,
    bind=True,
    ignore_result=True,
    Request="supersms.tasks.requests:MaskedRequest",
    # Redis unreachable mid-task: try the same task again later instead of dropping it (the claim keeps a
    # retry from sending twice); the delay stays far below the broker's visibility timeout.
    autoretry_for=(StoreUnavailable,),
    retry_backoff=STORE_RETRY_BASE_S,
    retry_backoff_max=STORE_RETRY_MAX_S,
    retry_jitter=True,
    max_retries=None,
)
def send(self: Any, **fields: Any) -> None:
    """Send one message. Producers pass the provider's field names; re-enqueued attempts carry only ``id``."""
    current = current_runtime()
    try:
        message_id = accept(current, fields, task_id=self.request.id)
        if message_id is None:
            return
        step = current.sender.attempt(message_id)
    except UnknownMessage:
        # No record has this id: not a re-enqueue of ours but a producer's message that carried an id alone.
        if set(fields) == {"id"}:
            record_from_producer(current, fields, task_id=self.request.id)
        else:
            log.error("task %s dropped: unknown message id %s", self.request.id, fields.get("id"))
        return
    except InvalidMessage as error:
        log.error("task %s dropped: %s", self.request.id, error)
        return
    if not step.done:
        enqueue_attempt(message_id, countdown_s=step.again_in_s)


@app.task(
    name=BATCH_TASK_NAME,
    bind=True,
    ignore_result=True,
    autoretry_for=(StoreUnavailable,),
    retry_backoff=STORE_RETRY_BASE_S,
    retry_backoff_max=STORE_RETRY_MAX_S,
    retry_jitter=True,
    max_retries=None,
)
def send_batch(self: Any, ids: list[str]) -> dict[str, int]:
    """Send recorded messages one after another in this task: a campaign's way to spare Celery's cost per task.

    Each message is still begun (checked, rate-limited, claimed), sent and recorded on its own, exactly as
    ``supersms.send`` does; one that must try again later gets a ``supersms.send`` task of its own, except
    when the global rate or the account pause holds it: then the rest of the batch waits with it, as a new
    batch after the same countdown. A batch stops after a time budget far below the broker's visibility
    timeout and re-enqueues what is left, so a slow provider cannot make the broker hand the batch to a second
    worker. Redis failing mid-batch retries
    the whole batch: the messages already sent are finished and their claims turn the repeats into no-ops.
    """
    current = current_runtime()
    ids = [validate_message_id(message_id) for message_id in ids]
    deadline_s = time.monotonic() + max_countdown_s(current.settings)
    counts: Counter[str] = Counter()
    for position, message_id in enumerate(ids):
        if time.monotonic() > deadline_s:
            enqueue_batch(ids[position:])
            counts["handed_on"] = len(ids) - position
            break
        try:
            step = current.sender.attempt(message_id)
        except (UnknownMessage, InvalidMessage) as error:
            log.error("task %s: message %s dropped: %s", self.request.id, message_id, error)
            counts["dropped"] += 1
            continue
        if step.held_back:  # the rate or the pause holds the rest of the batch as well: keep it together
            enqueue_batch(ids[position:], countdown_s=step.again_in_s)
            counts["held_back"] = len(ids) - position
            break
        counts["attempted"] += 1
        if not step.done:
            enqueue_attempt(message_id, countdown_s=step.again_in_s)
    return dict(counts)


def enqueue_batch(
    message_ids: Sequence[str], *, countdown_s: float | None = None, producer: Any = None
) -> None:
    """Publish ``supersms.send_batch`` for recorded messages (ids only, nothing to mask)."""
    send_batch.apply_async(kwargs={"ids": list(message_ids)}, countdown=countdown_s, producer=producer)


def enqueue_attempt(message_id: str, *, countdown_s: float | None = None, producer: Any = None) -> None:
    """Publish ``supersms.send`` for a recorded message; only its id travels, so nothing needs masking."""
    kwargs = {"id": message_id}
    send.apply_async(kwargs=kwargs, countdown=countdown_s, kwargsrepr=masked_repr(kwargs), producer=producer)


def accept(current: Runtime, fields: Mapping[str, Any], *, task_id: str) -> str | None:
    """The id of the recorded message this task is about, recording it first when a producer sent fields.

    A message that arrives invalid is recorded ``rejected`` with the rule it broke and never sent.
    """
    if set(fields) == {"id"}:
        return validate_message_id(fields["id"])
    return record_from_producer(current, fields, task_id=task_id)


def record_from_producer(current: Runtime, fields: Mapping[str, Any], *, task_id: str) -> str | None:
    """Record a message a producer published as a task: ``queued`` (its id returned), or ``rejected`` with the
    rule it broke (None)."""
    now = datetime.now(UTC)
    message_id = message_id_for_task(task_id)
    try:
        if fields.get("id") is not None:
            message_id = validate_message_id(fields["id"])
        message = with_ref(validate_message(fields, **_defaults()), message_id)
    except InvalidMessage as error:
        if current.store.create_many([rejected_record(message_id, fields, error, now=now)])[0]:
            log.warning("message %s rejected at intake: %s", message_id, error)
            current.metrics.transition(Status.REJECTED)
        else:
            log.warning(
                "message %s is recorded already; this invalid publish of it changes nothing", message_id
            )
        current.outcomes.settled(message_id)
        return None
    record = queued_record(message_id, message, default_ttl_s=current.settings.default_ttl_s, now=now)
    if current.store.create_many([record])[0]:
        current.metrics.transition(Status.QUEUED)
    return message_id


def _defaults() -> dict[str, Any]:
    current = settings()
    return {"default_sender": current.default_sender, "default_country": current.default_country}
