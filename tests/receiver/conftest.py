"""Fixtures for the receiver: settings pointing at the private Redis and a spool in the test's directory."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from supersms.embedded import EmbeddedRedis
from supersms.receiver.app import ReceiverApp, create_app
from supersms.receiver.store import ReportStore
from supersms.settings import Settings
from supersms.workers.redis_io import connect

REPLAY_INTERVAL_S = 0.1

MakeApp = Callable[..., ReceiverApp]


def receiver_settings(redis_url: str, spool_dir: Path, **changes: object) -> Settings:
    """Settings as the environment gives them: the provider's two addresses and 127.0.0.1 may report."""
    settings = Settings.from_env(
        {
            "SUPERSMS_REDIS_URL": redis_url,
            "SUPERSMS_REPORT_ALLOW": "211.233.70.235,211.233.70.236,127.0.0.1",
            "SUPERSMS_TRUSTED_PROXIES": "10.0.0.0/29",
            "SUPERSMS_SPOOL_DIR": str(spool_dir),
        }
    )
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def make_app(redis_url: str, spool_dir: Path) -> Iterator[MakeApp]:
    """Build receivers (settings overridable by keyword); each is closed at the end of the test."""
    built: list[ReceiverApp] = []

    def make(*, redis: str = redis_url, spool: Path = spool_dir, **changes: object) -> ReceiverApp:
        app = create_app(receiver_settings(redis, spool, **changes), replay_interval_s=REPLAY_INTERVAL_S)
        built.append(app)
        return app

    yield make
    for app in built:
        app.close()


@pytest.fixture
def app(make_app: MakeApp) -> ReceiverApp:
    return make_app()


@pytest.fixture
def report_store(redis_url: str) -> Iterator[ReportStore]:
    client = connect(redis_url)
    yield ReportStore(redis=client)
    client.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis of this test alone, to stop and start again (same port, same directory)."""
    directory = tmp_path / "redis"
    directory.mkdir()
    with EmbeddedRedis(directory=str(directory)) as server:
        yield server
