"""The parts every benchmark starts: a private Redis, the sandbox, and workers, each a subprocess.

Everything listens on 127.0.0.1 only; every subprocess is stopped by its pid (:mod:`bench.procs`) on every
way out of a benchmark.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import redis
import requests

from bench.procs import ROOT, Proc, Processes, python
from bench.progress import Pid
from supersms.demo.batch import SENDER
from supersms.embedded import EmbeddedRedis, free_port
from supersms.sandbox.rules import Account

LOOPBACK = "127.0.0.1"
BARE_QUEUE = "bench.bare"


class Lab:
    """The run's private Redis and working directory (removed at the end unless ``keep_logs``, which a
    failed benchmark sets), and the environment of the processes it starts."""

    def __init__(self, *, quick: bool, load_tool: str = "auto") -> None:
        self.quick = quick
        self.load_tool = load_tool
        self.workdir = Path(tempfile.mkdtemp(prefix="supersms-bench-"))
        self.keep_logs = False
        self.redis = EmbeddedRedis(directory=str(self.workdir))
        self.client: redis.Redis = redis.Redis.from_url(self.redis.url, decode_responses=True)

    @property
    def redis_process(self) -> Pid:
        """The private Redis, for its CPU."""
        assert self.redis.process is not None
        return Pid(self.redis.process.pid)

    def env(self, **overrides: str) -> dict[str, str]:
        """This process's environment without ``SUPERSMS_*``, plus the benchmarks' settings."""
        account = Account()
        inherited = {name: value for name, value in os.environ.items() if not name.startswith("SUPERSMS_")}
        spool = self.workdir / "spool"
        spool.mkdir(exist_ok=True)
        return {
            **inherited,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
            "BENCH_BROKER_URL": self.redis.url,
            "SUPERSMS_REDIS_URL": self.redis.url,
            "SUPERSMS_ID": account.id,
            "SUPERSMS_PASSWORD": account.password,
            "SUPERSMS_FROM": SENDER,
            "SUPERSMS_RATE_LIMIT": "0",
            "SUPERSMS_REPORT_ALLOW": LOOPBACK,
            "SUPERSMS_SPOOL_DIR": str(spool),
            **overrides,
        }

    def flush(self) -> None:
        """Empty Redis between runs."""
        self.client.flushall()

    def __enter__(self) -> Lab:
        self.redis.start()
        os.environ.update({k: v for k, v in self.env().items() if k.startswith(("SUPERSMS_", "BENCH_"))})
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.client.close()
        self.redis.stop()
        if self.keep_logs:
            print(f"logs of the processes kept in {self.workdir}", flush=True)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class SandboxHandle:
    """The sandbox subprocess and its admin endpoints."""

    proc: Proc
    base_url: str

    @property
    def url(self) -> str:
        return f"{self.base_url}/sms/xml"

    def set_faults(self, **changes: Any) -> None:
        requests.post(f"{self.base_url}/_sandbox/faults", json=changes, timeout=5).raise_for_status()

    def reset(self) -> None:
        """Clear the log and pending reports (a long run would otherwise fill the sandbox's memory)."""
        requests.post(f"{self.base_url}/_sandbox/reset", timeout=30).raise_for_status()

    def sends(self) -> list[dict[str, Any]]:
        """Every send request in the log, oldest first."""
        found: list[dict[str, Any]] = []
        since = 0
        while True:
            page = requests.get(
                f"{self.base_url}/_sandbox/log", params={"since": since, "limit": 20_000}, timeout=30
            ).json()
            found += [entry for entry in page["entries"] if entry["kind"] == "send"]
            if not page["entries"]:
                return found
            since = page["next"]


def start_sandbox(procs: Processes, *, latency_s: float = 0.0) -> SandboxHandle:
    """``supersms sandbox`` in its own process (its CPU stays out of ours), reports not delivered anywhere."""
    port = free_port()
    args = ["sandbox", "--host", LOOPBACK, "--port", str(port), "--latency", f"{latency_s:g}"]
    proc = procs.start("sandbox", python("supersms", *args), procs.lab.env())
    proc.wait_ready(lambda: "listening on" in proc.log_text())
    return SandboxHandle(proc=proc, base_url=f"http://{LOOPBACK}:{port}")


def start_workers(
    procs: Processes, count: int, *, concurrency: int, queues: str = "sms.send", **env: str
) -> list[Proc]:
    """``count`` ``supersms worker`` processes (threads pool), started together, returned once all are ready."""
    workers = []
    for n in range(count):
        argv = python(
            "supersms", "worker", "-n", f"bench{n}@%h", "-c", str(concurrency), "-Q", queues,
            "--without-mingle", "--without-gossip",
        )  # fmt: skip
        settings = {"SUPERSMS_CONCURRENCY": str(concurrency), **env}
        workers.append(procs.start("worker", argv, procs.lab.env(**settings)))
    for worker in workers:
        worker.wait_ready(lambda w=worker: "ready." in w.log_text())  # type: ignore[misc]
    return workers


def start_bare_workers(procs: Processes, count: int, *, concurrency: int, api_url: str) -> list[Proc]:
    """``count`` workers of the bare baseline app (:mod:`bench.bare`) with the same pool and settings."""
    workers = []
    for n in range(count):
        argv = python(
            "celery", "-A", "bench.bare", "worker", "-n", f"bare{n}@%h", "-P", "threads",
            "-c", str(concurrency), "-Q", BARE_QUEUE, "--prefetch-multiplier", "1",
            "--without-mingle", "--without-gossip", "-l", "INFO",
        )  # fmt: skip
        env = procs.lab.env(BENCH_API_URL=api_url, BENCH_CONCURRENCY=str(concurrency))
        workers.append(procs.start("bare-worker", argv, env))
    for worker in workers:
        worker.wait_ready(lambda w=worker: "ready." in w.log_text())  # type: ignore[misc]
    return workers
