"""1. Send throughput: messages per second from queued to submitted, against a bare Celery task.

Each run enqueues its messages first (ours with ``send_many``, the baseline with ``apply_async``), then
starts the workers and samples every 50 ms how many tasks are finished (neither queued nor delivered and
unacknowledged: the same count for both apps). The rate is taken between 10 % and 90 % of the run, so
start-up and tail do not count; CPU per message is the workers' ``utime + stime`` over the same window.
Rate limit off; the sandbox runs in its own process and answers at once, or after 100 ms. The two setups with
a target run ours and the baseline in turn three times and report each app's median run.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

from bench import bare
from bench.common import BARE_QUEUE, Lab, SandboxHandle, start_bare_workers, start_sandbox, start_workers
from bench.measure import Window, load_average, steady_window
from bench.messages import bare_fields, campaign
from bench.procs import BenchError, Proc, Processes
from bench.progress import command_calls, done_in_queue, done_messages, drain, drain_timeout_s
from bench.table import Figure, Result, Target, number, render
from supersms.settings import Settings
from supersms.workers.celery_config import SEND_QUEUE

FAST_THREADS = 8
LATENCY_S = 0.1
PROCESSES = 2
RECOMMENDED_THREADS = Settings().worker_concurrency  # SUPERSMS_CONCURRENCY's default, as the README says
TOP_COMMANDS = 12
AT_LEAST_80 = Target("≥ 0.80", min_ratio=0.8)
HEADLINE_ROUNDS = 3
"""The two setups with a target run ours and the baseline in turn this many times, and report each app's
median run: a single pair on a small machine swings by ±0.1 or more with whatever else runs meanwhile."""


@dataclass(frozen=True)
class Setup:
    """One configuration, run by both apps: worker processes, threads each, sandbox latency, messages."""

    processes: int
    threads: int
    latency_s: float
    count: int

    @property
    def ideal_per_s(self) -> float:
        """What the threads could do if only the provider's latency counted."""
        return self.processes * self.threads / self.latency_s if self.latency_s else float("inf")


@dataclass(frozen=True)
class Run:
    """One app on one setup: its steady window (CPU groups: workers, sandbox, Redis) and the Redis commands
    per message over the whole run (worker start-up included)."""

    window: Window
    commands: dict[str, float]
    problem: str | None = None

    @property
    def commands_per_message(self) -> float:
        return sum(self.commands.values())


@dataclass(frozen=True)
class Pair:
    """Ours and the baseline on one setup: one run of each, or several taken in turn."""

    setup: Setup
    ours_runs: tuple[Run, ...]
    bare_runs: tuple[Run, ...]
    campaign: Run | None = None

    @property
    def ours(self) -> Run:
        return median_run(self.ours_runs)

    @property
    def bare(self) -> Run:
        return median_run(self.bare_runs)

    def runs(self) -> list[Run]:
        return [*self.ours_runs, *self.bare_runs, *([self.campaign] if self.campaign else [])]


