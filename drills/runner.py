"""Running drills one after another, each in a fresh directory, and printing what each found."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from drills.result import DrillResult, summary_lines
from drills.timeline import Timeline

DrillBody = Callable[[Path, Timeline, DrillResult], None]


@dataclass(frozen=True)
class Drill:
    """One drill: its name on the command line, what it does, and its body. ``ci``: cheap enough for CI."""

    name: str
    title: str
    body: DrillBody
    ci: bool


def run_drill(drill: Drill, *, out: TextIO, workdir: Path | None = None) -> DrillResult:
    """Run one drill; its processes' logs stay in its directory when it fails."""
    result = DrillResult(name=drill.name, title=drill.title)
    out.write(f"\n== {drill.name}: {drill.title} ==\n")
    out.flush()
    directory = workdir or Path(tempfile.mkdtemp(prefix=f"supersms-drill-{drill.name}-"))
    timeline = Timeline(out)
    started_s = time.monotonic()
    try:
        # The sandbox prints a traceback for each connection a killed client leaves: keep them out of the way.
        with open(directory / "stderr.log", "w") as stderr, contextlib.redirect_stderr(stderr):
            drill.body(directory, timeline, result)
    except Exception as error:
        result.problems.append(f"{type(error).__name__}: {error}")
        timeline.note("the drill broke off:")
        for line in traceback.format_exc().splitlines():
            timeline.note(f"  {line}")
    result.took_s = time.monotonic() - started_s
    for line in result.recovery:
        timeline.note(f"recovery: {line}")
    for line in result.problems:
        timeline.note(f"PROBLEM: {line}")
    if result.ok and workdir is None:
        shutil.rmtree(directory, ignore_errors=True)
    elif not result.ok:
        timeline.note(f"logs of every process kept in {directory}")
    timeline.note(f"{drill.name}: {result.verdict}, took {result.took_s:.1f} s")
    return result


def run_all(drills: Iterable[Drill], *, out: TextIO) -> list[DrillResult]:
    """Run ``drills`` in order and print a summary table."""
    results = [run_drill(drill, out=out) for drill in drills]
    out.write("\n" + "\n".join(summary_lines(results)) + "\n")
    out.flush()
    return results
