"""Run callables later, on a small pool of worker threads, earliest first."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 5.0


class Scheduler:
    """A heap of due times served by ``workers`` daemon threads; jobs waiting at :meth:`stop` are dropped."""

    def __init__(self, *, workers: int, name: str = "sandbox-scheduler") -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._ready = threading.Condition()
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True) for n in range(workers)
        ]

    def start(self) -> None:
        """Start the worker threads."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Drop the waiting jobs, let running ones finish, and join the workers."""
        with self._ready:
            self._stopped = True
            self._heap.clear()
            self._ready.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(JOIN_TIMEOUT_S)

    def call_later(self, delay_s: float, job: Callable[[], None]) -> None:
        """Run ``job`` on a worker once ``delay_s`` has passed (jobs due together run in the order given)."""
        with self._ready:
            if self._stopped:
                return
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._sequence), job))
            self._ready.notify()

    def clear(self) -> None:
        """Drop every job still waiting."""
        with self._ready:
            self._heap.clear()

    def pending(self) -> int:
        """How many jobs wait for their time or a free worker."""
        with self._ready:
            return len(self._heap)

    def _next_job(self) -> Callable[[], None] | None:
        with self._ready:
            while not self._stopped:
                if not self._heap:
                    self._ready.wait()
                    continue
                wait_s = self._heap[0][0] - time.monotonic()
                if wait_s <= 0:
                    return heapq.heappop(self._heap)[2]
                self._ready.wait(wait_s)
            return None

    def _work(self) -> None:
        while (job := self._next_job()) is not None:
            try:
                job()
            except Exception:
                # One broken job must not take a worker, and every later report, down with it.
                logger.exception("sandbox scheduled job failed")
