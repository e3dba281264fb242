"""One demo run: start the stack, send the batch, follow it, print the outcomes, stop everything."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

from supersms.demo.batch import DemoBatch, build_batch
from supersms.demo.progress import Progress
from supersms.demo.report import Outcomes, count_outcomes, format_table
from supersms.demo.stack import Stack, StackOptions, running_stack
from supersms.demo.tracking import load_records, wait_until_final
from supersms.workers.redis_io import connect

KEEP_RUNNING_POLL_S = 1.0


@dataclass(frozen=True)
class DemoOptions:
    """What ``supersms demo`` was asked for."""

    count: int = 300
    rate_per_s: float = 100.0
    flower: bool = True
    keep_running: bool = False
    timeout_s: float = 120.0
    redis_url: str | None = None


def run_demo(options: DemoOptions, *, out: TextIO) -> int:
    """Run the demo, writing to ``out``; 0 once the table is printed. Raises ``StartFailed``."""

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    batch = build_batch(options.count)
    say(f"supersms demo: {batch.describe()}")
    say("no SMS leaves this machine: the sandbox plays the provider")
    stack_options = StackOptions(
        rate_per_s=options.rate_per_s, flower=options.flower, redis_url=options.redis_url
    )
    with running_stack(stack_options, batch.faults, announce=say) as stack, _producer_env(stack.env):
        if stack.flower_url:
            say(f"Flower: {stack.flower_url}")
        followed = _send_and_follow(stack, batch, options, out=out)
        say(_summary(followed, flower_url=stack.flower_url, keep_running=options.keep_running))
        if options.keep_running:
            _stay_up(stack, say)
    say("every process the demo started has stopped")
    return 0


@dataclass(frozen=True)
class _Followed:
    outcomes: Outcomes
    elapsed_s: float
    finished: bool


def _send_and_follow(stack: Stack, batch: DemoBatch, options: DemoOptions, *, out: TextIO) -> _Followed:
    """Enqueue the batch, show its progress until every message is final or time is up, count outcomes."""
    from supersms.tasks.producer import send_many  # imported here: the producer reads the demo's settings

    started = time.monotonic()
    ids = send_many(message.fields for message in batch.messages)
    print(f"enqueued {len(ids)} messages in {time.monotonic() - started:.2f} s", file=out, flush=True)
    client = connect(stack.redis_url)
    progress = Progress(out, total=len(ids))
    finished = wait_until_final(client, ids, timeout_s=options.timeout_s, on_update=progress.update)
    progress.finish()
    outcomes = count_outcomes(load_records(client, ids))
    return _Followed(outcomes, time.monotonic() - started, finished)


def _summary(followed: _Followed, *, flower_url: str | None, keep_running: bool) -> str:
    outcomes = followed.outcomes
    ending = (
        "every message final" if followed.finished else f"stopped waiting: {outcomes.unfinished} not final"
    )
    heading = f"outcome of {outcomes.total} messages after {followed.elapsed_s:.1f} s ({ending})"
    if flower_url is None:
        flower = "Flower was not started"
    else:
        flower = f"Flower is at {flower_url}" if keep_running else f"Flower was at {flower_url}"
    return f"\n{heading}\n\n{format_table(outcomes)}\n\n{flower}"


def _stay_up(stack: Stack, say: Callable[[str], None]) -> None:
    """Keep everything running until Ctrl-C (which ends the demo normally)."""
    say("still running; press Ctrl-C to stop")
    try:
        while all(child.running() for child in stack.children):
            time.sleep(KEEP_RUNNING_POLL_S)
    except KeyboardInterrupt:
        return
    stopped = next(child for child in stack.children if not child.running())
    say(f"the {stopped.role} stopped by itself: {stopped.last_log_line()}")


@contextmanager
def _producer_env(env: Mapping[str, str]) -> Iterator[None]:
    """This process as a producer of the demo's Redis: its ``SUPERSMS_*`` settings, restored afterwards."""
    from supersms.tasks.app import settings

    saved = dict(os.environ)
    for name in [name for name in os.environ if name.startswith("SUPERSMS_")]:
        del os.environ[name]
    os.environ.update({name: value for name, value in env.items() if name.startswith("SUPERSMS_")})
    settings.cache_clear()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        settings.cache_clear()
