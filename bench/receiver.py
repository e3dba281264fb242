"""3. Receiver: report GETs per second on gunicorn, against a bare WSGI app on the same gunicorn settings.

Both servers run as ``supersms receiver`` does: gthread workers (``SUPERSMS_RECEIVER_WORKERS``, 8 threads
each), keep-alive. The load tool keeps as many connections open as the server has threads, after a short
warm-up; every request is a distinct valid report, so ours stores each one (Redis stream) before answering.
Server CPU is the gunicorn master and workers' ``utime + stime`` over the measured run.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import requests

from bench.common import LOOPBACK, Lab
from bench.load import LoadResult, choose_tool, saturate
from bench.measure import load_average, machine_jiffies
from bench.procs import BenchError, Proc, Processes, python
from bench.table import Figure, Result, Target, render
from supersms.embedded import free_port
from supersms.receiver.server import THREADS
from supersms.settings import Settings
from supersms.workers import keys

AT_LEAST_70 = Target("≥ 0.70", min_ratio=0.7)
WARM_UP_S = 2.0
_runs = itertools.count(1)


def run(lab: Lab) -> Result:
    duration_s = 10.0 if lab.quick else 30.0
    tool = choose_tool(lab.load_tool)
    workers = Settings.from_env(lab.env()).receiver_workers
    connections = workers * THREADS
    print(f"  receiver: {tool}, {connections} connections, {duration_s:g} s each", flush=True)
    lab.flush()
    with Processes(lab) as procs:
        ours_server = _start(procs, "receiver", python("supersms", "receiver", "--host", LOOPBACK))
        ours = _measure(lab, ours_server, tool, connections, duration_s)
        stored = int(lab.client.xlen(keys.REPORTS))
        procs.stop([ours_server.proc])
        bare_server = _start(procs, "bare-receiver", python("bench.bare_receiver"))
        bare = _measure(lab, bare_server, tool, connections, duration_s)
    lab.flush()
    return _result(ours, bare, tool=tool, connections=connections, workers=workers, stored=stored)


class Server:
    """A gunicorn subprocess and its port."""

    def __init__(self, proc: Proc, port: int) -> None:
        self.proc = proc
        self.port = port


def _start(procs: Processes, role: str, argv: list[str]) -> Server:
    port = free_port()
    proc = procs.start(role, [*argv, "--port", str(port)], procs.lab.env())

    def answers() -> bool:
        try:
            return requests.get(f"http://{LOOPBACK}:{port}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    proc.wait_ready(answers)
    return Server(proc, port)


@dataclass(frozen=True)
class Measured:
    """A measured run: the load tool's figures, CPU seconds per request of the server and of Redis, and the
    fraction of all CPUs busy meanwhile (anyone's work, the load tool's included)."""

    load: LoadResult
    server_cpu_s: float
    redis_cpu_s: float
    machine_busy: float


def _measure(lab: Lab, server: Server, tool: str, connections: int, duration_s: float) -> Measured:
    """A warm-up run, then the measured one."""
    saturate(server.port, tool=tool, connections=connections, duration_s=WARM_UP_S, run_id=f"r{next(_runs)}")
    redis_process = lab.redis_process
    before = (server.proc.cpu_s(), redis_process.cpu_s(), *machine_jiffies())
    result = saturate(
        server.port, tool=tool, connections=connections, duration_s=duration_s, run_id=f"r{next(_runs)}"
    )
    after = (server.proc.cpu_s(), redis_process.cpu_s(), *machine_jiffies())
    if not result.requests:
        raise BenchError(f"the {server.proc.role} answered no request: {server.proc.last_line()}")
    server_cpu, redis_cpu, busy, jiffies = (end - start for start, end in zip(before, after, strict=True))
    return Measured(result, server_cpu / result.requests, redis_cpu / result.requests, busy / jiffies)


def _result(
    ours: Measured, bare: Measured, *, tool: str, connections: int, workers: int, stored: int
) -> Result:
    setup = f"gunicorn {workers} workers × {THREADS} threads"
    figures = [
        Figure(
            f"report GETs per second, {setup}",
            ours.load.rate_per_s,
            "req/s",
            bare.load.rate_per_s,
            AT_LEAST_70,
        ),
        Figure("latency p50, same run", ours.load.p50_ms, "ms", bare.load.p50_ms),
        Figure("latency p99, same run", ours.load.p99_ms, "ms", bare.load.p99_ms),
        Figure("server CPU per report, same run", ours.server_cpu_s * 1000, "ms", bare.server_cpu_s * 1000),
    ]
    rows = [
        [
            label,
            str(run.load.requests),
            str(run.load.errors),
            f"{run.load.rate_per_s:,.0f}",
            f"{run.load.p50_ms:.2f}",
            f"{run.load.p99_ms:.2f}",
            f"{run.server_cpu_s * 1e6:.0f}",
            f"{run.redis_cpu_s * 1e6:.0f}",
            f"{run.machine_busy:.0%}",
        ]
        for label, run in (("ours", ours), ("bare", bare))
    ]
    headers = (
        "app",
        "answered",
        "errors",
        "req/s",
        "p50 ms",
        "p99 ms",
        "server µs/req",
        "redis µs/req",
        "busy",
    )
    details = [
        f"Load tool {tool}, {connections} keep-alive connections (busy = all CPUs, the load tool included):\n"
        + render(headers, rows),
        f"Reports in the stream after ours (warm-up included): {stored:,}.",
        f"{load_average()} at the end.",
    ]
    return Result("3. Receiver (report GETs on gunicorn)", figures, details)
