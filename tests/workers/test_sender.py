"""The sender against real Redis and the sandbox, where an attempt's record meets trouble."""

from __future__ import annotations

from typing import Any

import pytest

from supersms.sandbox.service import Sandbox
from supersms.workers.records import MessageStore
from supersms.workers.runtime import Runtime
from tests.support.worker_runtime import queue_message


def test_a_final_outcome_whose_record_reply_was_lost_is_still_called_back_once(
    worker_runtime: Runtime,
    sandbox: Sandbox,
    callbacks: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = worker_runtime.store

    def settle_whose_reply_is_lost(*args: Any, **kwargs: Any) -> Any:
        MessageStore.settle(store, *args, **kwargs)  # applied in Redis; its reply never arrives
        return MessageStore.settle(store, *args, **kwargs)  # so the call goes again

    monkeypatch.setattr(store, "settle", settle_whose_reply_is_lost)
    sandbox.set_faults(script=("R010",))  # sender number not registered: permanent, final
    queue_message(worker_runtime, "lostreply01", on_final="{}")

    assert worker_runtime.sender.attempt("lostreply01").done
    assert [record["status"] for record in callbacks] == ["rejected"]
    assert worker_runtime.sender.attempt("lostreply01").done
    assert len(callbacks) == 1, "called back once, not again by a later attempt"
