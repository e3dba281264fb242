"""Progress while messages move: a bar redrawn in place on a terminal, a line every second elsewhere."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TextIO

from supersms.workers.records import FINAL_STATUSES, Status

BAR_WIDTH = 30
LINE_INTERVAL_S = 1.0
"""How often a line is printed when the output is not a terminal (a log, a pipe)."""
MOVING = (Status.QUEUED, Status.RETRYING, Status.SUBMITTED)


def render_bar(done: int, total: int, *, width: int = BAR_WIDTH) -> str:
    """``[#####.....]``: ``done`` of ``total`` as filled cells (full only when all are done)."""
    filled = width if total and done >= total else (width * done // total if total else 0)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def progress_line(counts: Mapping[str, int], *, total: int, elapsed_s: float) -> str:
    """One line: the bar, final of total, how many wait in each moving status, the time so far."""
    final = sum(count for status, count in counts.items() if status in FINAL_STATUSES)
    moving = " · ".join(f"{counts.get(status, 0)} {status}" for status in MOVING)
    width = len(str(total))
    return f"{render_bar(final, total)} {final:>{width}}/{total} final · {moving} · {elapsed_s:5.1f} s"


class Progress:
    """Shows :func:`progress_line` on ``stream``: in place on a terminal, else at most once a second."""

    def __init__(self, stream: TextIO, *, total: int) -> None:
        self._stream = stream
        self._total = total
        self._tty = stream.isatty()
        self._started = time.monotonic()
        self._last_line_at = float("-inf")
        self._last = ""
        self._printed = ""

    def update(self, counts: Mapping[str, int]) -> None:
        """Show the current counts (a terminal every call; otherwise when a second has passed)."""
        now = time.monotonic()
        self._last = progress_line(counts, total=self._total, elapsed_s=now - self._started)
        if self._tty:
            self._stream.write("\r" + self._last + "\x1b[K")
            self._stream.flush()
        elif now - self._last_line_at >= LINE_INTERVAL_S:
            self._print_line(now)

    def finish(self) -> None:
        """End the bar's line on a terminal, or print the last state elsewhere."""
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()
        elif self._last != self._printed:
            self._print_line(time.monotonic())

    def _print_line(self, now: float) -> None:
        print(self._last, file=self._stream, flush=True)
        self._printed = self._last
        self._last_line_at = now
