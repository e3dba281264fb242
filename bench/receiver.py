"""3. Receiver: report GETs per second on gunicorn, against a bare WSGI app on the same gunicorn settings.

Both servers run as ``supersms receiver`` does: gthread workers (``SUPERSMS_RECEIVER_WORKERS``, 8 threads
each), keep-alive. The load tool keeps as many connections open as the servers have threads; every request
is a distinct valid report, so ours stores each one (Redis stream) before answering. Both servers stay up
and are loaded in turn, ours then bare, for three rounds after a short warm-up of each, so that load from
elsewhere on the machine falls on both alike; each figure is the median of the rounds. Server CPU is the
gunicorn master and workers' ``utime + stime`` over the measured rounds; their threads' sleeps (voluntary
context switches) per request show how often a request waited: on Redis, on a lock, on the interpreter lock.

After the rounds, a sweep over the number of connections (one shorter round of each server per count) shows
where the two part: with few connections a report waits mostly on the network and Redis, with many the CPUs
are full and what each report costs decides.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass

import requests

from bench.common import LOOPBACK, Lab
from bench.load import LoadResult, choose_tool, saturate
from bench.measure import descendants, load_average, machine_jiffies
from bench.procs import BenchError, Proc, Processes, python
from bench.table import Figure, Result, Target, render
from supersms.embedded import free_port
from supersms.receiver.server import THREADS
from supersms.settings import Settings
from supersms.workers import keys

AT_LEAST_70 = Target("≥ 0.70", min_ratio=0.7)
WARM_UP_S = 2.0
ROUNDS = 3
SWEEP_CONNECTIONS = (1, 2, 4, 8, 16, 32)
_runs = itertools.count(1)


@dataclass(frozen=True)
class Server:
    """A gunicorn subprocess and its port."""

    proc: Proc
    port: int


@dataclass(frozen=True)
class Measured:
    """One measured round: the load tool's figures, CPU seconds per request of the server and of Redis, how
    often per request the server's threads went to sleep (waits on Redis, on locks, on the interpreter lock),
    and the fraction of all CPUs busy meanwhile (anyone's work, the load tool's included)."""

    load: LoadResult
    server_cpu_s: float
    redis_cpu_s: float
    server_sleeps: float
    machine_busy: float


def run(lab: Lab) -> Result:
    round_s = 4.0 if lab.quick else 10.0
    tool = choose_tool(lab.load_tool)
    workers = Settings.from_env(lab.env()).receiver_workers
    connections = workers * THREADS
    print(f"  receiver: {tool}, {connections} connections, {ROUNDS} rounds of {round_s:g} s", flush=True)
    lab.flush()
    with Processes(lab) as procs:
        servers = {
            "ours": _start(procs, "receiver", python("supersms", "receiver", "--host", LOOPBACK), workers),
            "bare": _start(procs, "bare-receiver", python("bench.bare_receiver"), workers),
        }
        for server in servers.values():
            saturate(server.port, tool=tool, connections=connections, duration_s=WARM_UP_S, run_id=_run_id())
        rounds: dict[str, list[Measured]] = {"ours": [], "bare": []}
        for _ in range(ROUNDS):
            for name, server in servers.items():
                rounds[name].append(_measure(lab, server, tool, connections, round_s))
        sweep = {
            count: [_measure(lab, server, tool, count, round_s / 2) for server in servers.values()]
            for count in SWEEP_CONNECTIONS
        }
        stored = int(lab.client.xlen(keys.REPORTS))
    lab.flush()
    return _result(rounds, sweep, tool=tool, connections=connections, workers=workers, stored=stored)


def _run_id() -> str:
    """Letters and digits that make this run's msgids unlike any other run's."""
    return f"r{next(_runs)}"


def _start(procs: Processes, role: str, argv: list[str], workers: int) -> Server:
    """Start a server; ready once it answers and all its workers run (their CPU counts from then on)."""
    port = free_port()
    proc = procs.start(role, [*argv, "--port", str(port)], procs.lab.env())

    def answers() -> bool:
        try:
            answered = requests.get(f"http://{LOOPBACK}:{port}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False
        return answered and len(descendants(proc.pid)) >= 1 + workers  # the master and its workers

    proc.wait_ready(answers)
    return Server(proc, port)


def _measure(lab: Lab, server: Server, tool: str, connections: int, duration_s: float) -> Measured:
    before = _counters(lab, server)
    result = saturate(
        server.port, tool=tool, connections=connections, duration_s=duration_s, run_id=_run_id()
    )
    after = _counters(lab, server)
    if not result.requests:
        raise BenchError(f"the {server.proc.role} answered no request: {server.proc.last_log_line()}")
    server_cpu, redis_cpu, sleeps, busy, jiffies = (
        end - start for start, end in zip(before, after, strict=True)
    )
    requests = result.requests
    return Measured(result, server_cpu / requests, redis_cpu / requests, sleeps / requests, busy / jiffies)


def _counters(lab: Lab, server: Server) -> tuple[float, ...]:
    """Server CPU s, Redis CPU s, server sleeps, machine busy and total ticks: all counted up from zero."""
    proc = server.proc
    return (proc.cpu_s(), lab.redis_process.cpu_s(), proc.voluntary_switches(), *machine_jiffies())


def _median(runs: list[Measured], value: str) -> float:
    return statistics.median(getattr(run.load, value) for run in runs)


def _cpu_ms(runs: list[Measured]) -> float:
    """Server CPU per request over all rounds, in ms."""
    requests_done = sum(run.load.requests for run in runs)
    return sum(run.server_cpu_s * run.load.requests for run in runs) / requests_done * 1000


def _result(
    rounds: dict[str, list[Measured]],
    sweep: dict[int, list[Measured]],
    *,
    tool: str,
    connections: int,
    workers: int,
    stored: int,
) -> Result:
    ours, bare = rounds["ours"], rounds["bare"]
    setup = f"gunicorn {workers} workers × {THREADS} threads"
    figures = [
        Figure(
            f"report GETs per second, {setup}",
            _median(ours, "rate_per_s"),
            "req/s",
            _median(bare, "rate_per_s"),
            AT_LEAST_70,
        ),
        Figure("latency p50, same run", _median(ours, "p50_ms"), "ms", _median(bare, "p50_ms")),
        Figure("latency p99, same run", _median(ours, "p99_ms"), "ms", _median(bare, "p99_ms")),
        Figure("server CPU per report, same run", _cpu_ms(ours), "ms", _cpu_ms(bare)),
    ]
    rows = [
        [
            name,
            str(number + 1),
            str(run.load.requests),
            str(run.load.errors),
            f"{run.load.rate_per_s:,.0f}",
            f"{run.load.p50_ms:.2f}",
            f"{run.load.p99_ms:.2f}",
            f"{run.server_cpu_s * 1e6:.0f}",
            f"{run.redis_cpu_s * 1e6:.0f}",
            f"{run.server_sleeps:.1f}",
            f"{run.machine_busy:.0%}",
        ]
        for number in range(ROUNDS)
        for name, run in (("ours", ours[number]), ("bare", bare[number]))
    ]
    headers = (
        "app",
        "round",
        "answered",
        "errors",
        "req/s",
        "p50 ms",
        "p99 ms",
        "server µs/req",
        "redis µs/req",
        "sleeps/req",
        "busy",
    )
    details = [
        f"Load tool {tool}, {connections} keep-alive connections, rounds in turn (figures above are the "
        "medians; sleeps = the server's threads going to sleep, voluntary context switches; busy = all CPUs, "
        "the load tool included):\n" + render(headers, rows),
        "Ratio of each round (ours / bare): "
        + ", ".join(f"{o.load.rate_per_s / b.load.rate_per_s:.2f}" for o, b in zip(ours, bare, strict=True))
        + ".",
        _sweep_table(sweep),
        f"Reports in the stream after the runs (warm-up included): {stored:,}.",
        f"{load_average()} at the end.",
    ]
    return Result("3. Receiver (report GETs on gunicorn)", figures, details)


def _sweep_table(sweep: dict[int, list[Measured]]) -> str:
    """Rate, latency and CPU use of both servers at each number of connections."""
    rows = [
        [
            str(count),
            f"{ours.load.rate_per_s:,.0f}",
            f"{bare.load.rate_per_s:,.0f}",
            f"{ours.load.rate_per_s / bare.load.rate_per_s:.2f}",
            f"{ours.load.p50_ms:.2f} / {bare.load.p50_ms:.2f}",
            f"{ours.server_cpu_s * 1e6:.0f} / {bare.server_cpu_s * 1e6:.0f}",
            f"{ours.machine_busy:.0%} / {bare.machine_busy:.0%}",
        ]
        for count, (ours, bare) in sweep.items()
    ]
    headers = ("connections", "ours req/s", "bare req/s", "ratio", "p50 ms", "server µs/req", "busy")
    return (
        "Against connections (one short round of each per count, ours then bare; pairs are ours / bare):\n"
        + render(headers, rows)
    )
