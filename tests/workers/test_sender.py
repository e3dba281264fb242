"""The sender against real Redis and the sandbox, where an attempt's record meets trouble."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from supersms.protocol.message import validate_message
from supersms.sandbox.service import Sandbox
from supersms.settings import Settings
from supersms.workers.intake import queued_record
from supersms.workers.records import MessageStore
from supersms.workers.runtime import Runtime, build_runtime


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as provider:
        yield provider


@pytest.fixture
def callbacks() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def runtime(redis_url: str, sandbox: Sandbox, callbacks: list[dict[str, Any]]) -> Iterator[Runtime]:
    settings = Settings.from_env(
        {
            "SUPERSMS_REDIS_URL": redis_url,
            "SUPERSMS_API_URL": sandbox.url,
            "SUPERSMS_ID": "infobank_test",
            "SUPERSMS_PASSWORD": "pwinfobank",
            "SUPERSMS_RATE_LIMIT": "0",
        }
    )
    built = build_runtime(settings, run_callback=lambda _signature, record: callbacks.append(record))
    yield built
    built.redis.close()


def queue_message(runtime: Runtime, message_id: str) -> None:
    fields = {"to": "01029652189", "from": "01029652189", "message": "hello"}
    record = queued_record(message_id, validate_message(fields), default_ttl_s=3600, now=datetime.now(UTC))
    runtime.store.create_many([{**record, "on_final": "{}"}])


def test_a_final_outcome_whose_record_reply_was_lost_is_still_called_back_once(
    runtime: Runtime, sandbox: Sandbox, callbacks: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def settle_whose_reply_is_lost(*args: Any, **kwargs: Any) -> Any:
        MessageStore.settle(runtime.store, *args, **kwargs)  # applied in Redis; its reply never arrives
        return MessageStore.settle(runtime.store, *args, **kwargs)  # so the call goes again

    monkeypatch.setattr(runtime.store, "settle", settle_whose_reply_is_lost)
    sandbox.set_faults(script=("R010",))  # sender number not registered: permanent, final
    queue_message(runtime, "lostreply01")

    assert runtime.sender.attempt("lostreply01").done
    assert [record["status"] for record in callbacks] == ["rejected"]
    assert runtime.sender.attempt("lostreply01").done
    assert len(callbacks) == 1, "called back once, not again by a later attempt"
