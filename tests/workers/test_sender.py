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


def test_a_long_wait_comes_back_in_hops_well_inside_the_visibility_timeout(worker_runtime: Runtime) -> None:
    """A countdown near the Redis broker's visibility timeout would have the task delivered twice."""
    settings = worker_runtime.settings
    assert settings.pause_s > settings.visibility_timeout_s / 4, "the pause must outlast one hop"
    worker_runtime.pause.open("R002", "provider refused the account")
    queue_message(worker_runtime, "longwait01")

    waiting = worker_runtime.sender.attempt("longwait01")

    assert waiting.again_in_s is not None and waiting.held_back
    assert 0 < waiting.again_in_s <= settings.visibility_timeout_s / 4
    assert worker_runtime.store.load("longwait01")["status"] == "retrying"
