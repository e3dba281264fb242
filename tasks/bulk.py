"""Publishing the ``supersms.send`` tasks of many recorded messages at once.

``apply_async`` costs hundreds of microseconds a task: routing, building the message and its ``task-sent``
event, one trip through kombu each. The tasks of a campaign differ only in their ids, so on a Redis broker
they are rendered from a template and pushed in batches: one LPUSH per batch, their task-sent events in the
same round trip. The template is what ``apply_async`` builds for a placeholder message with the options of
:func:`~supersms.tasks.send.enqueue_attempt`, caught before it is sent (:mod:`supersms.tasks.template`):
a bulk task is the message ``enqueue_attempt`` publishes, with ids of its own (the tests compare both, and
have real workers consume them).

Any other broker (RabbitMQ), or a route the template does not cover (a priority, compression, a named
exchange, an expiring queue), gets one ``enqueue_attempt`` per message over the one producer connection.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from supersms.tasks.app import app
from supersms.tasks.send import enqueue_attempt, enqueue_batch
from supersms.tasks.template import EventPlan, Plan, bulk_plan
from supersms.tasks.wire import encode_body

PUSH_BATCH = 1000
"""Tasks per LPUSH, and per round trip with their events."""
PUBLISH_BATCH = 1000
"""Broker commands kombu sends per round trip one by one (each task is its message and its event)."""
BULK_MINIMUM = 2
"""A single task is published by ``enqueue_attempt`` itself: catching the template costs about as much."""

_PLAIN_ID = re.compile(r"[A-Za-z0-9]+", re.ASCII)


def publish_attempts(message_ids: Sequence[str], *, producer: Any) -> None:
    """Publish a ``supersms.send`` task for each recorded message, in order, as ``enqueue_attempt`` would."""
    Publisher(producer, expected=len(message_ids)).publish(message_ids)


class Publisher:
    """Publishes the tasks of recorded messages over one producer: in bulk on a Redis broker, else one by one.

    Made once for a whole publication (the template is caught once), used for each batch of it.
    """

    def __init__(self, producer: Any, *, expected: int, batch_size: int = 1) -> None:
        self._producer = producer
        self._batch_size = batch_size
        self._plan = bulk_plan(producer) if expected >= BULK_MINIMUM and batch_size == 1 else None

    def publish(self, message_ids: Sequence[str]) -> None:
        """Publish the tasks of these messages, in order: one each, or ``supersms.send_batch`` tasks."""
        if not message_ids:
            return
        if self._batch_size > 1:
            for start in range(0, len(message_ids), self._batch_size):
                enqueue_batch(message_ids[start : start + self._batch_size], producer=self._producer)
        elif self._plan is None:
            _publish_one_by_one(message_ids, producer=self._producer)
        else:
            _push(self._plan, *_render(self._plan, message_ids))


def _publish_one_by_one(message_ids: Sequence[str], *, producer: Any) -> None:
    """One ``enqueue_attempt`` per message over this producer's connection, in kombu's batches if any."""
    with producer.batch(max_size=PUBLISH_BATCH):
        for message_id in message_ids:
            enqueue_attempt(message_id, producer=producer)


def _push(plan: Plan, tasks: Sequence[str], events: Sequence[str]) -> None:
    """LPUSH the tasks a batch at a time, each batch in one round trip with its events."""
    with plan.channel.conn_or_acquire() as client, client.pipeline(transaction=False) as pipe:
        publish_each = client.register_script(_publish_each_source())
        for start in range(0, len(tasks), PUSH_BATCH):
            pipe.lpush(plan.queue_key, *tasks[start : start + PUSH_BATCH])
            batch_events = events[start : start + PUSH_BATCH]
            for topic in plan.event.topics if plan.event and batch_events else ():
                publish_each(args=[topic, *batch_events], client=pipe)
            pipe.execute()


def _render(plan: Plan, message_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """The stored tasks of these messages, in order, and their task-sent events (if Celery sends any)."""
    tasks: list[str] = []
    events: list[str] = []
    task_ids, delivery_tags = uuid4_strings(len(message_ids)), uuid4_strings(len(message_ids))
    for message_id, task_id, delivery_tag in zip(message_ids, task_ids, delivery_tags, strict=True):
        if not _PLAIN_ID.fullmatch(message_id):
            raise ValueError(f"message id {message_id!r} is not letters and digits")
        body = encode_body(plan.body.fill(message_id=message_id))
        tasks.append(
            plan.message.fill(task_id=task_id, message_id=message_id, body=body, delivery_tag=delivery_tag)
        )
    if plan.event is not None:
        event_tags = uuid4_strings(len(message_ids))
        for message_id, task_id, delivery_tag in zip(message_ids, task_ids, event_tags, strict=True):
            events.append(_render_event(plan.event, task_id, message_id, delivery_tag))
    return tasks, events


def _render_event(plan: EventPlan, task_id: str, message_id: str, delivery_tag: str) -> str:
    body = plan.body.fill(
        task_id=task_id, message_id=message_id, clock=str(app.clock.forward()), timestamp=repr(time.time())
    )
    return plan.message.fill(body=encode_body(body), delivery_tag=delivery_tag)


@cache
def _publish_each_source() -> str:
    return (Path(__file__).parent / "publish_each.lua").read_text(encoding="utf-8")


def uuid4_strings(count: int) -> list[str]:
    """``count`` random UUIDs (version 4) as kombu's ``uuid()`` writes them, made at once: 3× faster."""
    raw = bytearray(os.urandom(16 * count))
    for offset in range(0, len(raw), 16):
        raw[offset + 6] = raw[offset + 6] & 0x0F | 0x40  # version 4
        raw[offset + 8] = raw[offset + 8] & 0x3F | 0x80  # RFC 4122 variant
    hex_digits = raw.hex()
    return [
        f"{hex_digits[at : at + 8]}-{hex_digits[at + 8 : at + 12]}-{hex_digits[at + 12 : at + 16]}-"
        f"{hex_digits[at + 16 : at + 20]}-{hex_digits[at + 20 : at + 32]}"
        for at in range(0, len(hex_digits), 32)
    ]
