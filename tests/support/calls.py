"""A callable's calls counted across threads, for tests of background threads that call back."""

from __future__ import annotations

import threading

WAIT_S = 5.0  # a bound for what takes milliseconds, so a slow machine never fails a test


class CountedCalls:
    """Counts calls from any thread; :meth:`wait_for` returns once ``count`` calls were made (or times out)."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def record(self) -> int:
        """Count one call; returns its number (1 for the first)."""
        with self._changed:
            self.count += 1
            self._changed.notify_all()
            return self.count

    def wait_for(self, count: int, timeout_s: float = WAIT_S) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.count >= count, timeout_s)
