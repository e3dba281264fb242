"""The producer API: validate, record and enqueue messages from Python.

Validation happens first, for every message, so invalid input enqueues nothing. Records are written in
pipelined batches and tasks published over one broker connection, not one round trip each.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any

import redis
from celery.canvas import Signature
from kombu.exceptions import KombuError

from supersms.errors import InvalidMessage, StoreUnavailable
from supersms.protocol.message import Message, validate_message, validate_message_id
from supersms.tasks.app import app, settings
from supersms.tasks.send import enqueue_attempt
from supersms.workers.intake import new_message_id, queued_record, with_ref
from supersms.workers.metrics import MetricsRecorder
from supersms.workers.records import MessageStore, Status
from supersms.workers.redis_io import connect

BROKER_CONNECT_RETRY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 1}
"""How long to try reaching the broker before recording anything: Celery's default publish retry policy."""
PUBLISH_BATCH = 1000
"""Broker commands sent per round trip (each task is its message and its ``task-sent`` event)."""


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


def send_many(messages: Iterable[Mapping[str, Any]], *, on_final: Signature | None = None) -> list[str]:
    """Validate all messages, then record and enqueue them; return their ids in input order.

    Each message is a mapping with the task's field names (``to``, ``message``, ``from``, …, optional ``id``).
    The first invalid one raises :class:`~supersms.errors.InvalidMessage` whose field reads ``[index].field``;
    then nothing is enqueued. A message whose ``id`` is already recorded is not enqueued again.
    ``on_final`` is called for each message with its final record.
    """
    return enqueue_validated(validate_all(messages), on_final=on_final)


def validate_all(messages: Iterable[Mapping[str, Any]]) -> list[tuple[str, Message]]:
    """Every message validated and given its id, or :class:`InvalidMessage` for the first that is not."""
    accepted: list[tuple[str, Message]] = []
    for index, fields in enumerate(messages):
        try:
            accepted.append(validate_one(fields))
        except InvalidMessage as error:
            raise InvalidMessage(f"[{index}].{error.field}", error.rule) from None
    return accepted


def validate_one(fields: Mapping[str, Any]) -> tuple[str, Message]:
    """One message validated, with its id (the producer's, or a new one) and its ``ref``."""
    current = settings()
    message_id = validate_message_id(fields["id"]) if fields.get("id") is not None else new_message_id()
    message = validate_message(
        fields, default_sender=current.default_sender, default_country=current.default_country
    )
    return message_id, with_ref(message, message_id)


def enqueue_validated(accepted: list[tuple[str, Message]], *, on_final: Signature | None = None) -> list[str]:
    """Record validated messages in pipelined batches and publish their tasks in pipelined batches too.

    The broker is reached before anything is recorded, so a broker that is down leaves no record behind.
    Broker failures surface as :class:`~supersms.errors.StoreUnavailable`.
    """
    if not accepted:
        return []
    now = datetime.now(UTC)
    default_ttl_s = settings().default_ttl_s
    callback = {"on_final": json.dumps(dict(on_final))} if on_final is not None else {}
    with _broker_errors(), app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(**BROKER_CONNECT_RETRY)
        created = _store().create_many(
            {**queued_record(message_id, message, default_ttl_s=default_ttl_s, now=now), **callback}
            for message_id, message in accepted
        )
        _metrics().transition(Status.QUEUED, sum(created))
        with producer.batch(max_size=PUBLISH_BATCH):
            for (message_id, _), is_new in zip(accepted, created, strict=True):
                if is_new:
                    enqueue_attempt(message_id, producer=producer)
    return [message_id for message_id, _ in accepted]


@contextmanager
def _broker_errors() -> Iterator[None]:
    """Turn kombu's errors (broker unreachable, a batch that failed) into :class:`StoreUnavailable`."""
    try:
        yield
    except KombuError as error:
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
