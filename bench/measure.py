"""What the benchmarks read from the machine (``/proc``) and compute from what they sampled.

CPU time is ``utime + stime`` from ``/proc/<pid>/stat`` (every thread of the process), in seconds;
memory is ``VmRSS`` from ``/proc/<pid>/status``; sleeps are the threads' voluntary context switches.
The pure functions below turn samples into rates.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far; 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces: split after it
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


def rss_mb(pid: int) -> float:
    """Resident memory of the process in MiB (``VmRSS``); 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def voluntary_switches(pid: int) -> int:
    """How often the threads the process has now have gone to sleep so far (``voluntary_ctxt_switches`` of
    each in ``/proc/<pid>/task``; a thread that has ended no longer counts): each wait for I/O, a lock or the
    interpreter lock counts one; 0 once the process is gone."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue  # a thread that ended meanwhile
        total += sum(int(line.split()[1]) for line in lines if line.startswith("voluntary_ctxt_switches:"))
    return total


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (read once: gunicorn's workers, for instance)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += parents.get(current, [])
    return found


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU together, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages and the CPU count, as one short line."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


@dataclass(frozen=True)
class Sample:
    """One look at a running benchmark: when, how many items were done, CPU seconds used so far by each
    watched group of processes (the first is the one measured), and the machine's busy and total ticks."""

    t_s: float
    done: int
    cpu_s: tuple[float, ...]
    busy: int = 0
    jiffies: int = 0


@dataclass(frozen=True)
class Window:
    """The steady part of a run: items per second, and for each watched group its CPU seconds per item and
    the cores it kept busy; ``machine_busy`` is the fraction of all CPUs busy (anyone's work)."""

    rate_per_s: float
    cpu_per_item_s: tuple[float, ...]
    cores: tuple[float, ...]
    machine_busy: float
    elapsed_s: float
    items: int


def steady_window(samples: Sequence[Sample], total: int, *, low: float = 0.1, high: float = 0.9) -> Window:
    """The rate between the moments ``low`` and ``high`` of ``total`` items were done (start-up and tail cut).

    Raises ``ValueError`` when the samples never reach both marks or are too close to tell a rate.
    """
    first = next((s for s in samples if s.done >= low * total), None)
    last = next((s for s in samples if s.done >= high * total), None)
    if first is None or last is None or last.t_s <= first.t_s or last.done <= first.done:
        raise ValueError("the run did not pass both marks of its steady window")
    items = last.done - first.done
    elapsed = last.t_s - first.t_s
    cpu = [end - start for start, end in zip(first.cpu_s, last.cpu_s, strict=True)]
    jiffies = last.jiffies - first.jiffies
    busy = (last.busy - first.busy) / jiffies if jiffies else math.nan
    return Window(
        rate_per_s=items / elapsed,
        cpu_per_item_s=tuple(c / items for c in cpu),
        cores=tuple(c / elapsed for c in cpu),
        machine_busy=busy,
        elapsed_s=elapsed,
        items=items,
    )


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (0.5, 0.99) of ``values`` by nearest rank; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def busiest_window(times_s: Iterable[float], width_s: float = 1.0) -> tuple[int, float]:
    """The most events in any window ``[t, t + width_s)`` (start included, end excluded), and its start."""
    ordered = sorted(times_s)
    best, best_start = 0, math.nan
    for index, start in enumerate(ordered):
        end = bisect.bisect_left(ordered, start + width_s, lo=index)
        if end - index > best:
            best, best_start = end - index, start
    return best, best_start
