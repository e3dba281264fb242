"""What a drill counts, from what Redis holds and what the sandbox saw (pure: no I/O).

- **lost**: a message that is not final (queued, retrying, submitted, or no record at all), or one whose
  final report the sandbox delivered and our receiver acknowledged but that was never applied to it. A message
  left ``submitted`` because a *stopped* provider never sent its report at all is counted apart
  (``unreported``): nothing reached us to lose.
- **doubled**: a message the sandbox accepted (R000) more than once, counted by the ``ref`` it was sent with
  (our message id), or a final status announced twice for the same message in ``supersms:events``.
- **outcome_unknown**: attempts that may have reached the provider and got no answer (a worker killed
  mid-request, a read timeout). Not a loss: the policy never resends them; their report, when the provider
  sends one, still settles them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

FINAL = frozenset({"delivered", "undelivered", "rejected", "failed"})
REPORTED = frozenset({"delivered", "undelivered"})
UNKNOWN = "outcome_unknown"


@dataclass(frozen=True)
class Acceptance:
    """One send the sandbox accepted: the ``ref`` it came with, the msgid it gave, and whether that
    sandbox still runs (a stopped one sends no more reports)."""

    ref: str
    msgid: str
    provider_running: bool


@dataclass(frozen=True)
class ReportAttempt:
    """One report the sandbox tried to deliver: for which msgid, acknowledged or not, final or not."""

    msgid: str
    acknowledged: bool
    final: bool


@dataclass(frozen=True)
class Evidence:
    """Everything a tally is computed from."""

    ids: Sequence[str]
    records: Mapping[str, Mapping[str, str]]
    """id → its record's ``status`` and ``reason``; a missing id has no record."""
    events: Sequence[tuple[str, str]]
    """(id, status) of every ``supersms:events`` entry."""
    accepted: Sequence[Acceptance]
    reports: Sequence[ReportAttempt]


@dataclass(frozen=True)
class Tally:
    """The counts a drill prints; each set holds message ids."""

    sent: int
    statuses: Counter[str]
    never_final: frozenset[str]
    unapplied_reports: frozenset[str]
    unreported: frozenset[str]
    accepted_twice: frozenset[str]
    applied_twice: frozenset[str]
    unknown: frozenset[str]
    unknown_settled: frozenset[str]

    @property
    def lost(self) -> int:
        return len(self.never_final | self.unapplied_reports)

    @property
    def doubled(self) -> int:
        return len(self.accepted_twice) + len(self.applied_twice)

    @property
    def settled(self) -> bool:
        """Every message final (or left with a stopped provider) and every acknowledged report applied."""
        return self.lost == 0


def tally(evidence: Evidence) -> Tally:
    """Count what was lost, doubled and left unknown among ``evidence.ids``."""
    ids = set(evidence.ids)
    status = {i: evidence.records.get(i, {}).get("status") for i in ids}
    reason = {i: evidence.records.get(i, {}).get("reason") or "" for i in ids}
    sends = _acceptances_by_ref(evidence.accepted, ids)
    attempts = _attempts_by_msgid(evidence.reports)
    acknowledged_final = {
        i
        for i in ids
        if any(a.acknowledged and a.final for send in sends.get(i, ()) for a in attempts.get(send.msgid, ()))
    }
    unreported = {
        i for i in ids if status[i] == "submitted" and _left_with_stopped_provider(sends.get(i, []), attempts)
    }
    times_accepted = Counter({ref: len(found) for ref, found in sends.items()})
    times_announced = Counter(event for event in evidence.events if event[0] in ids)
    unknown = {i for i in ids if reason[i].startswith(UNKNOWN)}
    return Tally(
        sent=len(evidence.ids),
        statuses=Counter(s or "no record" for s in status.values()),
        never_final=frozenset(i for i in ids if status[i] not in FINAL and i not in unreported),
        unapplied_reports=frozenset(i for i in acknowledged_final if status[i] not in REPORTED),
        unreported=frozenset(unreported),
        accepted_twice=frozenset(ref for ref, times in times_accepted.items() if times > 1),
        applied_twice=frozenset(i for (i, _), times in times_announced.items() if times > 1),
        unknown=frozenset(unknown),
        unknown_settled=frozenset(i for i in unknown if status[i] in REPORTED),
    )


def _acceptances_by_ref(accepted: Iterable[Acceptance], ids: set[str]) -> dict[str, list[Acceptance]]:
    found: dict[str, list[Acceptance]] = {}
    for acceptance in accepted:
        if acceptance.ref in ids:
            found.setdefault(acceptance.ref, []).append(acceptance)
    return found


def _attempts_by_msgid(reports: Iterable[ReportAttempt]) -> dict[str, list[ReportAttempt]]:
    found: dict[str, list[ReportAttempt]] = {}
    for attempt in reports:
        found.setdefault(attempt.msgid, []).append(attempt)
    return found


def _left_with_stopped_provider(
    sends: Sequence[Acceptance], attempts: Mapping[str, list[ReportAttempt]]
) -> bool:
    """Accepted only by sandboxes that have stopped, and none of them ever tried to report it."""
    return bool(sends) and all(not send.provider_running and not attempts.get(send.msgid) for send in sends)
