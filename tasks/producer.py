"""The producer API: validate, record and enqueue messages from Python.

Validation happens first, for every message, so invalid input enqueues nothing. Records are created a batch
per script call, and tasks pushed a batch per round trip on a Redis broker (:mod:`supersms.tasks.bulk`), or
published over one broker connection on any other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

import redis
from celery.canvas import Signature
from kombu.exceptions import KombuError

from supersms.errors import InvalidMessage, StoreUnavailable
from supersms.protocol.message import Message, validate_message, validate_message_id
from supersms.tasks.app import app, settings
from supersms.tasks.bulk import Publisher
from supersms.workers.intake import message_fields, new_message_id, queued_fields, with_ref
from supersms.workers.metrics import MetricsRecorder
from supersms.workers.records import MessageStore, Status
from supersms.workers.redis_io import connect

BROKER_CONNECT_RETRY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 1}
"""How long to try reaching the broker before recording anything: Celery's default publish retry policy."""
ENQUEUE_BATCH = 1000
"""Messages recorded in one script call, whose new ones' tasks are then published together."""
CAMPAIGN_BATCH_MAX = 100
"""Messages per ``supersms.send_batch`` task at most."""
CAMPAIGN_MIN_TASKS = 256
"""Batches start only where a call still makes this many tasks, so every worker thread has one."""


def send_message(
    to: str,
    message: str,
    *,
    sender: str | None = None,
    to_country: str | None = None,
    title: str | None = None,
    ref: str | None = None,
    ttl: int | None = None,
    charset: str | None = None,
    payment_code: str | None = None,
    client_sub_id: str | None = None,
    origin_cid: str | None = None,
    id: str | None = None,
    on_final: Signature | None = None,
) -> str:
    """Validate, record and enqueue one SMS; return its message id.

    ``to`` takes ``01093446280``, ``010-9344-6280`` or ``+82 10-9344-6280``; ``sender`` is the provider's
    ``from`` (default ``SUPERSMS_FROM``). Raises :class:`~supersms.errors.InvalidMessage` (a ``ValueError``)
    naming the field and the rule; then nothing is enqueued. ``on_final``, a Celery signature, is called with
    the record (a dict, as ``supersms status`` prints it) once the message reaches a final status.
    """
    fields = {
        "to": to,
        "message": message,
        "from": sender,
        "to_country": to_country,
        "title": title,
        "ref": ref,
        "ttl": ttl,
        "charset": charset,
        "payment_code": payment_code,
        "client_sub_id": client_sub_id,
        "origin_cid": origin_cid,
        "id": id,
    }
    accepted = [validate_one({k: v for k, v in fields.items() if v is not None})]
    return enqueue_validated(accepted, on_final=on_final)[0]


def send_many(
    messages: Iterable[Mapping[str, Any]],
    *,
    on_final: Signature | None = None,
    batch_size: int | None = None,
) -> list[str]:
    """Validate all messages, then record and enqueue them; return their ids in input order.

    Each message is a mapping with the task's field names (``to``, ``message``, ``from``, …, optional ``id``).
    The first invalid one raises :class:`~supersms.errors.InvalidMessage` whose field reads ``[index].field``;
    then nothing is enqueued. A message whose ``id`` is already recorded is not enqueued again.
    ``on_final`` is called for each message with its final record.

    ``batch_size`` messages go in one ``supersms.send_batch`` task (1: a ``supersms.send`` task each); by
    default :func:`campaign_batch_size` chooses from the number of messages.
    """
    if batch_size is not None and (type(batch_size) is not int or batch_size < 1):
        raise InvalidMessage("batch_size", f"must be an integer 1 or more, got {batch_size!r}")
    accepted = validate_all(messages)
    size = campaign_batch_size(len(accepted)) if batch_size is None else batch_size
    return enqueue_validated(accepted, on_final=on_final, batch_size=size)


def _checked_signature(on_final: object) -> Signature:
    """``on_final`` when it is a Celery signature (a task's ``.s()``), else :class:`InvalidMessage`: it is
    called only once the message is final, far too late to say that it could not be."""
    if not isinstance(on_final, Signature) or not on_final.get("task"):
        raise InvalidMessage(
            "on_final", f"must be a Celery signature such as some_task.s(), got {on_final!r}"
        )
    return on_final


