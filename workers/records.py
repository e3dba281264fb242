"""Message records in Redis: created once, claimed per attempt, moved forward only.

Every read-then-write is one Lua script (``record_*.lua`` beside this module), so duplicate or out-of-order events cannot move a
record backwards. The hash layout is described in :mod:`supersms.workers.keys`; :func:`public_view` turns a
raw hash into the record shown by ``supersms status``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

import redis

from supersms.errors import UnknownMessage
from supersms.workers import keys, lua
from supersms.workers.held_connections import HeldConnections
from supersms.workers.pause import PauseState, pause_state
from supersms.workers.redis_io import as_text, translate_errors

CREATE_BATCH = 1000


class Status(StrEnum):
    """Where a message stands (README, "Outcomes")."""

    QUEUED = "queued"
    RETRYING = "retrying"
    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    REJECTED = "rejected"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({Status.DELIVERED, Status.UNDELIVERED, Status.REJECTED, Status.FAILED})


@dataclass(frozen=True)
class Begun:
    """What beginning an attempt found (``record_begin.lua``): the ``step`` to take, and what it needs.

    Steps: ``claimed`` (call the provider: ``attempts``, ``payload``, ``expires_ms``, ``budget_used``),
    ``wait`` (a rate slot is booked ``wait_s`` ahead), ``limited`` (no slot is near enough: come back in
    ``wait_s``, the turn in the line of sends given back), ``early`` (due at ``due_ms``), ``paused``
    (``pause`` holds; ``status``, ``expires_ms``), ``final`` and ``expired`` (``callback_due``), ``missing``,
    ``submitted``, ``held``.
    """

    step: str
    attempts: int = 0
    payload: str = ""
    expires_ms: int = 0
    budget_used: int = 0
    wait_s: float = 0.0
    due_ms: int = 0
    pause: PauseState | None = None
    status: str = ""
    callback_due: bool = False


LOST = "lost"
"""A settle's status when the claim was no longer its own (see :class:`Settled`)."""


@dataclass(frozen=True)
class Settled:
    """The record after an attempt was recorded: its ``status`` (:data:`LOST` when the claim was no longer
    this attempt's: swept as stale, or released by this same settle run before), and whether
    the producer's callback is due for it."""

    status: str
    callback_due: bool = False


def now_iso() -> str:
    """The current UTC time as ISO 8601 with offset, as records store it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def _pairs(fields: Mapping[str, object]) -> list[str]:
    flat: list[str] = []
    for name, value in fields.items():
        if value is None:
            continue
        flat += [name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)]
    return flat


class MessageStore:
    """All reads and writes of message records. Redis errors surface as :class:`StoreUnavailable`."""

    def __init__(self, *, redis_client: redis.Redis, record_ttl_s: int) -> None:
        self._redis = redis_client
        self._record_ttl_s = record_ttl_s
        self._create = lua.register(redis_client, "record_create")
        # An attempt's two scripts run on held connections (one per sending thread at most): the send path's
        # Redis cost is then its two round trips and little more.
        held = HeldConnections(redis_client.connection_pool)
        self._begin = lua.HeldScript(
            lua.register(redis_client, "record_begin", uses=("gcra", "announce")), held
        )
        self._settle = lua.HeldScript(lua.register(redis_client, "record_settle", uses=("announce",)), held)
        self._defer = lua.register(redis_client, "record_defer")
        self._expire_claim = lua.register(redis_client, "record_expire_claim", uses=("announce",))

    def create_many(
        self, records: Iterable[Mapping[str, object]], *, common: Mapping[str, object] | None = None
    ) -> list[bool]:
        """Create records (each with an ``id``), a script call per batch; True where created, False where taken.

        ``common`` fields are every record's (a record's own field of the same name wins); they travel once
        per batch. A ``queued`` record is due from now (the lost-task sweep looks at it if no task runs it).
        """
        common = common or {}
        common_json = json.dumps(_pairs(common), ensure_ascii=False)
        common_status = common.get("status")
        created: list[bool] = []
        for batch in _batches(records, CREATE_BATCH):
            due_ms = str(now_ms())
            ids = [str(record["id"]) for record in batch]
            rows = [
                [
                    due_ms if record.get("status", common_status) == Status.QUEUED else "",
                    message_id,
                    *_pairs(record),
                ]
                for message_id, record in zip(ids, batch, strict=True)
            ]
            with translate_errors("create records"):
                replies = self._create(
                    keys=[keys.DUE, *map(keys.message, ids)],
                    args=[self._record_ttl_s, json.dumps(rows, ensure_ascii=False), common_json],
                )
            created += [bool(reply) for reply in replies]
        return created

    def load(self, message_id: str) -> dict[str, str]:
        """The raw record hash; :class:`UnknownMessage` when there is none."""
        with translate_errors("read a record"):
            raw = cast(dict[str, str], self._redis.hgetall(keys.message(message_id)))
        if not raw:
            raise UnknownMessage(message_id)
        return raw

    def begin(self, message_id: str, token: str, *, rate_args: list[int], slot_booked: bool = False) -> Begun:
        """Check, rate-limit and claim the message for one attempt, in one script (see :class:`Begun`).

        ``rate_args`` are the limiter's (:meth:`RateLimiter.script_args`); ``slot_booked`` when the caller
        has waited for a slot an earlier call booked.
        """
        record_keys = [
            keys.message(message_id),
            *(keys.INFLIGHT, keys.DUE, keys.PAUSE, keys.RATE, keys.EVENTS, keys.RATE_LINE),
        ]
        args = [token, now_ms(), now_iso(), message_id, *rate_args, "1" if slot_booked else "0"]
        with translate_errors("begin an attempt"):
            reply = self._begin(keys=record_keys, args=args)
        return _begun([as_text(part) for part in reply])

    def settle(
        self,
        message_id: str,
        token: str,
        status: Status,
        fields: Mapping[str, object],
        *,
        msgid: str | None = None,
    ) -> Settled:
        """Record an attempt's outcome and release the claim (announcing a final status)."""
        index_key = keys.msgid(msgid) if msgid else ""
        due_ms = _due_ms(status, fields)
        args = [
            token,
            status.value,
            message_id,
            self._record_ttl_s,
            due_ms,
            *_pairs({**fields, "updated_at": now_iso()}),
        ]
        record_keys = [keys.message(message_id), keys.INFLIGHT, index_key, keys.DUE, keys.EVENTS]
        with translate_errors("record an attempt"):
            status, callback_due = self._settle(keys=record_keys, args=args)
        return Settled(as_text(status), bool(callback_due))

    def defer(self, message_id: str, status: Status, fields: Mapping[str, object]) -> str:
        """Change an unclaimed, unfinished record without an attempt; returns the status it now has."""
        args = [status.value, *_pairs({**fields, "updated_at": now_iso()})]
        with translate_errors("update a record"):
            return as_text(self._defer(keys=[keys.message(message_id)], args=args))

    def expire_stale_claims(self, *, older_than_s: float) -> list[str]:
        """End claims older than ``older_than_s`` as ``outcome_unknown`` (and announce them); returns the ids ended."""
        cutoff_ms = now_ms() - int(older_than_s * 1000)
        with translate_errors("sweep stale claims"):
            stale = [as_text(m) for m in self._redis.zrangebyscore(keys.INFLIGHT, "-inf", cutoff_ms)]
            ended = [
                message_id
                for message_id in stale
                if self._expire_claim(
                    keys=[keys.message(message_id), keys.INFLIGHT, keys.EVENTS],
                    args=[message_id, cutoff_ms, now_iso()],
                )[0]
            ]
        return ended

    def overdue(self, *, older_than_s: float, limit: int) -> list[str]:
        """Unclaimed, unfinished messages due for longer than ``older_than_s``: their task may have been lost.

        Each id returned is marked due again from now (so it is returned once per period); ids that are
        claimed, finished or gone leave the due set.
        """
        cutoff_ms = now_ms() - int(older_than_s * 1000)
        with translate_errors("sweep overdue messages"):
            candidates = [
                as_text(m) for m in self._redis.zrangebyscore(keys.DUE, "-inf", cutoff_ms, 0, limit)
            ]
            pipe = self._redis.pipeline(transaction=False)
            for message_id in candidates:
                pipe.hmget(keys.message(message_id), "status", "claim")
            states = pipe.execute()
            orphans = [
                m for m, (status, claim) in zip(candidates, states, strict=True) if _open(status, claim)
            ]
            settled = set(candidates) - set(orphans)
            pipe = self._redis.pipeline(transaction=False)
            if orphans:
                pipe.zadd(keys.DUE, dict.fromkeys(orphans, now_ms()))
            if settled:
                pipe.zrem(keys.DUE, *settled)
            pipe.execute()
        return orphans

    def message_for_msgid(self, msgid: str) -> str | None:
        """Our message id for a provider msgid, if the send result has been recorded."""
        with translate_errors("read the msgid index"):
            value = self._redis.get(keys.msgid(msgid))
        return None if value is None else as_text(value)


