"""The demo's stack: Redis, the sandbox provider, the receiver, a worker and Flower, up and down together.

:func:`running_stack` starts the parts and stops every one of them on any way out of its block: the end of
the run, an error, Ctrl-C (KeyboardInterrupt) or SIGTERM (turned into SystemExit by the command). While it
stops them, further SIGINT and SIGTERM are ignored, so a second Ctrl-C cannot leave a process behind.

Redis is ``SUPERSMS_REDIS_URL`` when set (only the demo's own records are read; nothing is flushed), else a
private ``redis-server`` on a free port. The sandbox runs in this process; the others are subprocesses
(:mod:`supersms.demo.children`) started with the sandbox's account, so no credentials are needed.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import requests

from supersms.demo.batch import SENDER
from supersms.demo.children import Child, stop_all, supersms_argv
from supersms.embedded import EmbeddedRedis, free_port
from supersms.errors import SmsError
from supersms.sandbox.faults import Faults
from supersms.sandbox.rules import Account
from supersms.sandbox.service import Sandbox
from supersms.settings import masked_url
from supersms.workers.redis_io import connect, translate_errors

READY_TIMEOUT_S = 60.0
POLL_S = 0.1
WORKER_THREADS = 8
RECORD_TTL_S = 3600
"""The demo's records expire after an hour (it matters in a Redis that is not the demo's own)."""
LOOPBACK = "127.0.0.1"
SANDBOX_SEED = 2189
"""Seed of the sandbox's report code draw: the same batch meets the same report codes every time."""
PROBE_TIMEOUT_S = 1.0

Announce = Callable[[str], None]


class StartFailed(SmsError):
    """A part of the stack did not start; ``str()`` says which and why, in one line."""


@dataclass(frozen=True)
class StackOptions:
    """How to run the stack."""

    rate_per_s: float
    flower: bool = True
    redis_url: str | None = None
    """An existing Redis to use (``SUPERSMS_REDIS_URL``); None starts a private one."""


@dataclass
class Stack:
    """What is running: where each part listens, and the subprocesses."""

    redis_url: str
    sandbox: Sandbox
    env: dict[str, str]
    children: list[Child]
    flower_url: str | None = None


@contextmanager
def running_stack(options: StackOptions, faults: Faults, *, announce: Announce) -> Iterator[Stack]:
    """Start every part (announcing each with its pid) and stop all of them when the block ends."""
    exits = ExitStack()
    try:
        yield _start(exits, options, faults, announce)
    finally:
        with _signals_ignored():
            exits.close()


def demo_env(*, redis_url: str, api_url: str, rate_per_s: float, spool_dir: str) -> dict[str, str]:
    """The environment of the demo's processes: this one without ``SUPERSMS_*``, plus the demo's settings."""
    account = Account()
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("SUPERSMS_")}
    return {
        **inherited,
        "PYTHONUNBUFFERED": "1",
        "SUPERSMS_REDIS_URL": redis_url,
        "SUPERSMS_BROKER_URL": redis_url,
        "SUPERSMS_API_URL": api_url,
        "SUPERSMS_ID": account.id,
        "SUPERSMS_PASSWORD": account.password,
        "SUPERSMS_FROM": SENDER,
        "SUPERSMS_RATE_LIMIT": f"{rate_per_s:g}",
        "SUPERSMS_BACKOFF_BASE": "0.5",
        "SUPERSMS_BACKOFF_MAX": "4",
        "SUPERSMS_CONCURRENCY": str(WORKER_THREADS),
        "SUPERSMS_RECORD_TTL": str(RECORD_TTL_S),
        "SUPERSMS_DEFAULT_TTL": str(RECORD_TTL_S),  # a record must outlive its message
        "SUPERSMS_REPORT_ALLOW": LOOPBACK,
        "SUPERSMS_SPOOL_DIR": spool_dir,
        "SUPERSMS_RECEIVER_WORKERS": "1",
    }


def _start(exits: ExitStack, options: StackOptions, faults: Faults, announce: Announce) -> Stack:
    work = Path(exits.enter_context(tempfile.TemporaryDirectory(prefix="supersms-demo-")))
    redis_url = _redis(exits, options.redis_url, work, announce)
    sandbox = Sandbox(faults=faults, seed=SANDBOX_SEED)
    exits.callback(sandbox.stop)
    sandbox.start()
    children: list[Child] = []
    exits.callback(stop_all, children)  # runs first: no send is cut off by the sandbox stopping under it
    announce(f"started sandbox in this process ({sandbox.url}, account {Account().id})")
    (work / "spool").mkdir()
    env = demo_env(
        redis_url=redis_url, api_url=sandbox.url, rate_per_s=options.rate_per_s, spool_dir=str(work / "spool")
    )
    stack = Stack(redis_url=redis_url, sandbox=sandbox, env=env, children=children)
    _start_children(stack, options, work, announce)
    return stack


