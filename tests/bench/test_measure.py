"""The benchmarks' readings of ``/proc``: the sleeps of a process's threads are counted, and a process gone
reads as none."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from bench.measure import voluntary_switches

SLEEPS = 20


def test_every_sleep_of_a_thread_of_the_process_is_counted() -> None:
    slept, done = threading.Event(), threading.Event()

    def sleep_then_wait() -> None:
        for _ in range(SLEEPS):
            time.sleep(0.001)
        slept.set()
        done.wait()

    before = voluntary_switches(os.getpid())
    thread = threading.Thread(target=sleep_then_wait)
    thread.start()
    try:
        assert slept.wait(timeout=10)
        assert voluntary_switches(os.getpid()) - before >= SLEEPS
    finally:
        done.set()
        thread.join()


def test_a_process_that_is_gone_has_no_sleeps() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert voluntary_switches(process.pid) == 0
