"""Worker lifecycle hooks: start the sweeper and the report watcher when a worker is ready; stop them at shutdown."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready, worker_shutdown

from supersms.tasks.app import current_runtime
from supersms.tasks.correlate import trigger_correlation
from supersms.workers.redis_io import connect
from supersms.workers.report_watch import ReportWatcher
from supersms.workers.sweeper import Sweeper

_running: list[Sweeper | ReportWatcher] = []


@worker_ready.connect
def _start_background_threads(**_: Any) -> None:
    current = current_runtime()

    def trigger() -> bool:
        return trigger_correlation(current.redis)

    # The watcher blocks on its own connection, so the shared pool never waits behind it.
    watch_client = connect(current.settings.redis_url, max_connections=1)
    _running.append(Sweeper(runtime=current, trigger_correlation=trigger))
    _running.append(ReportWatcher(redis_client=watch_client, trigger=trigger))
    for thread in _running:
        thread.start()


@worker_shutdown.connect
def _stop_background_threads(**_: Any) -> None:
    while _running:
        _running.pop().stop()
