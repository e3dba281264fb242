"""The receiver with Redis down for 30 s while reports arrive.

Every message is submitted first; then Redis stops and the sandbox calls the reports back while it is away.
What must happen: the receiver makes each report durable in its spool (fsynced) and answers 200; once Redis
is back it replays the spool, and correlation applies every report exactly once.
"""

from __future__ import annotations

import time
from pathlib import Path

from drills.observe import Observer, wait_for
from drills.producer import enqueue
from drills.redis_outage import spool_replayed
from drills.result import DrillResult
from drills.settle import settle
from drills.stack import Stack, redis_pid, running_stack
from drills.timeline import Timeline

COUNT = 200
REPORT_DELAY_S = 6.0
"""Reports are called back this long after acceptance: by then every message is submitted and Redis is down."""
DOWN_S = 30.0
WAIT_S = 60.0


def receiver_with_redis_down(workdir: Path, timeline: Timeline, result: DrillResult) -> None:
    with running_stack(workdir, timeline, appendonly=True) as stack:
        stack.start_receiver()
        stack.start_provider(report_delay_s=REPORT_DELAY_S, report_retry_delay_s=0.2)
        stack.start_worker("w1", concurrency=16)
        ids = enqueue(stack, COUNT, label="receiver-outage")
        observer = Observer(stack, ids)
        try:
            if not wait_for(lambda: observer.count({"submitted"}) == COUNT, timeout_s=WAIT_S):
                raise TimeoutError(f"not every message submitted after {WAIT_S:g} s")
            timeline.say(f"all {COUNT} submitted; report calls made so far: {_attempts(stack, 0.0)}")
            pid = redis_pid(stack.redis)
            stack.redis.stop()
            down_from = time.monotonic()
            timeline.say(f"redis pid {pid} stopped; it stays down {DOWN_S:g} s while the reports arrive")
            time.sleep(DOWN_S)  # the outage itself
            during = _attempts(stack, down_from)
            acknowledged = _attempts(stack, down_from, acknowledged=True)
            stack.redis.start()
            restarted_at_s = timeline.elapsed_s()
            timeline.say(
                f"redis restarted (pid {redis_pid(stack.redis)}); while it was down the sandbox made {during} "
                f"report calls and the receiver acknowledged {acknowledged} of them (spooled, fsynced)"
            )
            if acknowledged < during:
                result.problems.append(f"{during - acknowledged} report calls refused while Redis was down")
            settle(
                observer,
                result,
                since_s=restarted_at_s,
                since_what="the restart",
                unknown_means="read timeouts on a loaded machine",
            )
            timeline.note(f"  the receiver replayed {spool_replayed(stack)} spooled reports into Redis")
        finally:
            observer.close()


def _attempts(stack: Stack, since: float, *, acknowledged: bool = False) -> int:
    """Report calls the sandbox made since ``since`` (monotonic), only the acknowledged ones if asked."""
    return sum(
        1
        for sandbox in stack.providers
        for entry in sandbox.log.reports()
        if entry.monotonic_s >= since and (entry.delivered or not acknowledged)
    )