def median_run(runs: tuple[Run, ...]) -> Run:
    """The run with the median rate (the higher middle one of an even count): its CPU and commands go with it."""
    return sorted(runs, key=lambda run: run.window.rate_per_s)[len(runs) // 2]


def run(lab: Lab) -> Result:
    """Sandbox at once on one process, then 100 ms on two processes with a growing number of threads."""
    fast_count, steps = (2000, (8, 32, 64)) if lab.quick else (10_000, (4, 8, 16, 32, 64, 128))
    with Processes(lab) as procs:
        sandbox = start_sandbox(procs)
        fast = measure_pair(
            lab, procs, sandbox, Setup(1, FAST_THREADS, 0.0, fast_count), rounds=HEADLINE_ROUNDS
        )
        sweep = [
            measure_pair(
                lab,
                procs,
                sandbox,
                Setup(PROCESSES, threads, LATENCY_S, _count(lab, threads)),
                rounds=HEADLINE_ROUNDS if threads == RECOMMENDED_THREADS else 1,
            )
            for threads in steps
        ]
    return _result(fast, sweep)


def _count(lab: Lab, threads: int) -> int:
    """Enough messages for several seconds at the ideal rate, within bounds."""
    seconds, low, high = (4, 800, 3000) if lab.quick else (10, 1000, 10_000)
    ideal = PROCESSES * threads / LATENCY_S
    return int(min(high, max(low, ideal * seconds)))


def measure_pair(
    lab: Lab, procs: Processes, sandbox: SandboxHandle, setup: Setup, *, rounds: int = 1
) -> Pair:
    """Ours then the baseline, ``rounds`` times in turn (so that load from elsewhere falls on both alike);
    at the recommended setup, also the campaign path once."""
    print(f"  send: {setup.processes}×{setup.threads} threads, latency {setup.latency_s:g} s, ", end="")
    print(f"{setup.count} messages" + (f", {rounds} rounds" if rounds > 1 else ""), flush=True)
    ours_runs: list[Run] = []
    bare_runs: list[Run] = []
    for _ in range(rounds):
        ours_runs.append(measure(lab, procs, sandbox, setup, ours=True))
        bare_runs.append(measure(lab, procs, sandbox, setup, ours=False))
    campaign_run = None
    if setup.threads == RECOMMENDED_THREADS and setup.latency_s:
        campaign_run = measure(lab, procs, sandbox, setup, ours=True, batched=True)
    return Pair(setup, tuple(ours_runs), tuple(bare_runs), campaign_run)


def measure(
    lab: Lab, procs: Processes, sandbox: SandboxHandle, setup: Setup, *, ours: bool, batched: bool = False
) -> Run:
    """One run of one app on ``setup``: the steady window of its drain, and its Redis commands.

    Ours runs one ``supersms.send`` task per message, or with ``batched`` the campaign path: ``send_many``'s
    ``supersms.send_batch`` tasks, its default for a call this large.
    """
    lab.flush()
    sandbox.reset()
    sandbox.set_faults(latency_s=setup.latency_s)
    messages = campaign(setup.count)
    if ours:
        from supersms.tasks import send_many

        send_many(messages, batch_size=None if batched else 1)
        workers = start_workers(
            procs, setup.processes, concurrency=setup.threads, SUPERSMS_API_URL=sandbox.url
        )
    else:
        bare.enqueue(bare_fields(messages))
        workers = start_bare_workers(procs, setup.processes, concurrency=setup.threads, api_url=sandbox.url)
    lab.client.config_resetstat()

    def done() -> int:
        if batched:
            return done_messages(lab.client, setup.count)
        return done_in_queue(lab.client, SEND_QUEUE if ours else BARE_QUEUE, setup.count)

    try:
        samples = drain(
            workers,
            total=setup.count,
            done=done,
            timeout_s=drain_timeout_s(setup.count),
            watched=(sandbox.proc, lab.redis_process),
        )
        calls = command_calls(lab.client)
    finally:
        procs.stop(workers)
    problem = check_accepted(sandbox, setup.count, workers, lab)
    per_message = {name: count / setup.count for name, count in calls.items()}
    return Run(steady_window(samples, setup.count), per_message, problem)


def check_accepted(sandbox: SandboxHandle, count: int, workers: list[Proc], lab: Lab) -> str | None:
    """Whether every message reached the sandbox once and was accepted: None, or what went wrong.

    A few strays are reported with the figures; more than 1 % would make the rate meaningless.
    """
    accepted = sum(1 for entry in sandbox.sends() if entry["err_code"] == "R000")
    if accepted == count:
        return None
    problem = (
        f"the sandbox accepted {accepted} sends for {count} messages ({workers[0].role}); "
        f"records by status, reason and detail: {record_statuses(lab)}; worker log: {troubles(workers)}"
    )
    if abs(accepted - count) > count / 100:
        raise BenchError(problem)
    return problem


def record_statuses(lab: Lab) -> dict[tuple[str, ...], int]:
    """How many records are in each (status, reason, detail), for a run that went wrong."""
    found: collections.Counter[tuple[str, ...]] = collections.Counter()
    cursor = 0
    while True:
        cursor, names = lab.client.scan(cursor, match="supersms:msg:*", count=5000)
        with lab.client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hmget(name, "status", "reason", "detail")
            found.update(tuple(str(value) for value in values) for values in pipe.execute())
        if cursor == 0:
            return dict(found)


def troubles(workers: list[Proc], limit: int = 5) -> list[str]:
    """The first few distinct warning and error lines of the workers' logs."""
    lines: list[str] = []
    for worker in workers:
        for line in worker.log_text().splitlines():
            if ("WARNING" in line or "ERROR" in line) and line not in lines:
                lines.append(line.strip()[:300])
    return lines[:limit]


def _result(fast: Pair, sweep: list[Pair]) -> Result:
    recommended = next(pair for pair in sweep if pair.setup.threads == RECOMMENDED_THREADS)
    fast_name = f"sandbox at once, 1 process × {FAST_THREADS} threads"
    slow_name = f"sandbox 100 ms, {PROCESSES} processes × {RECOMMENDED_THREADS} threads"
    figures = [
        _rate_figure(f"send rate, {fast_name}", fast),
        _cpu_figure("worker CPU per message, same run", fast),
        Figure(
            "Redis commands per message, same run",
            fast.ours.commands_per_message,
            "",
            fast.bare.commands_per_message,
        ),
        _rate_figure(f"send rate, {slow_name}", recommended),
        _cpu_figure("worker CPU per message, same run", recommended),
        *_campaign_figures(recommended),
    ]
    details = [
        "CPU per message (ms) by process, sandbox at once:\n" + _breakdown(fast),
        "Redis commands per message, sandbox at once (commands run inside Lua scripts included):\n"
        + _commands(fast),
        f"Throughput against threads per process (sandbox 100 ms, {PROCESSES} worker processes; "
        "cores = CPU seconds per second of the workers, busy = all CPUs, anyone's work):\n"
        + _sweep_table(sweep),
        "Rounds, in the order run (msg/s; the figures above are each app's median run):\n"
        + _rounds_table([fast, recommended]),
        f"Rates between 10 % and 90 % of each run; {load_average()} at the end.",
        *(f"Note: {run.problem}" for pair in [fast, *sweep] for run in pair.runs() if run.problem),
    ]
    return Result("1. Send throughput (queued → submitted)", figures, details)


def _campaign_figures(pair: Pair) -> list[Figure]:
    if pair.campaign is None:
        return []
    name = "send rate, campaign path (send_batch), same setup"
    cpu = pair.campaign.window.cpu_per_item_s[0] * 1000
    bare_cpu = pair.bare.window.cpu_per_item_s[0] * 1000
    return [
        Figure(name, pair.campaign.window.rate_per_s, "msg/s", pair.bare.window.rate_per_s, AT_LEAST_80),
        Figure("worker CPU per message, same run", cpu, "ms", bare_cpu),
    ]


def _rate_figure(name: str, pair: Pair) -> Figure:
    return Figure(name, pair.ours.window.rate_per_s, "msg/s", pair.bare.window.rate_per_s, AT_LEAST_80)


def _cpu_figure(name: str, pair: Pair) -> Figure:
    ours, bare_cpu = (run.window.cpu_per_item_s[0] * 1000 for run in (pair.ours, pair.bare))
    return Figure(name, ours, "ms", bare_cpu)


def _breakdown(pair: Pair) -> str:
    rows = []
    for label, run in (("ours", pair.ours), ("bare", pair.bare)):
        worker, sandbox, redis = (cpu * 1000 for cpu in run.window.cpu_per_item_s)
        busy = f"{run.window.machine_busy:.0%}"
        rows.append(
            [label, number(run.window.rate_per_s), f"{worker:.2f}", f"{sandbox:.2f}", f"{redis:.3f}", busy]
        )
    return render(("app", "msg/s", "worker ms", "sandbox ms", "redis ms", "machine busy"), rows)


def _commands(pair: Pair) -> str:
    rows = []
    for label, run in (("ours", pair.ours), ("bare", pair.bare)):
        ranked = sorted(run.commands.items(), key=lambda item: -item[1])
        listed = ", ".join(f"{name} {count:.1f}" for name, count in ranked[:TOP_COMMANDS] if count >= 0.05)
        rows.append([label, f"{run.commands_per_message:.1f}", listed])
    return render(("app", "total", "by command"), rows)


def _rounds_table(pairs: list[Pair]) -> str:
    rows = []
    for pair in pairs:
        rounds = zip(pair.ours_runs, pair.bare_runs, strict=True)
        ratios = [ours.window.rate_per_s / bare_run.window.rate_per_s for ours, bare_run in rounds]
        rows.append(
            [
                f"{pair.setup.processes}×{pair.setup.threads}, {pair.setup.latency_s * 1000:g} ms",
                ", ".join(number(run.window.rate_per_s) for run in pair.ours_runs),
                ", ".join(number(run.window.rate_per_s) for run in pair.bare_runs),
                ", ".join(f"{ratio:.2f}" for ratio in ratios),
            ]
        )
    return render(("setup", "ours", "bare", "ratio of each round"), rows)


def _sweep_table(sweep: list[Pair]) -> str:
    rows = []
    for pair in sweep:
        ours, bare_window = pair.ours.window, pair.bare.window
        rows.append(
            [
                f"{pair.setup.processes}×{pair.setup.threads}",
                number(pair.setup.ideal_per_s),
                number(ours.rate_per_s),
                f"{ours.cores[0]:.2f}",
                f"{ours.machine_busy:.0%}",
                number(bare_window.rate_per_s),
                f"{bare_window.cores[0]:.2f}",
                f"{bare_window.machine_busy:.0%}",
                f"{ours.rate_per_s / bare_window.rate_per_s:.2f}",
            ]
        )
    headers = ("threads", "ideal/s", "ours msg/s", "cores", "busy", "bare msg/s", "cores", "busy", "ratio")
    return render(headers, rows)
