"""Fixtures for the sandbox tests: a running sandbox calling reports back to a tiny local receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from supersms.sandbox import Sandbox
from tests.sandbox.helpers import QUICK, Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def sandbox(receiver: Receiver) -> Iterator[Sandbox]:
    with Sandbox(report_url=receiver.url, faults=QUICK, first_msgid=1, seed=7) as sandbox:
        yield sandbox


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
