"""``supersms.receiver.wsgi:application``: built from the environment on its first request, not at import."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from supersms.receiver.wsgi import FromEnvironment, application
from supersms.workers import keys
from tests.receiver.wsgi_client import GOOD_RESPONSE, call


@pytest.fixture
def from_environment() -> Iterator[FromEnvironment]:
    app = FromEnvironment()
    yield app
    app.close()


def test_importing_the_module_builds_and_connects_nothing() -> None:
    assert application._app is None


def test_the_first_request_builds_the_receiver_from_the_environment(
    from_environment: FromEnvironment,
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("SUPERSMS_REDIS_URL", redis_url)
    monkeypatch.setenv("SUPERSMS_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("SUPERSMS_REPORT_ALLOW", raising=False)  # the provider's addresses by default
    monkeypatch.delenv("SUPERSMS_REPORT_PATH", raising=False)

    answer = call(from_environment)

    assert (answer.code, answer.body) == (200, GOOD_RESPONSE)
    assert redis_client.xlen(keys.REPORTS) == 1
    assert call(from_environment, remote_addr="127.0.0.1").code == 403


def test_a_malformed_environment_is_logged_and_answered_503(
    from_environment: FromEnvironment, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SUPERSMS_REPORT_ALLOW", "not-an-address")

    with caplog.at_level(logging.ERROR, logger="supersms.receiver.wsgi"):
        answer = call(from_environment)

    assert answer.code == 503
    assert "SUPERSMS_REPORT_ALLOW" in caplog.text
