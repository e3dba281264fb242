"""The sweep each worker runs in the background: vanished workers' claims ended, lost tasks sent again."""

from __future__ import annotations

import time
from typing import Any

from supersms.sandbox.service import Sandbox
from supersms.workers import keys
from supersms.workers.runtime import Runtime
from supersms.workers.sweeper import Sweeper
from tests.support.worker_runtime import queue_message
from tests.workers.conftest import RuntimeFor

STALE_CLAIM_S = 0.2


class Calls:
    """What the sweep asked of the worker around it: correlation runs and tasks published again."""

    def __init__(self, *, send_queue_empty: bool = True) -> None:
        self.correlations = 0
        self.republished: list[str] = []
        self.send_queue_empty = send_queue_empty

    def sweeper(self, runtime: Runtime) -> Sweeper:
        return Sweeper(
            runtime=runtime,
            trigger_correlation=self._correlate,
            send_queue_empty=lambda: self.send_queue_empty,
            republish=self.republished.extend,
        )

    def _correlate(self) -> None:
        self.correlations += 1


def vanished_worker_claims(runtime: Runtime, message_id: str) -> None:
    """Take the message's claim as a worker would right before its provider call, and never settle it."""
    assert runtime.store.begin(message_id, "vanished", rate_args=[0, 0, 0]).step == "claimed"


def test_a_claim_older_than_the_stale_limit_ends_unknown_announced_and_called_back(
    runtime_for: RuntimeFor, sandbox: Sandbox, callbacks: list[dict[str, Any]]
) -> None:
    runtime = runtime_for(sandbox.url, stale_claim_s=STALE_CLAIM_S)
    queue_message(runtime, "old01", on_final="{}")
    queue_message(runtime, "new01", on_final="{}")
    vanished_worker_claims(runtime, "old01")
    time.sleep(STALE_CLAIM_S + 0.1)
    vanished_worker_claims(runtime, "new01")
    calls = Calls()

    assert calls.sweeper(runtime).sweep_once() == ["old01"]
    runtime.metrics.flush()

    old = runtime.store.load("old01")
    assert (old["status"], old["reason"]) == ("failed", "outcome_unknown")
    assert runtime.store.load("new01")["claim"] == "vanished", "a claim younger than the limit stays"
    assert [(record["id"], record["status"]) for record in callbacks] == [("old01", "failed")]
    assert [event["id"] for _, event in runtime.redis.xrange(keys.EVENTS)] == ["old01"]
    assert runtime.redis.hget(keys.METRICS_MESSAGES, "failed") == "1"
    assert calls.correlations == 1


def test_one_worker_sweeps_per_interval(runtime_for: RuntimeFor, sandbox: Sandbox) -> None:
    runtime = runtime_for(sandbox.url, stale_claim_s=STALE_CLAIM_S)
    first, second = Calls(), Calls()

    first.sweeper(runtime).sweep_once()
    second.sweeper(runtime).sweep_once()

    assert (first.correlations, second.correlations) == (1, 0)


def test_lost_tasks_are_published_again_only_once_the_send_queue_has_drained(
    worker_runtime: Runtime,
) -> None:
    queue_message(worker_runtime, "lost01")
    worker_runtime.redis.zadd(keys.DUE, {"lost01": 0})  # due since long before any redelivery
    backlog, drained = Calls(send_queue_empty=False), Calls()

    backlog.sweeper(worker_runtime).sweep_once()
    worker_runtime.redis.delete(keys.SWEEP_LOCK)
    drained.sweeper(worker_runtime).sweep_once()

    assert (backlog.republished, drained.republished) == ([], ["lost01"])
