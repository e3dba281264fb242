"""The provider refusing connections for 10 s, then answering slower than the read timeout.

Refusal: the sandbox stops (its port refuses connections) and a new one starts on the same port 10 s later.
Attempts meet ``ProviderUnreachable`` (the request provably never left), wait as ``retrying`` and go through
once the provider is back. Slowness: the sandbox takes the request, then answers after more than
``SUPERSMS_READ_TIMEOUT``; those attempts end ``failed``/``outcome_unknown`` and are never resent, and the
provider's reports still settle them.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from drills.observe import Observer, wait_for
from drills.producer import enqueue
from drills.result import DrillResult
from drills.settle import settle
from drills.stack import QUICK_REPORTS, Stack, running_stack
from drills.timeline import Timeline
from drills.worker_kill import accepted

REFUSAL_COUNT = 120
STOP_AT_ACCEPTED = 30
REFUSED_S = 10.0
SLOW_COUNT = 20
SLOW_LATENCY_S = 2.0
"""Twice the drill's SUPERSMS_READ_TIMEOUT (1 s)."""
WAIT_S = 60.0
ENV = {
    # Paced, so the refusal starts mid-batch; a budget that outlasts 10 s of refusals at these backoffs.
    "SUPERSMS_RATE_LIMIT": "20",
    "SUPERSMS_MAX_ATTEMPTS": "20",
}


def provider_refusing_then_slow(workdir: Path, timeline: Timeline, result: DrillResult) -> None:
    with running_stack(workdir, timeline, env=ENV) as stack:
        stack.start_receiver()
        sandbox = stack.start_provider(**QUICK_REPORTS)
        stack.start_worker("w1", concurrency=8)
        ids = enqueue(stack, REFUSAL_COUNT, label="provider-refusing")
        observer = Observer(stack, ids)
        try:
            if not wait_for(lambda: accepted(stack) >= STOP_AT_ACCEPTED, timeout_s=WAIT_S, poll_s=0.05):
                raise TimeoutError(f"fewer than {STOP_AT_ACCEPTED} sends accepted after {WAIT_S:g} s")
            stack.stop_provider()
            time.sleep(REFUSED_S)  # the refusal itself
            timeline.say(f"after {REFUSED_S:g} s of refusals: {_waiting(observer)}")
            stack.start_provider(port=sandbox.port, **QUICK_REPORTS)
            back_at_s = timeline.elapsed_s()
            timeline.say(f"a new sandbox listens on port {sandbox.port} again")
            settle(
                observer,
                result,
                since_s=back_at_s,
                since_what="the provider's return",
                unknown_means="requests cut off when the provider stopped",
            )
            _slow_phase(stack, observer, result)
        finally:
            observer.close()


def _slow_phase(stack: Stack, observer: Observer, result: DrillResult) -> None:
    timeline = stack.timeline
    stack.provider.set_faults(latency_s=SLOW_LATENCY_S)
    timeline.say(f"the sandbox now answers after {SLOW_LATENCY_S:g} s (read timeout 1 s)")
    slow_ids = enqueue(stack, SLOW_COUNT, label="provider-slow")
    observer.ids += slow_ids
    started_at_s = timeline.elapsed_s()
    settle(
        observer,
        result,
        since_s=started_at_s,
        since_what="the slow sends were enqueued",
        unknown_means="refusal cut-offs and read timeouts",
    )
    sends = Counter(entry.fields.get("ref") for sandbox in stack.providers for entry in sandbox.log.sends())
    reasons = observer.field("reason", slow_ids).values()
    unknown = sum((reason or "").startswith("outcome_unknown") for reason in reasons)
    most = max((sends[i] for i in slow_ids), default=0)
    timeline.note(
        f"  slow phase: {SLOW_COUNT} sent, {unknown} ended outcome_unknown on the read timeout; send requests "
        f"per message at most {most} (never resent)"
    )
    if most > 1:
        result.problems.append(f"a message timed out on read was sent {most} times")


def _waiting(observer: Observer) -> str:
    statuses = Counter(observer.statuses().values())
    reasons = Counter(observer.field("reason").values())
    return (
        f"{statuses['retrying']} retrying ({reasons['unreachable']} for 'unreachable'), "
        f"{statuses['queued']} queued, {statuses['submitted'] + statuses['delivered']} submitted or delivered"
    )