def campaign_batch_size(count: int) -> int:
    """Messages per task for a call of ``count``: one each while that makes at most
    :data:`CAMPAIGN_MIN_TASKS` tasks, then as many as keeps that many tasks, up to :data:`CAMPAIGN_BATCH_MAX`."""
    return max(1, min(CAMPAIGN_BATCH_MAX, count // CAMPAIGN_MIN_TASKS))


def validate_all(messages: Iterable[Mapping[str, Any]]) -> list[tuple[str, Message]]:
    """Every message validated and given its id, or :class:`InvalidMessage` for the first that is not."""
    accepted: list[tuple[str, Message]] = []
    ids_seen: dict[str, str] = {}
    for index, fields in enumerate(messages):
        if not isinstance(fields, Mapping):
            raise InvalidMessage(
                f"[{index}]", f"must be a mapping of field names to values, not {type(fields).__name__}"
            )
        try:
            accepted.append(validate_one(fields))
        except InvalidMessage as error:
            raise InvalidMessage(f"[{index}].{error.field}", error.rule) from None
        refuse_repeated_id(ids_seen, accepted[-1][0], where=f"[{index}]", field=f"[{index}].id")
    return accepted


def refuse_repeated_id(ids_seen: dict[str, str], message_id: str, *, where: str, field: str) -> None:
    """Note that the message at ``where`` has ``message_id``; :class:`InvalidMessage` naming ``field`` when an
    earlier message of the same call had it (a record is made once per id: the later one would never go)."""
    first = ids_seen.setdefault(message_id, where)
    if first != where:
        raise InvalidMessage(field, f"repeats the id of {first} ({message_id})")


def validate_one(fields: Mapping[str, Any]) -> tuple[str, Message]:
    """One message validated, with its id (the producer's, or a new one) and its ``ref``."""
    current = settings()
    message_id = validate_message_id(fields["id"]) if fields.get("id") is not None else new_message_id()
    try:
        message = validate_message(
            fields, default_sender=current.default_sender, default_country=current.default_country
        )
    except InvalidMessage as error:
        if (error.field, error.rule) == ("from", "required"):  # say where a sender comes from
            raise InvalidMessage("from", "required: give one, or set SUPERSMS_FROM") from None
        raise
    return message_id, with_ref(message, message_id)


def enqueue_validated(
    accepted: list[tuple[str, Message]], *, on_final: Signature | None = None, batch_size: int = 1
) -> list[str]:
    """Record validated messages a batch at a time, and publish the tasks of the new ones batch by batch.

    The broker is reached before anything is recorded, so a broker that is down leaves no record behind.
    Broker failures surface as :class:`~supersms.errors.StoreUnavailable`; a record whose task was lost that
    way is still due, and the lost-task sweep enqueues it again. A batch that fails to record ends the
    publication there: no later batch is recorded.
    """
    if not accepted:
        return []
    now = datetime.now(UTC)
    callback = {"on_final": json.dumps(dict(_checked_signature(on_final)))} if on_final is not None else {}
    batches = [accepted[start : start + ENQUEUE_BATCH] for start in range(0, len(accepted), ENQUEUE_BATCH)]
    with _broker_errors(), app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(**BROKER_CONNECT_RETRY)
        publisher = Publisher(producer, expected=len(accepted), batch_size=batch_size)
        _record_and_publish(batches, partial(_record, now=now, extra=callback), publisher)
    return [message_id for message_id, _ in accepted]


def _record_and_publish(
    batches: list[list[tuple[str, Message]]],
    record: Callable[[list[tuple[str, Message]]], list[bool]],
    publisher: Publisher,
) -> None:
    """Record each batch, then publish its new messages' tasks while the next batch is being recorded.

    Batches are recorded in a second thread, which waits for Redis without holding the interpreter: while
    Redis runs one batch's record script, this thread renders and pushes the tasks of the batch before
    (about a tenth faster when a CPU is free for Redis, the same when none is).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="supersms-record") as recorder:
        recording = recorder.submit(record, batches[0])
        try:
            for upcoming, batch in enumerate(batches, start=1):
                created = recording.result()
                if upcoming < len(batches):
                    recording = recorder.submit(record, batches[upcoming])
                publisher.publish(
                    [message_id for (message_id, _), new in zip(batch, created, strict=True) if new]
                )
        except BaseException:
            recording.cancel()  # no later batch is recorded (one already being recorded finishes)
            raise


def _record(batch: list[tuple[str, Message]], *, now: datetime, extra: dict[str, str]) -> list[bool]:
    """Create the ``queued`` records of validated messages (with ``extra`` fields); True where new."""
    default_ttl_s = settings().default_ttl_s
    created = _store().create_many(
        (
            message_fields(message_id, message, default_ttl_s=default_ttl_s, now=now)
            for message_id, message in batch
        ),
        common={**queued_fields(now), **extra},
    )
    _metrics().transition(Status.QUEUED, sum(created))
    return created


@contextmanager
def _broker_errors() -> Iterator[None]:
    """Turn kombu's errors (broker unreachable, a batch that failed) and a Redis broker's into
    :class:`StoreUnavailable`."""
    try:
        yield
    except (KombuError, redis.RedisError) as error:
        current = settings()
        where = (
            "Redis at SUPERSMS_REDIS_URL"
            if current.broker_url == current.redis_url
            else "SUPERSMS_BROKER_URL"
        )
        raise StoreUnavailable(f"the broker ({where}) failed to take the tasks: {error}") from error


@cache
def _redis() -> redis.Redis:
    return connect(settings().redis_url)


@cache
def _metrics() -> MetricsRecorder:
    return MetricsRecorder(redis_client=_redis())


@cache
def _store() -> MessageStore:
    return MessageStore(redis_client=_redis(), record_ttl_s=settings().record_ttl_s)
