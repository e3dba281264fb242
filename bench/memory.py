"""6. Worker memory per process, and how the figures move from 1k to 100k messages in the store.

Two worker processes with the recommended threads send through the sandbox (answering at once, rate limit
off) in stages, without being restarted: after each stage the store holds that many records (ours; the
bare app keeps none) and each worker's ``VmRSS`` is read. Each stage is enqueued first, then drained; its
rate is taken from the end of the enqueue to 90 % of the stage.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from celery import Celery

from bench import bare
from bench.common import BARE_QUEUE, Lab, SandboxHandle, start_bare_workers, start_sandbox, start_workers
from bench.measure import load_average, steady_window
from bench.messages import bare_fields, campaign
from bench.procs import BenchError, Proc, Processes
from bench.progress import done_in_queue, drain, drain_timeout_s
from bench.send import PROCESSES, RECOMMENDED_THREADS, check_accepted
from bench.table import Figure, Result, number, render
from supersms.workers.celery_config import SEND_QUEUE

MIB = 1024 * 1024


@dataclass(frozen=True)
class Stage:
    """After ``stored`` messages: the stage's rate, CPU per message, each worker's RSS, Redis's memory."""

    stored: int
    rate_per_s: float
    cpu_per_message_s: float
    rss_mb: list[float]
    redis_mb: float
    problem: str | None = None


def run(lab: Lab) -> Result:
    checkpoints = (1000, 5000) if lab.quick else (1000, 10_000, 100_000)
    print(f"  memory: stages {checkpoints}, {PROCESSES}×{RECOMMENDED_THREADS} threads", flush=True)
    ours_idle, ours = _stages(lab, checkpoints, ours=True)
    bare_idle, bare_stages = _stages(lab, checkpoints, ours=False)
    lab.flush()
    return _result(ours_idle, ours, bare_idle, bare_stages)


def _stages(lab: Lab, checkpoints: tuple[int, ...], *, ours: bool) -> tuple[list[float], list[Stage]]:
    """Each worker's RSS when idle, then the stages."""
    lab.flush()
    stages = []
    with Processes(lab) as procs:
        sandbox = start_sandbox(procs)
        if ours:
            workers = start_workers(
                procs, PROCESSES, concurrency=RECOMMENDED_THREADS, SUPERSMS_API_URL=sandbox.url
            )
        else:
            workers = start_bare_workers(
                procs, PROCESSES, concurrency=RECOMMENDED_THREADS, api_url=sandbox.url
            )
        idle = [worker.rss_mb()[0] for worker in workers]
        previous = 0
        for stored in checkpoints:
            stages.append(_stage(lab, sandbox, workers, previous, stored, ours=ours))
            previous = stored
    return idle, stages


def _stage(
    lab: Lab, sandbox: SandboxHandle, workers: list[Proc], start: int, stored: int, *, ours: bool
) -> Stage:
    count = stored - start
    print(f"  memory: {'ours' if ours else 'bare'} {start} → {stored}", flush=True)
    sandbox.reset()
    messages = campaign(count, start=start)
    queue = SEND_QUEUE if ours else BARE_QUEUE
    if ours:
        from supersms.tasks import app, send_many

        with not_consuming(app, queue, "bench", len(workers)):
            send_many(messages, batch_size=1)  # one task a message, as the baseline
    else:
        with not_consuming(bare.app, queue, "bare", len(workers)):
            bare.enqueue(bare_fields(messages))
    samples = drain(
        workers,
        total=count,
        done=lambda: done_in_queue(lab.client, queue, count),
        timeout_s=drain_timeout_s(count),
    )
    problem = check_accepted(sandbox, count, workers, lab)
    window = steady_window(samples, count)
    redis_mb = int(lab.client.info("memory")["used_memory"]) / MIB
    rss = [w.rss_mb()[0] for w in workers]
    return Stage(stored, window.rate_per_s, window.cpu_per_item_s[0], rss, redis_mb, problem)


@contextmanager
def not_consuming(app: Celery, queue: str, name: str, count: int) -> Iterator[None]:
    """The workers ``name0@host`` … stop taking tasks from ``queue`` for the block (Celery remote control)."""
    names = [f"{name}{n}@{socket.gethostname()}" for n in range(count)]
    replies = app.control.cancel_consumer(queue, destination=names, reply=True, timeout=5)
    if len(replies) != count:
        raise BenchError(f"{len(replies)} of {count} workers stopped consuming {queue}")
    try:
        yield
    finally:
        app.control.add_consumer(queue, destination=names, reply=True, timeout=5)


def _result(
    ours_idle: list[float], ours: list[Stage], bare_idle: list[float], bare_stages: list[Stage]
) -> Result:
    first, last = ours[0], ours[-1]
    bare_first, bare_last = bare_stages[0], bare_stages[-1]
    figures = [
        Figure("worker RSS per process, idle (largest)", max(ours_idle), "MiB", max(bare_idle)),
        Figure(
            f"worker RSS per process after {first.stored:,} messages",
            max(first.rss_mb),
            "MiB",
            max(bare_first.rss_mb),
        ),
        Figure(
            f"worker RSS per process after {last.stored:,} messages",
            max(last.rss_mb),
            "MiB",
            max(bare_last.rss_mb),
        ),
        Figure(f"send rate, store at {first.stored:,}", first.rate_per_s, "msg/s", bare_first.rate_per_s),
        Figure(f"send rate, store at {last.stored:,}", last.rate_per_s, "msg/s", bare_last.rate_per_s),
    ]
    rows = [
        [
            f"{stage.stored:,}",
            number(stage.rate_per_s),
            f"{stage.cpu_per_message_s * 1000:.2f}",
            " / ".join(f"{mb:.0f}" for mb in stage.rss_mb),
            f"{stage.redis_mb:.0f}",
            number(bare_stage.rate_per_s),
            f"{bare_stage.cpu_per_message_s * 1000:.2f}",
            " / ".join(f"{mb:.0f}" for mb in bare_stage.rss_mb),
        ]
        for stage, bare_stage in zip(ours, bare_stages, strict=True)
    ]
    headers = (
        "messages",
        "ours msg/s",
        "CPU ms/msg",
        "RSS MiB",
        "Redis MiB",
        "bare msg/s",
        "CPU ms/msg",
        "RSS MiB",
    )
    details = [
        f"By stage ({PROCESSES} processes × {RECOMMENDED_THREADS} threads, sandbox at once; "
        f"idle RSS ours {' / '.join(f'{mb:.0f}' for mb in ours_idle)}, "
        f"bare {' / '.join(f'{mb:.0f}' for mb in bare_idle)} MiB):\n" + render(headers, rows),
        f"Redis per stored message (ours): {_per_record_kib(ours):.2f} KiB.",
        f"{load_average()} at the end.",
        *(f"Note: {stage.problem}" for stage in [*ours, *bare_stages] if stage.problem),
    ]
    return Result("6. Worker memory, and growth with the store", figures, details)


def _per_record_kib(stages: list[Stage]) -> float:
    first, last = stages[0], stages[-1]
    return (last.redis_mb - first.redis_mb) * 1024 / (last.stored - first.stored)
