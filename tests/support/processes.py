"""Real processes for the tests: ``supersms`` commands started as subprocesses and stopped by their pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

READY_TIMEOUT_S = 30.0


class Process:
    """A ``python -m supersms ...`` subprocess whose output goes to a log file."""

    def __init__(self, args: list[str], *, env: Mapping[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "supersms", *args],
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, *, timeout_s: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.output():
            if self.popen.poll() is not None:
                raise AssertionError(f"process exited ({self.popen.returncode}):\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} after {timeout_s} s:\n{self.output()[-3000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def request_stop(self) -> None:
        """SIGTERM, unless it has ended; returns at once (several processes then stop side by side)."""
        if self.popen.poll() is None:
            self.popen.terminate()

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it has not ended after 15 s."""
        if self.popen.poll() is None:
            self.request_stop()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self._log.close()


def start_worker(
    name: str,
    *,
    env: Mapping[str, str],
    tmp_path: Path,
    concurrency: int = 8,
    queues: str | None = None,
    options: Sequence[str] = (),
) -> Process:
    """A real ``supersms worker`` process (``options`` added to its command line), returned once Celery says
    it is ready."""
    queue_options = ["-Q", queues] if queues else []
    worker = Process(
        [
            "worker",
            "-n",
            f"{name}@%h",
            "-c",
            str(concurrency),
            "--without-mingle",
            "--without-gossip",
            *queue_options,
            *options,
        ],
        env=env,
        log_path=tmp_path / f"{name}.log",
    )
    worker.wait_for_output("ready.")
    return worker


def wait_until(predicate: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def start_receiver(*, env: Mapping[str, str], tmp_path: Path, port: int, name: str = "receiver") -> Process:
    """A real ``supersms receiver`` (gunicorn) on 127.0.0.1:``port``, returned once ``/healthz`` answers 200."""
    import requests

    receiver = Process(
        ["receiver", "--host", "127.0.0.1", "--port", str(port)], env=env, log_path=tmp_path / f"{name}.log"
    )

    def healthy() -> bool:
        if receiver.popen.poll() is not None:
            raise AssertionError(f"receiver exited:\n{receiver.output()[-3000:]}")
        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_until(healthy, timeout_s=READY_TIMEOUT_S, what="the receiver to answer /healthz")
    return receiver
