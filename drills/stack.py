"""The parts a drill runs, all on 127.0.0.1: a private Redis, the sandbox provider, the receiver, workers.

Redis, the receiver and the workers are processes of their own, started and stopped by their pid; the
sandbox runs in this process. :func:`running_stack` stops every part on any way out of its block, so a
drill that fails midway leaves nothing running.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from drills.timeline import Timeline
from supersms.embedded import EmbeddedRedis, free_port
from supersms.sandbox.faults import Faults
from supersms.sandbox.rules import Account
from supersms.sandbox.service import Sandbox
from tests.support.processes import Process, start_receiver, start_worker

SENDER = "01029652189"
LOOPBACK = "127.0.0.1"

DRILL_ENV = {
    "PYTHONUNBUFFERED": "1",
    "SUPERSMS_FROM": SENDER,
    "SUPERSMS_RATE_LIMIT": "0",
    "SUPERSMS_BACKOFF_BASE": "0.2",
    "SUPERSMS_BACKOFF_MAX": "2",
    "SUPERSMS_CONNECT_TIMEOUT": "0.5",
    "SUPERSMS_READ_TIMEOUT": "1",
    "SUPERSMS_STALE_CLAIM": "4",
    "SUPERSMS_VISIBILITY_TIMEOUT": "20",
    "SUPERSMS_PAUSE": "30",
    "SUPERSMS_RECORD_TTL": "3600",
    "SUPERSMS_DEFAULT_TTL": "3600",
    "SUPERSMS_REPORT_ALLOW": LOOPBACK,
    "SUPERSMS_RECEIVER_WORKERS": "1",
}
"""Short timeouts, so that every recovery path shows within seconds rather than minutes."""

QUICK_REPORTS = {"report_delay_s": 0.05, "report_retry_delay_s": 0.2}


@dataclass
class Stack:
    """What is running. ``providers`` holds every sandbox started (their logs are the evidence)."""

    workdir: Path
    redis: EmbeddedRedis
    env: dict[str, str]
    timeline: Timeline
    providers: list[Sandbox] = field(default_factory=list)
    receiver: Process | None = None
    receiver_url: str | None = None
    workers: dict[str, Process] = field(default_factory=dict)
    stopped_providers: list[Sandbox] = field(default_factory=list)
    killed: set[str] = field(default_factory=set)
    task_ids: dict[str, str] = field(default_factory=dict)
    """message id → id of the first task published for it."""
    _exits: ExitStack = field(default_factory=ExitStack)

    @property
    def redis_url(self) -> str:
        return self.redis.url

    @property
    def provider(self) -> Sandbox:
        """The sandbox serving now (the last one started)."""
        return self.providers[-1]

    def start_provider(self, *, port: int = 0, **faults: object) -> Sandbox:
        """Start a sandbox (on ``port``, 0 for a free one) that calls reports back to the receiver."""
        sandbox = Sandbox(port=port, report_url=self.receiver_url, faults=Faults().merged(faults))
        self._exits.callback(sandbox.stop)
        sandbox.start()
        self.providers.append(sandbox)
        self.env["SUPERSMS_API_URL"] = sandbox.url
        return sandbox

    def stop_provider(self) -> None:
        """Stop the serving sandbox: its port refuses connections, its reports not yet sent are dropped."""
        sandbox = self.provider
        sandbox.stop()
        self.stopped_providers.append(sandbox)
        self.timeline.say(f"sandbox on port {sandbox.port} stopped: connections are refused")

    def provider_running(self, sandbox: Sandbox) -> bool:
        return all(sandbox is not stopped for stopped in self.stopped_providers)

    def start_receiver(self) -> Process:
        """The receiver (gunicorn, one serving process) on a free port; the sandboxes report to it."""
        port = free_port()
        self.env["SUPERSMS_SPOOL_DIR"] = str(self.workdir / "spool")
        receiver = start_receiver(env=self.env, tmp_path=self.workdir, port=port)
        self._exits.callback(receiver.stop)
        self.receiver, self.receiver_url = receiver, f"http://{LOOPBACK}:{port}/"
        for sandbox in self.providers:
            sandbox.report_url = self.receiver_url
        self.timeline.say(f"receiver up: pid {receiver.pid}, {self.receiver_url}")
        return receiver

    def start_worker(
        self, name: str, *, concurrency: int = 8, queues: str | None = None, **env: str
    ) -> Process:
        """A ``supersms worker`` process, returned once it is ready; stopped by its pid at the end."""
        worker = start_worker(
            name, env={**self.env, **env}, tmp_path=self.workdir, concurrency=concurrency, queues=queues
        )
        self._exits.callback(worker.stop)
        self.workers[name] = worker
        where = f" on {queues}" if queues else ""
        self.timeline.say(f"worker {name} up: pid {worker.pid}, {concurrency} threads{where}")
        return worker

    def kill_worker(self, name: str) -> None:
        """SIGKILL a worker by its pid, as a crash would."""
        worker = self.workers[name]
        worker.kill()
        self.killed.add(name)
        self.timeline.say(f"SIGKILLed worker {name} (pid {worker.pid})")


@contextmanager
def running_stack(
    workdir: Path, timeline: Timeline, *, appendonly: bool = False, env: Mapping[str, str] | None = None
) -> Iterator[Stack]:
    """A private Redis (AOF with ``appendfsync everysec`` when ``appendonly``); the caller adds the rest.

    Every part added through the :class:`Stack` is stopped, by its pid, when the block ends, in the reverse
    order of its start (workers before the sandbox they call, the receiver after it), and Redis last.
    """
    (workdir / "redis").mkdir(parents=True, exist_ok=True)
    redis = EmbeddedRedis(directory=str(workdir / "redis"), appendonly=appendonly)
    with ExitStack() as outer:
        outer.callback(_stop_quietly, redis)
        redis.start()
        durability = "AOF, appendfsync everysec" if appendonly else "no persistence"
        timeline.say(f"redis up: pid {redis_pid(redis)}, {redis.url} ({durability})")
        account = Account()
        stack = Stack(
            workdir=workdir,
            redis=redis,
            timeline=timeline,
            env={
                **DRILL_ENV,
                "SUPERSMS_ID": account.id,
                "SUPERSMS_PASSWORD": account.password,
                "SUPERSMS_REDIS_URL": redis.url,
                **(env or {}),
            },
        )
        with stack._exits:
            yield stack


def redis_pid(redis: EmbeddedRedis) -> int | None:
    return redis.process.pid if redis.process is not None else None


def _stop_quietly(redis: EmbeddedRedis) -> None:
    with contextlib.suppress(Exception):  # a Redis already stopped by the drill is fine
        redis.stop()
