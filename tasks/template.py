"""The template of a publication's ``supersms.send`` tasks: what ``apply_async`` would publish, caught.

:func:`bulk_plan` runs ``apply_async`` once for a placeholder message, with the options of
:func:`~supersms.tasks.send.enqueue_attempt` and a stand-in for kombu's Producer: Celery routes the task and
builds its headers, properties, body and ``task-sent`` event as for any other, then hands them over instead of
sending them. What kombu's Redis transport would store for them (``Producer.publish``, then the virtual
channel: see :mod:`supersms.tasks.wire`) becomes a template, with holes where each message's own ids, clock
and time go. Receivers of Celery's ``before_task_publish``/``after_task_publish`` signals see the placeholder,
once per publication.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from kombu.entity import Exchange, Queue, maybe_delivery_mode
from kombu.messaging import Producer
from kombu.serialization import dumps
from kombu.transport.redis import Channel as RedisChannel
from kombu.utils.json import dumps as kombu_json

from supersms.tasks.send import send
from supersms.tasks.wire import BODY_ENCODING, Template, envelope
from supersms.workers.masking import masked_repr

MESSAGE_ID = "bulkMessageIdHoleQ7"
TASK_ID = "bulkTaskIdHoleQ7"
DELIVERY_TAG = "bulkDeliveryTagHoleQ7"
BODY = "bulkBodyHoleQ7"
CLOCK = "bulkClockHoleQ7"
TIMESTAMP = "bulkTimestampHoleQ7"
"""Placeholders: written into the template where each message's own value goes (all plain JSON strings)."""
_IDS = {"task_id": TASK_ID, "message_id": MESSAGE_ID}
"""Holes wherever their placeholder shows: a task's headers carry its id and the repr of its arguments."""

_PUBLISH_PARAMETERS = frozenset(inspect.signature(Producer.publish).parameters) - {
    "self",
    "body",
    "properties",
}
"""What ``Producer.publish`` takes by name; every other keyword it is given becomes a message property."""


@dataclass(frozen=True)
class EventPlan:
    """How to render each task's ``task-sent`` event, and the fanout topics it goes to."""

    topics: tuple[str, ...]
    message: Template  # holes: body, delivery_tag
    body: Template  # holes: task_id, message_id, clock, timestamp


@dataclass(frozen=True)
class Plan:
    """How to render the tasks (and their events) of this publication, and where they go."""

    channel: Any  # kombu.transport.redis.Channel
    queue_key: str
    message: Template  # holes: task_id, message_id, body, delivery_tag
    body: Template  # holes: message_id
    event: EventPlan | None


class _Recorder:
    """Stands in for kombu's Producer during one ``apply_async``: keeps what it is given, sends nothing."""

    def __init__(self, producer: Any) -> None:
        self.connection = producer.connection  # Celery translates its errors around the publish
        self.published: list[tuple[Any, dict[str, Any]]] = []

    def publish(self, body: Any, **options: Any) -> None:
        self.published.append((body, options))


def _caught_publications(producer: Any) -> list[tuple[Any, dict[str, Any]]]:
    """What ``enqueue_attempt`` hands kombu for a placeholder message: the task, then its task-sent event.

    ``add_to_parent=False``: called from inside a task, the placeholder must not join that task's children.
    """
    recorder = _Recorder(producer)
    kwargs = {"id": MESSAGE_ID}
    send.apply_async(
        kwargs=kwargs, kwargsrepr=masked_repr(kwargs), task_id=TASK_ID, producer=recorder, add_to_parent=False
    )
    return recorder.published


def bulk_plan(producer: Any) -> Plan | None:
    """The template of this publication's tasks, or None when they cannot be pushed in bulk."""
    channel = producer.channel
    if (
        not isinstance(channel, RedisChannel)
        or channel.global_keyprefix
        or channel.body_encoding != BODY_ENCODING
    ):
        return None
    (task_body, task_options), *events = _caught_publications(producer)
    if not _pushable(task_options) or not all(_fanout(options) for _, options in events):
        return None
    for entity in [
        *task_options["declare"],
        *(entity for _, options in events for entity in options["declare"]),
    ]:
        producer.maybe_declare(entity)
    message, body = _templates(producer, task_body, task_options, body_holes={"message_id": MESSAGE_ID})
    return Plan(
        channel=channel,
        queue_key=task_options["routing_key"],
        message=message,
        body=body,
        event=_event_plan(producer, channel, *events[0]) if events else None,
    )


