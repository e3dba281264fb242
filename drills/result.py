"""A drill's result, and how it is printed: lost and doubled first, then what explains them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from drills.tally import Tally

EXAMPLES = 5


@dataclass
class DrillResult:
    """What one drill found. ``problems`` are failures other than a loss or a double (a timeout, say)."""

    name: str
    title: str
    tally: Tally | None = None
    skipped: str | None = None
    took_s: float = 0.0
    recovery: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    causes: dict[str, str | None] = field(default_factory=dict)
    """lost message id → the known fault that explains it (None: unexplained); see drills.diagnose."""

    @property
    def ok(self) -> bool:
        if self.skipped is not None:
            return True
        return (
            self.tally is not None and self.tally.lost == 0 and self.tally.doubled == 0 and not self.problems
        )

    @property
    def verdict(self) -> str:
        if self.skipped is not None:
            return "skipped"
        return "ok" if self.ok else "FAILED"


def tally_lines(tally: Tally, *, unknown_means: str) -> list[str]:
    """The printed counts: ``unknown_means`` says why attempts ended outcome_unknown in this drill."""
    lines = [
        f"sent {tally.sent} · lost {tally.lost} · doubled {tally.doubled}",
        f"  lost: never final {len(tally.never_final)}, "
        f"reports acknowledged by the receiver but never applied {len(tally.unapplied_reports)}",
        f"  doubled: accepted more than once by the provider {len(tally.accepted_twice)}, "
        f"final status announced twice in supersms:events {len(tally.applied_twice)}",
        "  statuses: " + ", ".join(f"{status} {count}" for status, count in sorted(tally.statuses.items())),
        f"  attempts ended failed/outcome_unknown: {len(tally.unknown)} ({unknown_means}; never resent), "
        f"of them settled later by their report: {len(tally.unknown_settled)}",
    ]
    if tally.unreported:
        lines.append(
            f"  left submitted: {len(tally.unreported)} accepted by the stopped sandbox, which dropped their "
            "reports unsent (nothing reached us to lose)"
        )
    lines += _examples("never final", tally.never_final)
    lines += _examples("report not applied", tally.unapplied_reports)
    lines += _examples("accepted twice", tally.accepted_twice)
    lines += _examples("announced twice", tally.applied_twice)
    return lines


def summary_lines(results: Iterable[DrillResult]) -> list[str]:
    """One line per drill: name, verdict, lost, doubled, time taken."""
    lines = [f"{'drill':<22} {'verdict':<8} {'lost':>5} {'doubled':>8} {'took':>8}"]
    for result in results:
        lost = str(result.tally.lost) if result.tally else "-"
        doubled = str(result.tally.doubled) if result.tally else "-"
        lines.append(
            f"{result.name:<22} {result.verdict:<8} {lost:>5} {doubled:>8} {result.took_s:>7.1f}s"
            + (f"  ({result.skipped})" if result.skipped else "")
        )
    return lines


def _examples(what: str, ids: frozenset[str]) -> list[str]:
    if not ids:
        return []
    shown = ", ".join(sorted(ids)[:EXAMPLES])
    return [f"  {what}: {shown}" + (" …" if len(ids) > EXAMPLES else "")]
