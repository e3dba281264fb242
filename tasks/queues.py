"""The broker's queues as kombu reports them, whichever the broker: the same calls for Redis and RabbitMQ."""

from __future__ import annotations

import contextlib

from celery import Celery

from supersms.workers.celery_config import SEND_QUEUE


def waiting_tasks(celery_app: Celery, queue: str = SEND_QUEUE) -> int:
    """How many tasks wait in ``queue`` of the app's broker, as a passive declare of the queue reports it: on
    Redis the length of the queue's lists (every priority), on RabbitMQ its ready messages. Tasks that workers
    hold unacknowledged are not counted; a queue never declared holds none."""
    with celery_app.connection_for_read() as connection:
        channel = connection.channel()
        try:
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
        except connection.channel_errors:  # no such queue (on Redis: an empty one)
            return 0
        finally:
            with contextlib.suppress(*connection.channel_errors, *connection.connection_errors):
                channel.close()
