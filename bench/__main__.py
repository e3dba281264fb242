"""``python -m bench [--quick] [--load auto|wrk|python] [name ...]``: run the benchmarks, print their tables.

Names: send, campaign, receiver, correlation, ratelimit, memory (default: all, in that order). ``--quick``
runs smaller sizes (a few minutes in all); without it, the sizes the benchmarks are specified with.
Exit status 0 when every benchmark ran (whether or not it met its target), 1 when one could not run.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import platform
import signal
import sys
import time
from datetime import UTC, datetime

from bench.common import Lab
from bench.measure import load_average
from bench.procs import BenchError
from bench.table import Result, render_figures, render_result

BENCHMARKS = ("send", "campaign", "receiver", "correlation", "ratelimit", "memory")
"""Each is the module ``bench.<name>``, whose ``run(lab)`` returns its :class:`Result`."""


def main(argv: list[str]) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    unknown = sorted(set(options.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    names = options.names or list(BENCHMARKS)
    # SIGTERM (make interrupted, a CI timeout) becomes SystemExit, so every started process is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    mode = "quick" if options.quick else "full"
    print(f"supersms benchmarks ({mode}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, ", end="")
    print(f"Python {platform.python_version()}, {load_average()}", flush=True)
    results: list[Result] = []
    failed = False
    with Lab(quick=options.quick, load_tool=options.load) as lab:
        for name in names:
            result, ok = _run_one(name, lab)
            failed |= not ok
            lab.keep_logs |= not ok
            results.append(result)
            print(render_result(result) + "\n", flush=True)
    print("== Summary (ratio = ours / baseline, both measured in this run) ==\n")
    print(render_figures([figure for result in results for figure in result.figures]))
    print(f"\n{load_average()} at the end.")
    return 1 if failed else 0


def _run_one(name: str, lab: Lab) -> tuple[Result, bool]:
    print(f"-- {name}: starting, {load_average()}", flush=True)
    started = time.monotonic()
    try:
        result: Result = importlib.import_module(f"bench.{name}").run(lab)
    except BenchError as error:
        return Result(f"{name}: could not run", details=[str(error)]), False
    except Exception as error:  # one broken benchmark must not cost the figures of the others
        logging.exception("benchmark %s failed", name)
        return Result(f"{name}: failed", details=[f"{type(error).__name__}: {error}"]), False
    result.details.append(f"({name} took {time.monotonic() - started:.0f} s)")
    return result, True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks of supersms.")
    parser.add_argument(
        "names", nargs="*", metavar="name", help=f"any of {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes: the whole set in a few minutes")
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="HTTP load tool for the receiver: wrk when installed (auto), or the Python one",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
