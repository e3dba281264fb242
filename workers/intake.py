"""Turning accepted input into a new message record (pure: no I/O)."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from supersms.errors import InvalidMessage
from supersms.protocol.message import Message
from supersms.workers.records import Status

ID_LENGTH = 20


def new_message_id() -> str:
    """A fresh message id: 20 hex digits, so that it also fits the provider's ``ref`` (≤ 20 letters/digits)."""
    return secrets.token_hex(ID_LENGTH // 2)


def message_id_for_task(task_id: str) -> str:
    """A stable message id for a task enqueued without one: the same task delivered twice gets the same id."""
    return hashlib.sha256(task_id.encode()).hexdigest()[:ID_LENGTH]


def with_ref(message: Message, message_id: str) -> Message:
    """The message with our id as its ``ref`` unless the producer chose one (reports then match by msgid).

    Built from the fields directly: ``dataclasses.replace`` costs three times as much, once per message of a
    campaign.
    """
    return message if message.ref else Message(**{**vars(message), "ref": message_id})


def queued_record(
    message_id: str, message: Message, *, default_ttl_s: int, now: datetime
) -> dict[str, object]:
    """The fields of a new ``queued`` record; ``message`` must already carry its ``ref`` (see :func:`with_ref`)."""
    return {**queued_fields(now), **message_fields(message_id, message, default_ttl_s=default_ttl_s, now=now)}


def queued_fields(now: datetime) -> dict[str, object]:
    """The fields that every ``queued`` record created at ``now`` has alike (``create_many``'s ``common``)."""
    stamp = _iso(now)
    return {
        "status": Status.QUEUED.value,
        "attempts": "0",
        "budget_used": "0",
        "created_at": stamp,
        "updated_at": stamp,
    }


def message_fields(
    message_id: str, message: Message, *, default_ttl_s: int, now: datetime
) -> dict[str, object]:
    """The fields of a new record that are the message's own; the payload is JSON text already, written as
    the store writes nested values."""
    ttl_s = message.ttl_s or default_ttl_s
    return {
        "id": message_id,
        "to_country": message.to_country,
        "to": message.to,
        "ref": message.ref,
        "payload": _payload_json(message.as_fields()),
        "expires_ms": str(int((now.timestamp() + ttl_s) * 1000)),
    }


_payload_json = json.JSONEncoder(ensure_ascii=False).encode
"""``json.dumps(value, ensure_ascii=False)`` without building an encoder per call (once per message)."""


@lru_cache(maxsize=1)
def _iso(now: datetime) -> str:
    """``now`` as records store times; cached, since a batch of records shares one ``now``."""
    return now.isoformat(timespec="milliseconds")


def rejected_record(
    message_id: str, fields: Mapping[str, object], error: InvalidMessage, *, now: datetime
) -> dict[str, object]:
    """The record of a message that arrived invalid: ``rejected`` with the rule it broke, never sent."""
    return {
        "id": message_id,
        "status": Status.REJECTED.value,
        "to_country": _text_or_none(fields.get("to_country")),
        "to": _text_or_none(fields.get("to")),
        "reason": f"invalid: {error}",
        "attempts": "0",
        "created_at": now.isoformat(timespec="milliseconds"),
        "updated_at": now.isoformat(timespec="milliseconds"),
    }


def _text_or_none(value: object) -> str | None:
    """A field as the producer sent it, cut short: text as it is, anything else as JSON (``true``, ``82.0``)."""
    if value is None:
        return None
    return (value if isinstance(value, str) else _json_or_repr(value))[:32]


def _json_or_repr(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # not JSON at all (a producer's pickle, say): as Python writes it
        return repr(value)
