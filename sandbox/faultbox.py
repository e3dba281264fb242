"""The sandbox's current faults, shared by every request thread and changed while it runs."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from supersms.sandbox.capacity import SlidingWindow
from supersms.sandbox.faults import Faults


class FaultBox:
    """Hold the current :class:`Faults`; consume the script one send at a time; count capacity."""

    def __init__(self, initial: Faults) -> None:
        self._initial = initial
        self._faults = initial
        self._lock = threading.Lock()
        self._window = SlidingWindow()

    def current(self) -> Faults:
        """The faults in force now (``script`` shows what is left of it)."""
        with self._lock:
            return self._faults

    def update(self, changes: Mapping[str, Any]) -> Faults:
        """Apply ``changes`` (validated by :meth:`Faults.merged`) and return the result."""
        with self._lock:
            self._faults = self._faults.merged(changes)
            return self._faults

    def reset(self) -> Faults:
        """Return to the faults the sandbox started with, and forget the capacity window."""
        with self._lock:
            self._faults = self._initial
        self._window.clear()
        return self._initial

    def take_scripted(self) -> str | None:
        """Pop the next scripted err_code, or ``None`` when the script is empty."""
        with self._lock:
            if not self._faults.script:
                return None
            code, *rest = self._faults.script
            self._faults = self._faults.merged({"script": rest})
            return code

    def admit(self, now_s: float) -> bool:
        """Count one send at monotonic ``now_s``; ``False`` when it is above ``capacity_per_s``."""
        return self._window.admit(now_s=now_s, limit=self.current().capacity_per_s)
