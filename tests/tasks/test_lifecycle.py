"""The worker's background threads stop as soon as a shutdown begins, not after Celery has closed its broker
connection (which itself waits up to a second for a ``BRPOP`` in flight)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.signals import worker_shutdown, worker_shutting_down

from supersms.tasks import lifecycle
from supersms.workers.report_watch import BLOCK_MS, ReportWatcher
from tests.support.processes import wait_until


@pytest.fixture
def watcher(redis_client, monkeypatch) -> Iterator[ReportWatcher]:
    """A running report watcher, blocked on the stream, as the only background thread of this process."""
    running = ReportWatcher(redis_client=redis_client, trigger=lambda: None)
    monkeypatch.setattr(lifecycle, "_running", [running])
    running.start()
    yield running
    running.stop()


def test_when_a_shutdown_begins_the_background_threads_are_asked_to_stop(watcher):
    worker_shutting_down.send(sender="w1@host", sig="SIGTERM", how="Warm", exitcode=0)
    assert watcher.stopping
    wait_until(lambda: not watcher.is_alive(), timeout_s=BLOCK_MS / 1000 + 5, what="the watcher to end")


def test_at_the_end_of_a_shutdown_the_background_threads_have_ended(watcher):
    worker_shutdown.send(sender=None)
    assert watcher.stopping and not watcher.is_alive()
    assert lifecycle._running == []