def public_view(raw: Mapping[str, str]) -> dict[str, Any]:
    """The record as ``supersms status`` prints it (README, "Outcomes"), without internal fields."""
    view: dict[str, Any] = {
        "id": raw.get("id"),
        "status": raw.get("status"),
        "to_country": raw.get("to_country"),
        "to": raw.get("to"),
        "ref": raw.get("ref"),
        "msgid": raw.get("msgid"),
        "msg_type": _int_or_none(raw.get("msg_type")),
        "err_code": raw.get("err_code"),
        "attempts": int(raw.get("attempts", "0")),
        "report": json.loads(raw["report"]) if raw.get("report") else None,
    }
    for optional in ("reason", "detail", "submitted_at", "reported_at"):
        if raw.get(optional):
            view[optional] = raw[optional]
    if raw.get("intermediate"):
        view["intermediate"] = json.loads(raw["intermediate"])
    view["created_at"] = raw.get("created_at")
    view["updated_at"] = raw.get("updated_at")
    return view


def _begun(reply: list[str]) -> Begun:
    """The :class:`Begun` of a ``record_begin.lua`` reply (all parts as text)."""
    step, rest = reply[0], reply[1:]
    if step == "claimed":
        attempts, payload, expires_ms, budget_used = rest
        return Begun(step, int(attempts), payload, int(expires_ms), int(budget_used))
    if step in ("wait", "limited"):
        return Begun(step, wait_s=int(rest[0]) / 1_000_000)
    if step == "early":
        return Begun(step, due_ms=int(rest[0]))
    if step == "paused":
        remaining_ms, value, expires_ms, status = rest
        return Begun(
            step, pause=pause_state(value, int(remaining_ms)), expires_ms=int(expires_ms), status=status
        )
    if step in ("final", "expired"):
        return Begun(step, callback_due=rest[0] == "1")
    return Begun(step)


def _due_ms(status: Status, fields: Mapping[str, object]) -> int | str:
    """When a retrying message is next due (now, if it waits for the pause); '' for any other status."""
    if status is not Status.RETRYING:
        return ""
    return max(int(str(fields.get("next_attempt_ms") or 0)), now_ms())


def _open(status: str | None, claim: str | None) -> bool:
    return status in (Status.QUEUED, Status.RETRYING) and not claim


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value else None


def _batches(items: Iterable[Mapping[str, object]], size: int) -> Iterator[list[Mapping[str, object]]]:
    batch: list[Mapping[str, object]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
