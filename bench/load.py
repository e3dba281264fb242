"""HTTP load on a report endpoint: as fast as it answers (wrk, or a Python fallback), or at a steady rate.

Every request is a distinct, valid report GET (its msgid counts up), so the receiver's de-duplication never
makes a request cheaper than a real one. wrk is used when installed; without it, a Python generator runs
threads with keep-alive ``http.client`` connections in two processes (slower than wrk: on a small machine
it takes CPU from the server, so its ratio is the less telling one).
"""

from __future__ import annotations

import http.client
import multiprocessing
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.measure import percentile

REPORT_REST = "&to=1093446280&to_country=82&err_code=1000&network=45008&rescnt=1&sent_date=20261125090000"
"""Everything of a report but its msgid (a valid, delivered report)."""
WRK_THREADS = 2
PYTHON_PROCESSES = 2
TIMEOUT_S = 10.0

WRK_SCRIPT = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
function init(args)
  run_id = args[1]
  counter = 0
end
function request()
  counter = counter + 1
  return wrk.format("GET", "/?msgid=" .. run_id .. "t" .. thread_number .. "n" .. counter .. "%s")
end
"""


@dataclass(frozen=True)
class LoadResult:
    """What a saturating run measured: answered requests per second and their latency."""

    tool: str
    requests: int
    errors: int
    rate_per_s: float
    p50_ms: float
    p99_ms: float


def report_path(msgid: str) -> str:
    return f"/?msgid={msgid}{REPORT_REST}"


def choose_tool(wanted: str) -> str:
    """``wrk`` or ``python``: ``auto`` takes wrk when it is on the PATH."""
    if wanted == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    return wanted


def saturate(port: int, *, tool: str, connections: int, duration_s: float, run_id: str) -> LoadResult:
    """Keep ``connections`` keep-alive connections busy for ``duration_s`` against 127.0.0.1:``port``."""
    if tool == "wrk":
        return _wrk(port, connections=connections, duration_s=duration_s, run_id=run_id)
    return _python(port, connections=connections, duration_s=duration_s, run_id=run_id)


def _wrk(port: int, *, connections: int, duration_s: float, run_id: str) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        script = Path(folder) / "reports.lua"
        script.write_text(WRK_SCRIPT % REPORT_REST)
        command = [
            "wrk", f"-t{min(WRK_THREADS, connections)}", f"-c{connections}", f"-d{duration_s:g}s", "--latency",
            "--timeout", f"{TIMEOUT_S:g}s", "-s", str(script), f"http://127.0.0.1:{port}/", "--", run_id,
        ]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> LoadResult:
    """The figures of ``wrk --latency`` output."""
    requests = int(_find(r"(\d+) requests in", output))
    non_2xx = int(_find(r"Non-2xx or 3xx responses: (\d+)", output, default="0"))
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return LoadResult(
        tool="wrk",
        requests=requests,
        errors=non_2xx + socket_errors,
        rate_per_s=float(_find(r"Requests/sec:\s+([\d.]+)", output)),
        p50_ms=_ms(_find(r"50%\s+([\d.]+\w+)", output)),
        p99_ms=_ms(_find(r"99%\s+([\d.]+\w+)", output)),
    )


def _find(pattern: str, text: str, default: str | None = None) -> str:
    match = re.search(pattern, text)
    if match:
        return match.group(1)
    if default is None:
        raise ValueError(f"wrk output without {pattern!r}:\n{text}")
    return default


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _python(port: int, *, connections: int, duration_s: float, run_id: str) -> LoadResult:
    processes = min(PYTHON_PROCESSES, connections)
    per_process = max(1, connections // processes)
    start_at = time.time() + 2.0  # the spawned processes start together, once imported
    context = multiprocessing.get_context("spawn")
    jobs = [(port, per_process, start_at, duration_s, f"{run_id}p{n}") for n in range(processes)]
    with context.Pool(processes) as pool:
        parts = pool.starmap(_load_process, jobs)
    latencies = [ms for _, _, part in parts for ms in part]
    answered = sum(ok for ok, _, _ in parts)
    return LoadResult(
        tool="python",
        requests=answered,
        errors=sum(errors for _, errors, _ in parts),
        rate_per_s=answered / duration_s,
        p50_ms=percentile(latencies, 0.5),
        p99_ms=percentile(latencies, 0.99),
    )


def _load_process(
    port: int, connections: int, start_at: float, duration_s: float, prefix: str
) -> tuple[int, int, list[float]]:
    """One load process: ``connections`` threads, each a keep-alive connection; (ok, errors, latencies)."""
    results: list[tuple[int, int, list[float]]] = []
    threads = [
        threading.Thread(target=_load_thread, args=(port, start_at, duration_s, f"{prefix}t{n}", results))
        for n in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = [ms for _, _, part in results for ms in part]
    return sum(ok for ok, _, _ in results), sum(errors for _, errors, _ in results), latencies


def _load_thread(
    port: int, start_at: float, duration_s: float, prefix: str, results: list[tuple[int, int, list[float]]]
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    ok = errors = 0
    latencies: list[float] = []
    time.sleep(max(0.0, start_at - time.time()))
    end = time.monotonic() + duration_s
    while (now := time.monotonic()) < end:
        try:
            connection.request("GET", report_path(f"{prefix}n{ok + errors}"))
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            continue
        if response.status == 200:
            ok += 1
            latencies.append((time.monotonic() - now) * 1000)
        else:
            errors += 1
    connection.close()
    results.append((ok, errors, latencies))


@dataclass(frozen=True)
class Sent:
    """One paced request: when it left (epoch seconds), how long its answer took, and the HTTP status."""

    sent_at_s: float
    latency_s: float
    status: int


def paced(port: int, paths: Sequence[str], *, rate_per_s: float, threads: int = 4) -> list[Sent]:
    """GET each path at ``rate_per_s`` (request i is due i / rate after the start), from a few threads."""
    sent: list[Sent | None] = [None] * len(paths)
    start = time.monotonic() + 0.2
    workers = [
        threading.Thread(target=_paced_thread, args=(port, paths, sent, start, rate_per_s, k, threads))
        for k in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [entry for entry in sent if entry is not None]


def _paced_thread(
    port: int,
    paths: Sequence[str],
    sent: list[Sent | None],
    start: float,
    rate_per_s: float,
    first: int,
    step: int,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    for index in range(first, len(paths), step):
        time.sleep(max(0.0, start + index / rate_per_s - time.monotonic()))
        sent_at, began = time.time(), time.monotonic()
        try:
            connection.request("GET", paths[index])
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            status = 0
        sent[index] = Sent(sent_at, time.monotonic() - began, status)
    connection.close()
