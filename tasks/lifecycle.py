"""Worker lifecycle hooks: start the sweeper when a worker is ready, stop it at shutdown."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready, worker_shutdown

from supersms.tasks.app import current_runtime
from supersms.tasks.correlate import trigger_correlation
from supersms.workers.sweeper import Sweeper

_sweepers: list[Sweeper] = []


@worker_ready.connect
def _start_sweeper(**_: Any) -> None:
    current = current_runtime()
    sweeper = Sweeper(runtime=current, trigger_correlation=lambda: trigger_correlation(current.redis))
    sweeper.start()
    _sweepers.append(sweeper)


@worker_shutdown.connect
def _stop_sweeper(**_: Any) -> None:
    while _sweepers:
        _sweepers.pop().stop()
