"""Reading the evidence of a drill as it runs, and waiting on it: by condition, polled, always bounded."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import redis

from drills.stack import Stack
from drills.tally import Acceptance, Evidence, ReportAttempt, Tally, tally
from supersms.workers import keys
from supersms.workers.celery_config import REPORTS_QUEUE, SEND_QUEUE
from supersms.workers.redis_io import connect

POLL_S = 0.5
UNACKED = "unacked"  # kombu's Redis transport: tasks handed to a worker and not yet acknowledged
QUIET_TIMES = 3  # consecutive quiet looks: a task moving from the queue to ``unacked`` is in neither briefly


class Observer:
    """Reads the records of ``ids``, the events stream and the sandboxes' logs of ``stack``."""

    def __init__(self, stack: Stack, ids: Sequence[str] = ()) -> None:
        self.stack = stack
        self.ids: list[str] = list(ids)
        self._client = connect(stack.redis_url, max_connections=4)

    def close(self) -> None:
        self._client.close()

    def evidence(self) -> Evidence:
        """A snapshot; raises ``redis.RedisError`` while Redis is away."""
        pipe = self._client.pipeline(transaction=False)
        for message_id in self.ids:
            pipe.hmget(keys.message(message_id), ["status", "reason"])
        rows = pipe.execute()
        records = {
            message_id: {"status": status, "reason": reason or ""}
            for message_id, (status, reason) in zip(self.ids, rows, strict=True)
            if status is not None
        }
        events = [(fields.get("id", ""), fields.get("status", "")) for _, fields in self._xrange(keys.EVENTS)]
        return Evidence(ids=self.ids, records=records, events=events, **self._provider_logs())

    def tally(self) -> Tally | None:
        """The tally now, or None while Redis does not answer."""
        try:
            return tally(self.evidence())
        except redis.RedisError:
            return None

    def statuses(self) -> dict[str, str | None]:
        """id → status (None: no record), for drills that watch progress."""
        return self.field("status")

    def field(self, name: str, ids: Sequence[str] | None = None) -> dict[str, str | None]:
        """id → one field of its record (None: no such field), for ``ids`` (default: all)."""
        chosen = list(self.ids if ids is None else ids)
        pipe = self._client.pipeline(transaction=False)
        for message_id in chosen:
            pipe.hget(keys.message(message_id), name)
        return dict(zip(chosen, pipe.execute(), strict=True))

    def count(self, wanted: set[str]) -> int:
        """How many of ``ids`` are in one of the ``wanted`` statuses now (0 while Redis is away)."""
        try:
            return sum(status in wanted for status in self.statuses().values())
        except redis.RedisError:
            return 0

    def pending_reports(self) -> int:
        """Report stream entries read by a correlator and not acknowledged yet (0 when unknown)."""
        try:
            return int(self._client.xpending(keys.REPORTS, keys.REPORTS_GROUP)["pending"])
        except redis.RedisError:  # no group yet, or Redis away
            return 0

    def wait_settled(self, *, timeout_s: float) -> tuple[Tally | None, float | None]:
        """Wait until nothing is lost any more; the last tally and the seconds waited (None: timed out)."""
        started = time.monotonic()
        last = wait_for(lambda: _settled(self.tally()), timeout_s=timeout_s)
        took_s = time.monotonic() - started
        return self.tally(), (took_s if last else None)

    def wait_quiet(self, *, timeout_s: float) -> float | None:
        """Wait until the Redis broker holds no task: queues empty, nothing handed out unacknowledged.

        A SIGKILLed worker's tasks come back only after the visibility timeout; waiting for this makes their
        second delivery happen inside the drill, where a double send would show. Seconds waited, or None.
        """
        started = time.monotonic()
        quiet_looks = 0

        def quiet() -> bool:
            nonlocal quiet_looks
            quiet_looks = quiet_looks + 1 if self._broker_empty() else 0
            return quiet_looks >= QUIET_TIMES

        return time.monotonic() - started if wait_for(quiet, timeout_s=timeout_s) else None

    def _broker_empty(self) -> bool:
        try:
            pipe = self._client.pipeline(transaction=True)
            pipe.llen(SEND_QUEUE).llen(REPORTS_QUEUE).hlen(UNACKED)
            return not any(pipe.execute())
        except redis.RedisError:
            return False

    def _xrange(self, stream: str) -> list[tuple[str, dict[str, str]]]:
        entries: Any = self._client.xrange(stream)
        return list(entries)

    def _provider_logs(self) -> dict[str, list[Any]]:
        accepted: list[Acceptance] = []
        reports: list[ReportAttempt] = []
        for sandbox in self.stack.providers:
            running = self.stack.provider_running(sandbox)
            accepted += [
                Acceptance(entry.fields.get("ref", ""), entry.msgid or "", running)
                for entry in sandbox.log.accepted()
            ]
            reports += [
                ReportAttempt(entry.msgid, entry.delivered, entry.rslt_type == "0")
                for entry in sandbox.log.reports()
            ]
        return {"accepted": accepted, "reports": reports}


def _settled(current: Tally | None) -> bool:
    return current is not None and current.settled


def wait_for(predicate: Callable[[], bool], *, timeout_s: float, poll_s: float = POLL_S) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout_s`` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    return True
