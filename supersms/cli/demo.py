"""``supersms demo [--count N] [--rate R] [--no-flower] [--keep-running] [--timeout S]``.

The main job on embedded defaults: a private Redis (unless ``SUPERSMS_REDIS_URL`` is set), the sandbox
provider, the receiver, a worker and Flower; a realistic batch with a progress bar; a table of outcomes.
Every process it starts is stopped at the end, also on Ctrl-C (exit 130) and SIGTERM (exit 143).
Exit status 1, with one line, when a part of the stack does not start.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from supersms.cli.main import CommandParser
from supersms.cli.options import in_range
from supersms.demo.batch import MAX_COUNT
from supersms.demo.session import DemoOptions, run_demo
from supersms.settings import redis_url_from_env

EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM
MAX_TIMEOUT_S = 3600.0


def main(argv: list[str]) -> int:
    """Run the demo; its exit status."""
    args = _parser().parse_args(argv)
    options = DemoOptions(
        count=args.count,
        rate_per_s=args.rate,
        flower=not args.no_flower,
        keep_running=args.keep_running,
        timeout_s=args.timeout,
        redis_url=redis_url_from_env(),
    )
    with _termination_as_exit():
        try:
            return run_demo(options, out=sys.stdout)
        except KeyboardInterrupt:
            print("\ninterrupted: every process the demo started has stopped", file=sys.stderr)
            return EXIT_INTERRUPTED


@contextmanager
def _termination_as_exit() -> Iterator[None]:
    """SIGTERM and SIGHUP end the demo as Ctrl-C does: its processes are stopped on the way out.

    SIGINT raises KeyboardInterrupt even where the shell started the demo with SIGINT ignored (a background
    job of a script): the demo must never end without stopping what it started.
    """

    def leave(number: int, frame: FrameType | None) -> None:
        raise SystemExit(EXIT_TERMINATED)

    handlers = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: leave, signal.SIGHUP: leave}
    saved = {number: signal.signal(number, handler) for number, handler in handlers.items()}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="supersms demo",
        description="Run a realistic batch end to end on a private stack and show what became of it.",
    )
    parser.add_argument(
        "--count", type=in_range(int, 1, MAX_COUNT), default=300, help="messages to send (default 300)"
    )
    parser.add_argument(
        "--rate",
        type=in_range(float, 0, 10_000),
        default=100.0,
        help="global sends per second, 0 = no limit (default 100)",
    )
    parser.add_argument("--no-flower", action="store_true", help="do not start Flower")
    parser.add_argument(
        "--keep-running", action="store_true", help="after the table, stay up until Ctrl-C (to browse Flower)"
    )
    parser.add_argument(
        "--timeout",
        type=in_range(float, 1, MAX_TIMEOUT_S),
        default=120.0,
        help="seconds to wait for every message to be final (default 120)",
    )
    return parser
