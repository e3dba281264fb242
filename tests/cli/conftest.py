"""Fixtures for the command line: ``python -m supersms ...`` as a real subprocess against the private Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from supersms.embedded import free_port
from supersms.workers.records import MessageStore
from supersms.workers.redis_io import connect
from tests.cli.helpers import SENDER, Finished

RUN_TIMEOUT_S = 60.0

Run = Callable[..., Finished]


def environment(**overrides: str) -> dict[str, str]:
    """This process's environment without any ``SUPERSMS_*`` variable, plus ``overrides``."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("SUPERSMS_")}
    return {**clean, **overrides}


@pytest.fixture
def cli_env(redis_url: str) -> dict[str, str]:
    """The settings a producer on this machine would have: the private Redis and a default sender."""
    return {"SUPERSMS_REDIS_URL": redis_url, "SUPERSMS_FROM": SENDER}


@pytest.fixture
def supersms(cli_env: dict[str, str]) -> Run:
    """Run ``supersms ARGS...`` to completion: ``supersms("send", "--to", ..., stdin=..., **env)``.

    ``env`` adds to (or, given as ``""``, blanks) the producer settings of :func:`cli_env`.
    """

    def run(*args: str, stdin: str | bytes | None = None, **env: str) -> Finished:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        completed = subprocess.run(
            [sys.executable, "-m", "supersms", *args],
            env=environment(**{**cli_env, **env}),
            input=data,
            capture_output=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
        return Finished(
            completed.returncode,
            completed.stdout.decode(errors="replace"),
            completed.stderr.decode(errors="replace"),
        )

    return run


@pytest.fixture
def unreachable_redis_url() -> str:
    """A Redis URL on a loopback port where nothing listens."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def store(redis_url: str) -> MessageStore:
    return MessageStore(redis_client=connect(redis_url), record_ttl_s=3600)
