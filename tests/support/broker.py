"""The tasks waiting in a queue of the test process's broker, read through kombu: the same calls for a Redis
broker and for RabbitMQ (:func:`~supersms.tasks.queues.waiting_tasks` counts them)."""

from __future__ import annotations

import contextlib
from typing import Any

from celery import Celery
from kombu import Message, Queue

from supersms.workers.celery_config import SEND_QUEUE


def take_all(app: Celery, queue: str = SEND_QUEUE) -> list[Message]:
    """Every task waiting in ``queue``, oldest first, taken off it (none when it does not exist)."""
    taken: list[Message] = []
    with app.connection_for_read() as connection:
        bound = Queue(queue, routing_key=queue, channel=connection.channel())
        with contextlib.suppress(*connection.channel_errors):  # never declared: nothing in it
            while (message := bound.get(no_ack=True)) is not None:
                taken.append(message)
    return taken


def call_of(message: Message) -> tuple[list[Any], dict[str, Any]]:
    """A task message's positional and keyword arguments."""
    args, kwargs, _embed = message.decode()
    return args, kwargs
