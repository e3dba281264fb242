"""Watching a run: how many tasks are done, what Redis was asked, and CPU sampled every 50 ms."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import redis

from bench.measure import Sample, cpu_s, machine_jiffies
from bench.procs import POLL_S, BenchError, Proc
from supersms.workers import keys

UNACKED = "unacked"  # kombu's Redis transport: tasks delivered to a worker and not yet acknowledged


def done_in_queue(client: redis.Redis, queue: str, total: int) -> int:
    """Tasks of ``total`` finished: neither waiting in the queue nor delivered and unacknowledged.

    One round trip, no transaction (so the poll adds no MULTI/EXEC to the command counts): a task taken from
    the list and not yet in the unacknowledged hash counts as done for an instant, as often at the start
    of the steady window as at its end.
    """
    with client.pipeline(transaction=False) as pipe:
        waiting, unacked = pipe.llen(queue).hlen(UNACKED).execute()
    return total - int(waiting) - int(unacked)


def done_messages(client: redis.Redis, total: int) -> int:
    """Messages of ``total`` finished with an attempt: neither due (queued, or waiting to retry) nor in flight.

    Counts messages, not tasks, so it holds for ``supersms.send_batch`` tasks that carry many each.
    """
    with client.pipeline(transaction=False) as pipe:
        due, in_flight = pipe.zcard(keys.DUE).zcard(keys.INFLIGHT).execute()
    return total - int(due) - int(in_flight)


POLL_COMMANDS = frozenset({"llen", "hlen", "zcard", "info", "config", "flushall", "ping"})
"""Commands of the benchmark itself, left out of the counts."""


def command_calls(client: redis.Redis) -> dict[str, int]:
    """Calls per command since the last ``CONFIG RESETSTAT`` (commands run inside Lua scripts included)."""
    stats = client.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}
    return {name: count for name, count in calls.items() if name.split("|")[0] not in POLL_COMMANDS}


class CpuSource(Protocol):
    """Anything whose CPU seconds can be read: a :class:`Proc`, or :class:`Pid`."""

    def cpu_s(self) -> float: ...


@dataclass(frozen=True)
class Pid:
    """A process we did not start as a :class:`Proc` (the private Redis), watched for its CPU."""

    pid: int

    def cpu_s(self) -> float:
        return cpu_s(self.pid)


def drain(
    measured: Sequence[Proc],
    *,
    total: int,
    done: Callable[[], int],
    timeout_s: float,
    watched: Sequence[CpuSource] = (),
) -> list[Sample]:
    """Sample progress every 50 ms until ``done() >= total``, with the CPU seconds of the ``measured``
    processes together (they must keep running) and of each ``watched`` one."""
    samples: list[Sample] = []
    deadline = time.monotonic() + timeout_s
    while True:
        busy, jiffies = machine_jiffies()
        cpu = (sum(p.cpu_s() for p in measured), *(w.cpu_s() for w in watched))
        sample = Sample(time.monotonic(), done(), cpu, busy, jiffies)
        samples.append(sample)
        if sample.done >= total:
            return samples
        if time.monotonic() > deadline:
            raise BenchError(f"only {sample.done} of {total} done after {timeout_s:g} s")
        for proc in measured:
            if not proc.running():
                raise BenchError(f"the {proc.role} (pid {proc.pid}) exited: {proc.last_log_line()}")
        time.sleep(POLL_S)


def drain_timeout_s(total: int) -> float:
    """How long a run of ``total`` items may take: as if at 40 a second, plus a minute."""
    return 60 + total / 40
