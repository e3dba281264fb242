"""A producer of the drill's own stack: records messages in its Redis and publishes their tasks to its broker.

It is built per drill (not the process-wide app of :mod:`supersms.tasks`), so that each drill talks to its own
Redis and, in the RabbitMQ drill, to RabbitMQ.
"""

from __future__ import annotations

from datetime import UTC, datetime

from celery import Celery

from drills.stack import SENDER, Stack
from supersms.protocol.message import validate_message
from supersms.settings import Settings
from supersms.workers.celery_config import SEND_QUEUE, celery_config
from supersms.workers.intake import new_message_id, queued_record, with_ref
from supersms.workers.records import MessageStore
from supersms.workers.redis_io import connect

SEND_TASK = "supersms.send"
TTL_S = 3600


class Producer:
    """Enqueues messages as ``send_many`` does: every record first, then one task per message (its id only)."""

    def __init__(self, *, redis_url: str, broker_url: str, sender: str) -> None:
        self._settings = Settings.from_env(
            {"SUPERSMS_REDIS_URL": redis_url, "SUPERSMS_BROKER_URL": broker_url, "SUPERSMS_FROM": sender}
        )
        self.app = Celery("supersms-drills", set_as_current=False)
        self.app.conf.update(celery_config(self._settings))
        self._client = connect(redis_url)
        self._store = MessageStore(redis_client=self._client, record_ttl_s=TTL_S)
        self.task_ids: dict[str, str] = {}
        """message id → id of the task published for it (to trace it through the workers' logs)."""

    def enqueue(self, count: int, *, label: str) -> list[str]:
        """Record and enqueue ``count`` Korean SMS; return their ids (which are also their ``ref``)."""
        now = datetime.now(UTC)
        records = []
        for n in range(count):
            message_id = new_message_id()
            fields = {"to": f"0109344{n % 10_000:04d}", "message": f"[drill] {label} {n}"}
            message = validate_message(fields, default_sender=self._settings.default_sender)
            records.append(
                queued_record(message_id, with_ref(message, message_id), default_ttl_s=TTL_S, now=now)
            )
        self._store.create_many(records)
        ids = [str(record["id"]) for record in records]
        with self.app.producer_or_acquire() as producer:
            for message_id in ids:
                task = self.app.send_task(
                    SEND_TASK, kwargs={"id": message_id}, queue=SEND_QUEUE, producer=producer
                )
                self.task_ids[message_id] = task.id
        return ids

    def close(self) -> None:
        self.app.close()
        self._client.close()


def enqueue(stack: Stack, count: int, *, label: str, broker_url: str | None = None) -> list[str]:
    """Enqueue ``count`` messages into ``stack`` (its Redis as the broker unless ``broker_url``)."""
    producer = Producer(redis_url=stack.redis_url, broker_url=broker_url or stack.redis_url, sender=SENDER)
    try:
        ids = producer.enqueue(count, label=label)
        stack.task_ids.update(producer.task_ids)
    finally:
        producer.close()
    stack.timeline.say(f"enqueued {count} messages")
    return ids
