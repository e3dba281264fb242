"""Matching delivery reports to messages: read the report stream through a consumer group, apply each once.

- A report is matched by its ``ref`` when that is one of our message ids, else by the provider's msgid.
- Applying is one Lua script (``report_apply.lua``, pipelined per batch) guarded by a per-report
  marker, so the provider's retried deliveries and redelivered stream entries change a record once.
- A report whose message is not known yet (it raced ahead of the send result) stays pending in the group;
  entries idle longer than ``reclaim_idle_s`` are claimed again (``XAUTOCLAIM``), which both retries parked
  reports and recovers the entries of a consumer that died mid-batch. Past ``horizon_s`` an unmatched report
  moves to the dead-letter stream.
- Handled entries are acknowledged and deleted, so the stream holds only what is still pending; nothing
  pending is ever trimmed.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import redis

from supersms.errors import InvalidReport
from supersms.protocol.codes import ReportClass, classify_report
from supersms.protocol.reports import Report, parse_report
from supersms.workers import keys, lua
from supersms.workers.records import now_iso
from supersms.workers.redis_io import as_text, translate_errors

log = logging.getLogger(__name__)

DEAD_MAXLEN = 100_000
PARKED = "missing"
FINAL_REPORT_OUTCOMES = ("delivered", "undelivered")
Entry = tuple[str, dict[str, str]]


@dataclass
class _Entry:
    """One readable stream entry in a batch, and what applying its report did."""

    entry_id: str
    entry_fields: Mapping[str, str]
    report: Report
    outcome: str = PARKED
    message_id: str = ""
    callback_due: bool = False


@dataclass
class Pass:
    """What one pass over the stream did: entries by outcome, and report lags (received → applied) in ms."""

    outcomes: Counter[str] = field(default_factory=Counter)
    lags_ms: list[float] = field(default_factory=list)
    final: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


def report_json(report: Report) -> str:
    """The ``report`` field of a record (README, "Outcomes"): sent_date in ISO 8601 with +09:00."""
    return json.dumps(
        {
            "err_code": report.err_code,
            "network": report.network,
            "rescnt": report.rescnt,
            "sent_date": report.sent_date.isoformat() if report.sent_date else None,
            "rslt_type": report.rslt_type.value,
        }
    )


def final_status(report: Report) -> str:
    return "delivered" if classify_report(report.err_code) is ReportClass.DELIVERED else "undelivered"


class Correlator:
    """One consumer of the report stream.

    ``call_back(message_id)`` runs when a report finished a record whose producer asked for a callback (the
    event itself is written by the apply script).
    """

    def __init__(
        self,
        *,
        redis_client: redis.Redis,
        consumer: str,
        record_ttl_s: int,
        horizon_s: float,
        reclaim_idle_s: float = 5.0,
        batch: int = 200,
        call_back: Callable[[str], None] = lambda message_id: None,
    ) -> None:
        self._redis = redis_client
        self._consumer = consumer
        self._record_ttl_s = record_ttl_s
        self._horizon_s = horizon_s
        self._reclaim_idle_ms = int(reclaim_idle_s * 1000)
        self._batch = batch
        self._call_back = call_back
        self._apply = lua.register(redis_client, "report_apply", uses=("announce",))

    def ensure_group(self) -> None:
        """Create the consumer group (from the stream's start) unless it exists."""
        with translate_errors("create the report consumer group"):
            try:
                self._redis.xgroup_create(keys.REPORTS, keys.REPORTS_GROUP, id="0", mkstream=True)
            except redis.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    def run(self, *, budget_s: float) -> Pass:
        """Reclaim idle entries, then read new ones batch by batch until none are left or the budget is spent."""
        self.ensure_group()
        done = Pass()
        self._handle(self._reclaim(), done)
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            entries = self._read_new()
            if not entries:
                break
            self._handle(entries, done)
        return done

    def _reclaim(self) -> list[Entry]:
        reclaimed: list[Entry] = []
        start = "0-0"
        with translate_errors("reclaim idle reports"):
            while True:
                reply = self._redis.xautoclaim(
                    keys.REPORTS,
                    keys.REPORTS_GROUP,
                    self._consumer,
                    self._reclaim_idle_ms,
                    start,
                    self._batch,
                )
                start, entries = reply[0], reply[1]
                reclaimed += [(entry_id, entry_fields) for entry_id, entry_fields in entries if entry_fields]
                if start in ("0-0", b"0-0") or len(reclaimed) >= self._batch * 10:
                    return reclaimed

    def _read_new(self) -> list[Entry]:
        with translate_errors("read new reports"):
            reply: Any = self._redis.xreadgroup(
                keys.REPORTS_GROUP, self._consumer, {keys.REPORTS: ">"}, count=self._batch
            )
        return [(entry_id, entry_fields) for _, entries in reply or [] for entry_id, entry_fields in entries]

    def _handle(self, entries: list[Entry], done: Pass) -> None:
        """Apply a batch: pipelined by ref first, then by the msgid index for what the ref did not match."""
        finished: list[str] = []
        readable: list[_Entry] = []
        for entry_id, entry_fields in entries:
            try:
                report = parse_report(parse_qs(entry_fields.get("query", ""), keep_blank_values=True))
            except InvalidReport as error:
                done.outcomes[self._dead_letter(entry_fields, f"unreadable: {error}")] += 1
                finished.append(entry_id)
                continue
            readable.append(_Entry(entry_id, entry_fields, report))
        self._apply_all([(entry, entry.report.ref) for entry in readable if entry.report.ref])
        unmatched = [entry for entry in readable if entry.outcome == PARKED]
        by_msgid = self._message_ids([entry.report.msgid for entry in unmatched])
        self._apply_all(
            [
                (entry, message_id)
                for entry, message_id in zip(unmatched, by_msgid, strict=True)
                if message_id and message_id != entry.report.ref
            ]
        )
        called: set[str] = set()  # a batch may hold the same report twice: one callback per message
        for entry in readable:
            outcome = self._conclude(entry, done, called)
            done.outcomes[outcome] += 1
            if outcome != PARKED:
                finished.append(entry.entry_id)
        if finished:
            with translate_errors("acknowledge reports"):
                pipe = self._redis.pipeline(transaction=False)
                pipe.xack(keys.REPORTS, keys.REPORTS_GROUP, *finished)
                pipe.xdel(keys.REPORTS, *finished)
                pipe.execute()

    def _apply_all(self, targets: list[tuple[_Entry, str]]) -> None:
        """Apply each entry's report to the message id beside it, in one pipeline; results land on the entries."""
        if not targets:
            return
        with translate_errors("apply reports"):
            pipe = self._redis.pipeline(transaction=False)
            for entry, message_id in targets:
                self._apply_to(message_id, entry.report, client=pipe)
            replies = pipe.execute()
        for (entry, message_id), (outcome, callback_due) in zip(targets, replies, strict=True):
            entry.outcome = as_text(outcome)
            entry.message_id = message_id
            entry.callback_due = bool(callback_due)

    def _message_ids(self, msgids: list[str]) -> list[str | None]:
        """Our message ids for provider msgids, by the index the send results wrote (None where unknown)."""
        if not msgids:
            return []
        with translate_errors("read the msgid index"):
            values = self._redis.mget([keys.msgid(msgid) for msgid in msgids])
        return [None if value is None else as_text(value) for value in values]

    def _conclude(self, entry: _Entry, done: Pass, called: set[str]) -> str:
        """Follow up one applied entry (callback, lag), or park or dead-letter one that matched nothing."""
        received_ms = float(entry.entry_fields.get("received_ms", "0"))
        if entry.outcome != PARKED:
            if entry.outcome in FINAL_REPORT_OUTCOMES:
                done.final.append(entry.message_id)
            if entry.callback_due and entry.message_id not in called:
                called.add(entry.message_id)
                self._call_back(entry.message_id)
            done.lags_ms.append(time.time() * 1000 - received_ms)
            return entry.outcome
        if time.time() * 1000 - received_ms > self._horizon_s * 1000:
            return self._dead_letter(entry.entry_fields, "no matching message within the horizon")
        log.debug(
            "report %s for msgid %s parked: its message is not known yet", entry.entry_id, entry.report.msgid
        )
        return PARKED

    def _apply_to(self, message_id: str, report: Report, *, client: Any) -> None:
        args: list[Any] = [
            report.rslt_type.value,
            final_status(report),
            report_json(report),
            report.msgid,
            now_iso(),
            self._record_ttl_s,
            message_id,
        ]
        record_keys = [
            keys.message(message_id),
            keys.report_seen(report.dedup_key()),
            keys.msgid(report.msgid),
            keys.EVENTS,
        ]
        self._apply(keys=record_keys, args=args, client=client)

    def _dead_letter(self, entry_fields: Mapping[str, str], reason: str) -> str:
        log.warning("report dead-lettered: %s", reason)
        with translate_errors("dead-letter a report"):
            dead: dict[Any, Any] = {**entry_fields, "reason": reason}
            self._redis.xadd(keys.REPORTS_DEAD, dead, maxlen=DEAD_MAXLEN, approximate=True)
        return "dead"