def _redis(exits: ExitStack, url: str | None, work: Path, announce: Announce) -> str:
    if url is not None:
        _ping(url)
        _refuse_if_consumed(url)
        announce(f"using Redis at SUPERSMS_REDIS_URL ({masked_url(url)}); nothing in it is flushed")
        return url
    server = EmbeddedRedis(directory=str(work))
    exits.callback(server.stop)  # before start: an interrupted start still stops the process
    server.start()
    assert server.process is not None
    announce(f"started redis pid {server.process.pid} ({server.url}, embedded)")
    return server.url


class _Launched(NamedTuple):
    """A child just started, how to tell it is ready, and what to say about it once it is."""

    child: Child
    ready: Callable[[], bool]
    where: str


def _start_children(stack: Stack, options: StackOptions, work: Path, announce: Announce) -> None:
    """Start the receiver, the worker and Flower together, then wait for each to be ready."""
    receiver = _launch_receiver(stack, work)
    launched = [receiver, _launch_worker(stack, options, work)]
    if options.flower:
        launched.append(_launch_flower(stack, work))
    for child, ready, where in launched:
        _wait_ready(child, ready)
        announce(f"started {child.role} pid {child.pid} ({where})")
    stack.sandbox.report_url = receiver.where


def _launch_receiver(stack: Stack, work: Path) -> _Launched:
    port = free_port()
    child = _child(stack, "receiver", ["receiver", "--host", LOOPBACK, "--port", str(port)], work)
    url = f"http://{LOOPBACK}:{port}/"
    return _Launched(child, lambda: _answers(f"{url}healthz"), url)


def _launch_worker(stack: Stack, options: StackOptions, work: Path) -> _Launched:
    child = _child(stack, "worker", ["worker", "-n", "demo@%h", "--without-mingle", "--without-gossip"], work)
    rate = f"rate limit {options.rate_per_s:g}/s" if options.rate_per_s else "no rate limit"
    return _Launched(child, lambda: "ready." in child.log_text(), f"{WORKER_THREADS} threads, {rate}")


def _launch_flower(stack: Stack, work: Path) -> _Launched:
    port = free_port()
    child = _child(stack, "flower", ["flower", "--port", str(port), "--address", LOOPBACK], work)
    stack.flower_url = url = f"http://{LOOPBACK}:{port}/"
    return _Launched(child, lambda: _answers(f"{url}healthcheck"), url)


def _child(stack: Stack, role: str, args: list[str], work: Path) -> Child:
    child = Child(role, supersms_argv(args), env=stack.env, log_path=work / f"{role}.log")
    stack.children.append(child)
    return child


def _wait_ready(child: Child, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready():
        if not child.running():
            raise StartFailed(f"the {child.role} exited at start: {child.last_log_line()}")
        if time.monotonic() > deadline:
            raise StartFailed(
                f"the {child.role} was not ready within {READY_TIMEOUT_S:g} s: {child.last_log_line()}"
            )
        time.sleep(POLL_S)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _ping(url: str) -> None:
    try:
        with translate_errors("answer a PING"):
            connect(url).ping()
    except SmsError:
        raise StartFailed(f"cannot reach Redis at SUPERSMS_REDIS_URL={masked_url(url)}") from None


def _refuse_if_consumed(url: str) -> None:
    """Stop when Celery workers already listen on that Redis: they would take the demo's messages."""
    from celery import Celery  # imported here: only a shared Redis needs the probe

    probe = Celery("supersms-demo-probe", broker=url, set_as_current=False)
    try:
        replies = probe.control.ping(timeout=PROBE_TIMEOUT_S)
    finally:
        probe.close()
    if replies:
        raise StartFailed(
            f"{len(replies)} worker(s) already use SUPERSMS_REDIS_URL and would take the demo's messages; "
            "unset it to run on a private Redis"
        )


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM while the stack stops, then put the handlers back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in saved:
        signal.signal(number, signal.SIG_IGN)
    try:
        yield
    finally:
        for number, handler in saved.items():
            if handler is not None:  # None: a handler not installed from Python, which cannot be put back
                signal.signal(number, handler)
