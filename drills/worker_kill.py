"""A send worker SIGKILLed mid-batch, twice; and a correlation worker SIGKILLed mid-batch.

What must happen: a killed send worker's in-flight attempts end ``failed``/``outcome_unknown`` once their
claims go stale (``SUPERSMS_STALE_CLAIM``), and their reports still settle them; its reserved tasks come back
after the visibility timeout and find their messages done. A killed correlation worker's pending stream
entries are reclaimed by another consumer and each report is applied once.
"""

from __future__ import annotations

from pathlib import Path

from drills.observe import Observer, wait_for
from drills.producer import enqueue
from drills.result import DrillResult
from drills.settle import settle
from drills.stack import QUICK_REPORTS, Stack, running_stack
from drills.timeline import Timeline

SEND_COUNT = 300
SEND_LATENCY_S = 0.2
"""The sandbox's answer time: long enough that a kill always finds requests in flight."""
KILL_AT_ACCEPTED = (60, 150)
CORRELATION_COUNT = 400
KILL_AT_DELIVERED = 50
MID_BATCH_WAIT_S = 20.0
WAIT_S = 60.0


def accepted(stack: Stack) -> int:
    """Send requests the sandboxes accepted so far."""
    return sum(len(sandbox.log.accepted()) for sandbox in stack.providers)


def send_worker_killed_twice(workdir: Path, timeline: Timeline, result: DrillResult) -> None:
    with running_stack(workdir, timeline) as stack:
        stack.start_receiver()
        stack.start_provider(latency_s=SEND_LATENCY_S, **QUICK_REPORTS)
        stack.start_worker("w1", concurrency=8)
        ids = enqueue(stack, SEND_COUNT, label="worker-kill")
        observer = Observer(stack, ids)
        try:
            victims = [("w1", "w2"), ("w2", "w3")]
            for (victim, successor), at in zip(victims, KILL_AT_ACCEPTED, strict=True):
                _wait_accepted(stack, at)
                stack.kill_worker(victim)
                killed_at_s = timeline.elapsed_s()
                timeline.say(f"  at the kill: {accepted(stack)} of {SEND_COUNT} accepted by the provider")
                stack.start_worker(successor, concurrency=8)
            settle(
                observer,
                result,
                since_s=killed_at_s,
                since_what="the second kill",
                unknown_means="requests in flight when their worker was killed",
            )
        finally:
            observer.close()


def correlation_worker_killed(workdir: Path, timeline: Timeline, result: DrillResult) -> None:
    with running_stack(workdir, timeline) as stack:
        stack.start_receiver()
        stack.start_provider(**QUICK_REPORTS)
        stack.start_worker("sender", concurrency=16, queues="sms.send")
        stack.start_worker("correlator", concurrency=4, queues="sms.reports")
        ids = enqueue(stack, CORRELATION_COUNT, label="correlation-kill")
        observer = Observer(stack, ids)
        try:
            if not wait_for(lambda: observer.count({"delivered"}) >= KILL_AT_DELIVERED, timeout_s=WAIT_S):
                raise TimeoutError(f"fewer than {KILL_AT_DELIVERED} delivered after {WAIT_S:g} s")
            # Mid-batch: reports read by the correlator and not yet acknowledged (else kill it anyway).
            wait_for(lambda: observer.pending_reports() > 0, timeout_s=MID_BATCH_WAIT_S, poll_s=0.002)
            pending = observer.pending_reports()
            stack.kill_worker("correlator")
            killed_at_s = timeline.elapsed_s()
            timeline.say(
                f"  at the kill: {observer.count({'delivered'})} of {CORRELATION_COUNT} delivered, "
                f"{pending} reports read by the correlator and not yet acknowledged"
            )
            stack.start_worker("survivor", concurrency=4, queues="sms.reports")
            settle(
                observer,
                result,
                since_s=killed_at_s,
                since_what="the kill",
                unknown_means="read timeouts on a loaded machine",
            )
        finally:
            observer.close()


def _wait_accepted(stack: Stack, count: int) -> None:
    if not wait_for(lambda: accepted(stack) >= count, timeout_s=WAIT_S, poll_s=0.05):
        raise TimeoutError(f"fewer than {count} sends accepted after {WAIT_S:g} s")