def _pushable(options: dict[str, Any]) -> bool:
    """Whether kombu would LPUSH this task onto the plain list named after its queue, and nothing more.

    Published to the nameless exchange, a task goes to the queue its routing key names; priority 0 is that
    list itself; compression and expiring messages or queues take steps of their own.
    """
    queues: list[Any] = [entity for entity in options.get("declare") or () if isinstance(entity, Queue)]
    return (
        options.get("exchange") == ""
        and bool(options.get("routing_key"))
        and not options.get("priority")
        and not options.get("compression")
        and options.get("expiration") is None
        and all(
            queue.expires is None and "x-expires" not in (queue.queue_arguments or {}) for queue in queues
        )
    )


def _fanout(options: dict[str, Any]) -> bool:
    """Whether kombu would PUBLISH this event to its exchange's topics (Celery's event exchange is a fanout
    one on Redis)."""
    exchanges: list[Any] = [entity for entity in options.get("declare") or () if isinstance(entity, Exchange)]
    return any(
        exchange.name == options.get("exchange") and exchange.type == "fanout" for exchange in exchanges
    )


def _event_plan(producer: Any, channel: Any, event: dict[str, Any], options: dict[str, Any]) -> EventPlan:
    """The template of the task-sent events: clock and timestamp are each event's own, as Celery sets them."""
    placeholder_event = {**event, "clock": CLOCK, "timestamp": TIMESTAMP}
    holes = {"task_id": TASK_ID, "clock": f'"{CLOCK}"', "timestamp": f'"{TIMESTAMP}"'}
    message, body = _templates(producer, placeholder_event, options, body_holes=holes)
    topics = channel._get_publish_topics(options["exchange"], options["routing_key"])
    return EventPlan(topics=tuple(topics), message=message, body=body)


def _templates(
    producer: Any, body: Any, options: dict[str, Any], *, body_holes: dict[str, str]
) -> tuple[Template, Template]:
    """The stored message and its serialised body as templates, for a body and options given to ``publish``.

    Follows ``Producer.publish``: the body serialised, every keyword that is not one of its parameters a
    property, the delivery mode the producer's default when none is given, priority the channel's default.
    """
    serializer = options.get("serializer")
    serialised_body = dumps(body, serializer=serializer)  # type: ignore[no-untyped-call]
    content_type, content_encoding, serialised = serialised_body
    properties = {name: value for name, value in options.items() if name not in _PUBLISH_PARAMETERS}
    message = envelope(
        encoded_body=BODY,
        content_type=content_type,
        content_encoding=content_encoding,
        headers=options.get("headers") or {},
        properties=properties,
        delivery_mode=_delivery_mode(options.get("delivery_mode") or producer.exchange.delivery_mode),
        exchange=options["exchange"],
        routing_key=options["routing_key"],
        priority=producer.channel.default_priority,
        delivery_tag=DELIVERY_TAG,
    )
    text = _json_text(message)
    return (
        Template.of(text, _holes(text, {"body": BODY, "delivery_tag": DELIVERY_TAG})),
        Template.of(serialised, _holes(serialised, body_holes)),
    )


def _holes(text: str, required: dict[str, str]) -> dict[str, str]:
    """The holes of a template: those required, and an id's wherever its placeholder shows in ``text``."""
    return {**required, **{name: hole for name, hole in _IDS.items() if hole in text}}


def _json_text(message: dict[str, Any]) -> str:
    """The message as kombu writes it to Redis."""
    text: str = kombu_json(message)  # type: ignore[no-untyped-call]
    return text


def _delivery_mode(mode: int | str | None) -> int | None:
    """kombu's delivery mode for what a publisher gives (a number, ``"persistent"``, or nothing)."""
    delivery_mode: int | None = maybe_delivery_mode(mode)  # type: ignore[no-untyped-call]
    return delivery_mode
