"""Subprocesses of the benchmarks, each the leader of its own process group, always stopped by their pid.

Stopping asks the leader (SIGTERM), then, once it has exited or its grace has run out, SIGKILLs the group whose
id is that same pid, so no grandchild (a gunicorn worker, say) outlives it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from bench.measure import cpu_s, descendants, rss_mb, voluntary_switches
from supersms.demo.children import Child

if TYPE_CHECKING:
    from bench.common import Lab

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 15.0
POLL_S = 0.05


class BenchError(Exception):
    """A benchmark could not run (a part did not start, a run did not finish in time); says why in one line."""


class Proc(Child):
    """A :class:`~supersms.demo.children.Child` run from the project root, that also measures its process tree."""

    def __init__(self, role: str, argv: list[str], *, env: Mapping[str, str], log_path: Path) -> None:
        super().__init__(role, argv, env=env, log_path=log_path, cwd=ROOT)
        self.pids = [self.popen.pid]

    def wait_ready(self, ready: Callable[[], bool], *, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Wait until ``ready()``; then remember the process tree (for CPU and memory)."""
        deadline = time.monotonic() + timeout_s
        while not ready():
            if not self.running():
                raise BenchError(f"the {self.role} exited at start: {self.last_log_line()}")
            if time.monotonic() > deadline:
                raise BenchError(
                    f"the {self.role} was not ready within {timeout_s:g} s: {self.last_log_line()}"
                )
            time.sleep(POLL_S)
        self.pids = descendants(self.pid)

    def cpu_s(self) -> float:
        """CPU seconds used by the process and the children it had when it became ready."""
        return sum(cpu_s(pid) for pid in self.pids)

    def voluntary_switches(self) -> int:
        """Times the threads of the process tree (as at ready) have gone to sleep so far."""
        return sum(voluntary_switches(pid) for pid in self.pids)

    def rss_mb(self) -> list[float]:
        """Resident memory of each process of the tree, MiB."""
        return [rss_mb(pid) for pid in self.pids]


class Processes:
    """The subprocesses of one benchmark; all are stopped when the ``with`` block ends, however it ends."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.started: list[Proc] = []

    def start(self, role: str, argv: list[str], env: Mapping[str, str]) -> Proc:
        name = f"{role}-{len(self.started)}"
        proc = Proc(role, argv, env=env, log_path=self.lab.workdir / f"{name}.log")
        self.started.append(proc)
        return proc

    def stop(self, procs: list[Proc]) -> None:
        """Stop these together: all asked at once, sharing one grace period."""
        for proc in procs:
            proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in procs:
            proc.reap(deadline=deadline)
            if proc in self.started:
                self.started.remove(proc)

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop(list(self.started))


def python(module: str, *args: str) -> list[str]:
    """``python -m module args`` with this interpreter."""
    return [sys.executable, "-m", module, *args]
