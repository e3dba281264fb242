"""The task ``supersms.correlate`` on queue ``sms.reports``: apply delivery reports to their messages.

It is triggered promptly by the receiver after each stored report (at most one trigger in flight, see
:func:`trigger_correlation`) and every few seconds by each worker's sweeper, which also retries parked
reports and recovers entries a dead consumer left pending.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import redis

from supersms.tasks.app import app, current_runtime
from supersms.workers import keys
from supersms.workers.correlation import Correlator, Pass

TASK_NAME = "supersms.correlate"
PASS_BUDGET_S = 5.0
TRIGGER_HOLD_MS = 10_000


@app.task(name=TASK_NAME, ignore_result=True)
def correlate() -> dict[str, int]:
    """Apply every report waiting in the stream; return counts by outcome (shown in Flower)."""
    current = current_runtime()
    correlator = Correlator(
        redis_client=current.redis,
        consumer=f"{socket.gethostname()}-{os.getpid()}",
        record_ttl_s=current.settings.record_ttl_s,
        horizon_s=current.settings.report_park_horizon_s,
        call_back=current.outcomes.call_back,
    )
    done = run_until_drained(correlator, current.redis)
    current.metrics.reports_handled(done.outcomes, done.lags_ms)
    return dict(done.outcomes)


def run_until_drained(correlator: Correlator, redis_client: redis.Redis) -> Pass:
    """Run passes until the stream has nothing new; release the trigger before the last look.

    Releasing first and looking once more closes the gap where a report stored just after our last read
    would find the trigger still held and wait for the next sweep.
    """
    try:
        done = correlator.run(budget_s=PASS_BUDGET_S)
    finally:  # a run that failed must not hold the trigger: the next report or sweep starts another
        redis_client.delete(keys.CORRELATE_TRIGGER)
    last = correlator.run(budget_s=PASS_BUDGET_S)
    done.outcomes.update(last.outcomes)
    done.lags_ms += last.lags_ms
    return done


def trigger_correlation(redis_client: redis.Redis, **options: Any) -> bool:
    """Enqueue ``supersms.correlate`` unless a run is already pending; True when one was enqueued."""
    if not redis_client.set(keys.CORRELATE_TRIGGER, "1", nx=True, px=TRIGGER_HOLD_MS):
        return False
    correlate.apply_async(**options)
    return True
