"""Worker lifecycle hooks: size the connection pools for the worker's concurrency once it is set up; start the
sweeper and the report watcher when it is ready; ask them to stop as soon as a shutdown begins, so that they
end while Celery closes its broker connection (which waits up to a second for a ``BRPOP`` in flight), and wait
for them (and flush the metrics) at the end of it."""

from __future__ import annotations

from typing import Any

from celery.signals import celeryd_after_setup, worker_ready, worker_shutdown, worker_shutting_down

from supersms.tasks.app import app, current_runtime
from supersms.tasks.correlate import trigger_correlation
from supersms.tasks.queues import waiting_tasks
from supersms.tasks.send import enqueue_attempt
from supersms.workers.background import BackgroundThread
from supersms.workers.redis_io import connect
from supersms.workers.report_watch import ReportWatcher
from supersms.workers.runtime import adopt_worker_concurrency
from supersms.workers.sweeper import Sweeper

_running: list[BackgroundThread] = []


@celeryd_after_setup.connect
def _size_pools_for_worker(instance: Any, **_: Any) -> None:
    """Size the connection pools for the tasks this worker runs at once (``-c``, or the ``--autoscale``
    maximum). Runs once the worker has settled its pool size: before ``worker_ready`` builds the runtime,
    before any task, before a prefork pool forks."""
    adopt_worker_concurrency(getattr(instance, "max_concurrency", None) or instance.concurrency)


@worker_ready.connect
def _start_background_threads(**_: Any) -> None:
    current = current_runtime()

    def trigger() -> bool:
        return trigger_correlation(current.redis)

    # The watcher blocks on its own connection, so the shared pool never waits behind it.
    watch_client = connect(current.settings.redis_url, max_connections=1)
    sweeper = Sweeper(
        runtime=current,
        trigger_correlation=trigger,
        send_queue_empty=lambda: waiting_tasks(app) == 0,
        republish=_republish,
    )
    _running.append(sweeper)
    _running.append(ReportWatcher(redis_client=watch_client, trigger=trigger))
    for thread in _running:
        thread.start()


def _republish(message_ids: list[str]) -> None:
    with app.producer_or_acquire() as producer:
        for message_id in message_ids:
            enqueue_attempt(message_id, producer=producer)


@worker_shutting_down.connect
def _begin_stopping_background_threads(**_: Any) -> None:
    for thread in _running:
        thread.request_stop()


@worker_shutdown.connect
def _stop_background_threads(**_: Any) -> None:
    while _running:
        _running.pop().stop()
    current_runtime().metrics.flush()  # the counts of the last second
