"""The worker's lifecycle hooks: pools sized for the tasks it runs at once; background threads that stop as soon
as a shutdown begins, not after Celery has closed its broker connection (which itself waits up to a second for
a ``BRPOP`` in flight); the last second's metrics flushed at the end."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from celery.signals import celeryd_after_setup, worker_shutdown, worker_shutting_down

from supersms.settings import Settings
from supersms.tasks import lifecycle
from supersms.workers import runtime
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


@pytest.mark.parametrize(
    ("concurrency", "max_concurrency", "sized_for"),
    [(8, None, 8), (2, 10, 10)],
    ids=["-c 8", "--autoscale 10,2"],
)
def test_the_pools_are_sized_for_the_most_tasks_the_worker_runs_at_once(
    monkeypatch, concurrency, max_concurrency, sized_for
):
    monkeypatch.setattr(runtime, "_worker_concurrency", None)
    worker = SimpleNamespace(concurrency=concurrency, max_concurrency=max_concurrency)
    celeryd_after_setup.send(sender="w1@host", instance=worker, conf=None)
    assert runtime._for_this_worker(Settings(worker_concurrency=32)).worker_concurrency == sized_for


def test_the_last_seconds_metrics_are_flushed_when_the_worker_shuts_down(monkeypatch):
    flushed = []
    current = SimpleNamespace(metrics=SimpleNamespace(flush=lambda: flushed.append(True)))
    monkeypatch.setattr(lifecycle, "_running", [])
    monkeypatch.setattr(lifecycle, "current_runtime", lambda: current)
    worker_shutdown.send(sender=None)
    assert flushed == [True]
