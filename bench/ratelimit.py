"""5. Rate limiter accuracy, as the provider sees it: three worker processes share one limit.

More messages are queued than the limit lets through in the run, so every worker always has work waiting;
the sandbox (answering at once) stamps each send request as it arrives. The achieved rate is counted over
the measured window, which starts 2 s after the first send (the documented burst lets ``burst + 1`` sends
go at once from idle); the busiest one-second window is taken over the whole run, start included.
"""

from __future__ import annotations

import time

from bench.common import Lab, SandboxHandle, start_sandbox, start_workers
from bench.measure import busiest_window, load_average, machine_jiffies
from bench.messages import campaign
from bench.procs import BenchError, Processes
from bench.progress import command_calls
from bench.send import RECOMMENDED_THREADS
from bench.table import Figure, Result, Target, render
from supersms.settings import Settings
from supersms.workers import keys

LIMIT_PER_S = 50
PROCESSES = 3
SETTLE_S = 2.0
WITHIN_2_PERCENT = Target("0.98–1.02", min_ratio=0.98, max_ratio=1.02)
NOT_ABOVE = Target("≤ 1.00", max_ratio=1.0)


def run(lab: Lab) -> Result:
    duration_s = 10.0 if lab.quick else 30.0
    burst = Settings.from_env(lab.env()).rate_burst
    count = int(LIMIT_PER_S * (duration_s + SETTLE_S + 6))
    print(
        f"  ratelimit: {LIMIT_PER_S}/s, {PROCESSES}×{RECOMMENDED_THREADS} threads, {duration_s:g} s",
        flush=True,
    )
    lab.flush()
    from supersms.tasks import send_many

    with Processes(lab) as procs:
        sandbox = start_sandbox(procs)
        send_many(campaign(count))
        lab.client.config_resetstat()
        workers = start_workers(
            procs,
            PROCESSES,
            concurrency=RECOMMENDED_THREADS,
            SUPERSMS_API_URL=sandbox.url,
            SUPERSMS_RATE_LIMIT=str(LIMIT_PER_S),
        )
        before = (sum(w.cpu_s() for w in workers), lab.redis_process.cpu_s(), *machine_jiffies())
        _wait_for_window(sandbox, duration_s)
        after = (sum(w.cpu_s() for w in workers), lab.redis_process.cpu_s(), *machine_jiffies())
        calls = command_calls(lab.client)
        times = [entry["monotonic_s"] for entry in sandbox.sends() if entry["err_code"] == "R000"]
        given_back = int(lab.client.get(keys.METRICS_RATE_GIVEN_BACK) or 0)
    lab.flush()
    usage = [end - start for start, end in zip(before, after, strict=True)]
    return _result(times, duration_s, burst, calls, given_back, usage)


def _wait_for_window(sandbox: SandboxHandle, duration_s: float) -> None:
    """Until the sandbox has seen sends for the settling time, the window and a second more."""
    first = None
    deadline = time.monotonic() + duration_s + 60
    while first is None:
        sends = sandbox.sends()
        first = sends[0]["monotonic_s"] if sends else None
        if time.monotonic() > deadline:
            raise BenchError("no send reached the sandbox")
        time.sleep(0.2)
    time.sleep(SETTLE_S + duration_s + 1.0)


def _result(
    times: list[float],
    duration_s: float,
    burst: int,
    calls: dict[str, int],
    given_back: int,
    usage: list[float],
) -> Result:
    start = min(times) + SETTLE_S
    in_window = sum(start <= t < start + duration_s for t in times)
    achieved = in_window / duration_s
    busiest, busiest_at = busiest_window(times, 1.0)
    setup = f"{PROCESSES} processes × {RECOMMENDED_THREADS} threads, {duration_s:g} s"
    figures = [
        Figure(
            f"achieved rate, limit {LIMIT_PER_S}/s, {setup}", achieved, "/s", LIMIT_PER_S, WITHIN_2_PERCENT
        ),
        Figure(
            f"most sends in any 1 s window (limit + burst {burst})",
            busiest,
            "",
            LIMIT_PER_S + burst,
            NOT_ABOVE,
        ),
    ]
    workers_cpu, redis_cpu, busy, jiffies = usage
    times = sorted(times)
    elapsed = times[-1] - times[0] if len(times) > 1 else float("nan")
    sends = len(times)
    rows = [
        ["sends seen by the sandbox", f"{sends}"],
        ["busiest 1 s window starts, seconds after the first send", f"{busiest_at - times[0]:.2f}"],
        [
            f"most sends in any 1 s window from {SETTLE_S:g} s after the first send on",
            str(busiest_window([t for t in times if t >= start])[0]),
        ],
        [
            "EVALSHA calls per send (limiter, claim, settle, announce)",
            f"{calls.get('evalsha', 0) / sends:.1f}",
        ],
        ["slots given back (task re-queued with a countdown) per send", f"{given_back / sends:.2f}"],
        ["worker CPU, cores (3 processes together)", f"{workers_cpu / elapsed:.2f}"],
        ["Redis CPU, cores", f"{redis_cpu / elapsed:.2f}"],
        ["all CPUs busy (anyone's work)", f"{busy / jiffies:.0%}"],
    ]
    details = [
        "What holding the limit costs:\n" + render(("", "value"), rows),
        f"{load_average()} at the end.",
    ]
    return Result("5. Rate limiter accuracy (measured at the provider)", figures, details)
