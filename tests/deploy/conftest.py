"""Fixtures shared by the deploy/ tests."""

from __future__ import annotations

import pytest

from supersms.settings import Settings


@pytest.fixture
def send_in_flight_s() -> float:
    """The longest a send already started can still take, on the default settings: the rate limiter's wait,
    then the HTTP call's connect and read timeouts. A worker asked to stop must be given longer than that."""
    settings = Settings()
    return settings.rate_wait_max_s + settings.connect_timeout_s + settings.read_timeout_s
