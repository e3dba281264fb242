"""What a drill prints as it goes: each line stamped with the seconds since the drill started."""

from __future__ import annotations

import time
from typing import TextIO


class Timeline:
    """Prints ``[  12.3 s] what happened`` lines to ``out`` and remembers when things happened."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._started_s = time.monotonic()

    def elapsed_s(self) -> float:
        """Seconds since the drill started."""
        return time.monotonic() - self._started_s

    def say(self, text: str) -> None:
        """One stamped line."""
        self._out.write(f"  [{self.elapsed_s():6.1f} s] {text}\n")
        self._out.flush()

    def note(self, text: str) -> None:
        """One unstamped line (explanations, results)."""
        self._out.write(f"  {text}\n")
        self._out.flush()
