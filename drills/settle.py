"""The end of every drill: wait for the system to recover, wait for the broker to go quiet, count."""

from __future__ import annotations

from drills.diagnose import known_causes, lost_lines, unhealthy_workers
from drills.observe import Observer
from drills.result import DrillResult, tally_lines

SETTLE_TIMEOUT_S = 60.0
QUIET_TIMEOUT_S = 60.0
"""Longer than the drills' visibility timeout (20 s) plus kombu's restore sweep (5 s), with room to spare."""


def settle(
    observer: Observer,
    result: DrillResult,
    *,
    since_s: float,
    since_what: str,
    unknown_means: str,
    settle_timeout_s: float = SETTLE_TIMEOUT_S,
    redis_broker: bool = True,
) -> None:
    """Wait until nothing is lost, then until no task is left anywhere in the broker; record the tally.

    ``since_s`` (on the drill's timeline) is when the fault ended: recovery is measured from there.
    """
    timeline = observer.stack.timeline
    _, waited_s = observer.wait_settled(timeout_s=settle_timeout_s)
    if waited_s is None:
        result.problems.append(f"not settled within {settle_timeout_s:g} s")
        timeline.say(f"NOT settled within {settle_timeout_s:g} s")
    else:
        recovery_s = timeline.elapsed_s() - since_s
        result.recovery.append(f"{recovery_s:.1f} s from {since_what} to every message final")
        timeline.say(
            f"every message final, every acknowledged report applied ({recovery_s:.1f} s after {since_what})"
        )
    quiet_s = observer.wait_quiet(timeout_s=QUIET_TIMEOUT_S) if redis_broker else 0.0
    if not redis_broker:
        pass
    elif quiet_s is None:
        result.problems.append(f"tasks still in the broker after {QUIET_TIMEOUT_S:g} s")
        timeline.say(f"tasks still in the broker after {QUIET_TIMEOUT_S:g} s")
    else:
        timeline.say(
            f"broker quiet: no task queued or handed out unacknowledged, after another {quiet_s:.1f} s"
        )
    result.tally = observer.tally()
    if result.tally is None:
        result.problems.append("Redis did not answer for the final count")
        return
    for line in tally_lines(result.tally, unknown_means=unknown_means):
        timeline.note(line)
    lost = result.tally.never_final | result.tally.unapplied_reports
    for line in lost_lines(observer.stack, lost):
        timeline.note(f"  lost: {line}")
    result.causes = known_causes(observer.stack, lost)
    for trouble in unhealthy_workers(observer.stack):
        timeline.note(f"  WARNING: {trouble}")
