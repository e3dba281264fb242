"""The watcher that wakes correlation when a report lands, against a real Redis stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from supersms.workers import keys
from supersms.workers.redis_io import connect
from supersms.workers.report_watch import ReportWatcher
from tests.support.calls import WAIT_S, CountedCalls


class Triggers(CountedCalls):
    """Counts the watcher's calls; the first one blocks until :meth:`release`, as a slow broker would."""

    def __init__(self) -> None:
        super().__init__()
        self._released = threading.Event()

    def __call__(self) -> None:
        self.record()
        self._released.wait(WAIT_S)

    def release(self) -> None:
        self._released.set()


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return connect(redis_url)


@pytest.fixture
def triggers(client: redis.Redis) -> Iterator[Triggers]:
    calls = Triggers()
    watcher = ReportWatcher(redis_client=client, trigger=calls)
    watcher.start()
    yield calls
    calls.release()
    watcher.stop()


def add_report(client: redis.Redis, n: int) -> None:
    client.xadd(keys.REPORTS, {"query": f"msgid={n}", "received_ms": "0", "source": "127.0.0.1"})


def until_first_trigger(client: redis.Redis, triggers: Triggers) -> None:
    """Add reports until one wakes the watcher (it watches only for entries after its first read)."""
    for n in range(50):
        add_report(client, n)
        if triggers.wait_for(1, timeout_s=0.1):
            return
    pytest.fail("the watcher never woke")


def test_a_report_added_while_the_trigger_runs_wakes_correlation_again(
    client: redis.Redis, triggers: Triggers
) -> None:
    until_first_trigger(client, triggers)
    add_report(client, 100)  # lands while the first trigger is still being published
    triggers.release()
    assert triggers.wait_for(2), "the report that came meanwhile was seen"
