"""The demo's subprocesses: ``python -m supersms ...``, each the leader of its own process group.

A child of its own group does not get the terminal's Ctrl-C: the demo decides the order things stop in.
Stopping asks the leader by its pid (SIGTERM: Celery's warm shutdown, gunicorn's graceful one, which stop
their own workers), then, once it has exited or its grace has run out, SIGKILLs the group whose id is that
same pid, so no grandchild (a gunicorn worker, say) outlives it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

STOP_GRACE_S = 10.0
KILL_WAIT_S = 5.0


def supersms_argv(args: list[str]) -> list[str]:
    """``python -m supersms ARGS`` with this interpreter."""
    return [sys.executable, "-m", "supersms", *args]


class Child:
    """One subprocess, the leader of its own process group, whose output goes to ``log_path``."""

    def __init__(
        self, role: str, argv: list[str], *, env: Mapping[str, str], log_path: Path, cwd: Path | None = None
    ) -> None:
        self.role = role
        self.log_path = log_path
        with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
            self.popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def last_log_line(self) -> str:
        """The last non-empty line the child wrote (why it failed, usually), or a note that it wrote none."""
        lines = [line.strip() for line in self.log_text().splitlines() if line.strip()]
        return lines[-1] if lines else "(no output)"

    def terminate(self) -> None:
        """Ask the leader to stop (SIGTERM by pid); a child already gone is left alone."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)

    def reap(self, *, deadline: float) -> None:
        """Wait for the leader until ``deadline`` (monotonic), then SIGKILL whatever is left of its group."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=KILL_WAIT_S)


def stop_all(children: Iterable[Child], *, grace_s: float = STOP_GRACE_S) -> None:
    """Stop every child together: all are asked at once, and all share one grace period."""
    stopping = list(children)
    for child in stopping:
        child.terminate()
    deadline = time.monotonic() + grace_s
    for child in stopping:
        child.reap(deadline=deadline)
