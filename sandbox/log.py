"""What the sandbox received and did, in order, for tests and demos to read.

Two kinds of entries: a :class:`SendEntry` per send request (fields as received, ``pwd`` masked) and a
:class:`ReportEntry` per report delivery attempt. Each has an ``index`` that never repeats, so a reader
pages with ``entries(since=next_index)`` even after the oldest entries fell off the bounded buffer.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

MAX_ENTRIES = 1_000_000
MASK = "***"


@dataclass(frozen=True)
class SendEntry:
    """One send request: what came in and what the sandbox answered (``answered`` is false when dropped)."""

    index: int
    monotonic_s: float
    wall_time: str
    method: str
    fields: Mapping[str, str]
    err_code: str
    reason: str = ""
    msgid: str | None = None
    msg_type: int | None = None
    answered: bool = True
    kind: str = field(default="send", init=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {**asdict(self), "fields": dict(self.fields)}


@dataclass(frozen=True)
class ReportEntry:
    """One attempt to deliver a report: ``outcome`` is ``"ok"`` or why the client's answer did not count.

    ``gave_up`` marks the last failed attempt, after which the provider drops the report for good.
    """

    index: int
    monotonic_s: float
    wall_time: str
    msgid: str
    attempt: int
    query: str
    err_code: str
    rslt_type: str
    outcome: str
    gave_up: bool = False
    kind: str = field(default="report", init=False)

    @property
    def delivered(self) -> bool:
        """Whether the client acknowledged this attempt."""
        return self.outcome == "ok"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field, and ``delivered``."""
        return {**asdict(self), "delivered": self.delivered}


Entry = SendEntry | ReportEntry
E = TypeVar("E", SendEntry, ReportEntry)


def now_stamps() -> tuple[float, str]:
    """The monotonic and the wall-clock (UTC, ISO 8601) time of an entry."""
    return time.monotonic(), datetime.now(UTC).isoformat(timespec="microseconds")


def masked(fields: Mapping[str, str]) -> dict[str, str]:
    """The fields with the password hidden."""
    return {name: MASK if name == "pwd" else value for name, value in fields.items()}


class SandboxLog:
    """A thread-safe, bounded, append-only record of the sandbox's traffic."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._next_index = 0
        self._changed = threading.Condition()

    def next_index(self) -> int:
        """The index the next entry will get (pass it as ``since`` to read only what follows)."""
        with self._changed:
            return self._next_index

    def add_send(self, **values: Any) -> SendEntry:
        """Append a :class:`SendEntry` built from ``values`` (its ``fields`` are masked here)."""
        values["fields"] = masked(values["fields"])
        return self._append(lambda index, now, wall: SendEntry(index, now, wall, **values))

    def add_report(self, **values: Any) -> ReportEntry:
        """Append a :class:`ReportEntry` built from ``values``."""
        return self._append(lambda index, now, wall: ReportEntry(index, now, wall, **values))

    def entries(self, since: int = 0) -> list[Entry]:
        """Every kept entry whose index is ``since`` or later, oldest first."""
        with self._changed:
            first = self._next_index - len(self._entries)
            skip = max(0, since - first)
            return [self._entries[i] for i in range(skip, len(self._entries))]

    def page(self, *, since: int, limit: int) -> tuple[list[Entry], int]:
        """At most ``limit`` entries from index ``since`` on, and the ``since`` that reads what follows."""
        with self._changed:
            entries = self.entries(since)[:limit]
            following = entries[-1].index + 1 if entries else max(since, self._next_index)
            return entries, following

    def sends(self) -> list[SendEntry]:
        """Every send request."""
        return [entry for entry in self.entries() if isinstance(entry, SendEntry)]

    def accepted(self) -> list[SendEntry]:
        """The send requests the provider accepted (R000), answered or not."""
        return [entry for entry in self.sends() if entry.err_code == "R000"]

    def reports(self) -> list[ReportEntry]:
        """Every report delivery attempt."""
        return [entry for entry in self.entries() if isinstance(entry, ReportEntry)]

    def wait_for(self, predicate: Callable[[SandboxLog], bool], *, timeout_s: float) -> bool:
        """Block until ``predicate(self)`` holds or ``timeout_s`` passes; return whether it held."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def clear(self) -> None:
        """Forget every entry (indexes keep counting up)."""
        with self._changed:
            self._entries.clear()
            self._changed.notify_all()

    def _append(self, build: Callable[[int, float, str], E]) -> E:
        monotonic_s, wall_time = now_stamps()
        with self._changed:
            entry = build(self._next_index, monotonic_s, wall_time)
            self._entries.append(entry)
            self._next_index += 1
            self._changed.notify_all()
            return entry
