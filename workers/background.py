"""A daemon thread that loops until asked to stop: the shape of the sweeper and the report watcher.

Stopping comes in two steps so that a worker's shutdown waits for its threads alongside Celery's own close,
not after it: :meth:`request_stop` when the shutdown begins (the loop ends within one of its waits), then
:meth:`stop`, which also waits for the thread to end.
"""

from __future__ import annotations

import threading


class BackgroundThread:
    """Runs :meth:`_run` on a daemon thread named ``name``; ``_run`` loops while :attr:`_stopped` is unset
    and waits on it between rounds, so that a stop ends the wait at once."""

    def __init__(self, name: str, *, longest_wait_s: float) -> None:
        self._stopped = threading.Event()
        self._longest_wait_s = longest_wait_s
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def stopping(self) -> bool:
        """True once a stop was asked for."""
        return self._stopped.is_set()

    def is_alive(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def request_stop(self) -> None:
        """Ask the loop to end after its current round; returns at once."""
        self._stopped.set()

    def stop(self) -> None:
        """Ask the loop to end and wait for it, at most its longest wait and a second."""
        self.request_stop()
        if self.is_alive():
            self._thread.join(timeout=self._longest_wait_s + 1)

    def _run(self) -> None:
        raise NotImplementedError
