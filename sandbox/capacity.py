"""The provider's capacity: how many sends it admits in any sliding second."""

from __future__ import annotations

import threading
from collections import deque

WINDOW_S = 1.0


class SlidingWindow:
    """Admit at most ``limit`` events in any ``WINDOW_S``; refused events do not count against later ones."""

    def __init__(self) -> None:
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self, *, now_s: float, limit: int | None) -> bool:
        """Record and allow one event at monotonic ``now_s``, unless ``limit`` were already admitted."""
        with self._lock:
            while self._admitted and self._admitted[0] <= now_s - WINDOW_S:
                self._admitted.popleft()
            if limit is not None and len(self._admitted) >= limit:
                return False
            self._admitted.append(now_s)
            return True

    def clear(self) -> None:
        """Forget every admitted event."""
        with self._lock:
            self._admitted.clear()
