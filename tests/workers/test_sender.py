"""The sender against real Redis and the sandbox, where an attempt's record meets trouble."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from supersms.embedded import free_port
from supersms.sandbox.service import Sandbox
from supersms.workers.records import MessageStore
from supersms.workers.runtime import Runtime
from supersms.workers.sender import ttl_left
from tests.support.worker_runtime import queue_message
from tests.workers.conftest import RuntimeFor


class Busy(http.server.BaseHTTPRequestHandler):
    """A provider front that takes no request: 503 with Retry-After, as a load balancer answers."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(503)
        self.send_header("Retry-After", "7")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def busy_provider() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


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


def test_an_attempt_sends_the_validity_the_message_has_left(
    worker_runtime: Runtime, sandbox: Sandbox
) -> None:
    """Created with a ttl of 3600 s, it waited 1000 s before its attempt: the provider is told 2600 s."""
    queue_message(worker_runtime, "ttlleft01", expires_ms=str(int((time.time() + 2600) * 1000)))
    assert worker_runtime.sender.attempt("ttlleft01").done
    (sent,) = sandbox.log.sends()
    assert 2590 <= int(sent.fields["ttl"]) <= 2600


@pytest.mark.parametrize(("seconds", "sent"), [(0.2, 1), (59.01, 60), (3600.0, 3600), (8 * 86400.0, None)])
def test_the_validity_left_is_whole_seconds_and_at_least_one(seconds: float, sent: int | None) -> None:
    assert ttl_left(seconds) == sent


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


def test_a_provider_refusing_connections_is_retried_later(runtime_for: RuntimeFor) -> None:
    runtime = runtime_for(f"http://127.0.0.1:{free_port()}/")  # nothing listens there
    queue_message(runtime, "refused01")

    waiting = runtime.sender.attempt("refused01")

    record = runtime.store.load("refused01")
    assert waiting.again_in_s is not None and not waiting.held_back
    assert (record["status"], record["attempts"]) == ("retrying", "1")
    assert "could not connect" in record["detail"]


def test_a_provider_answering_503_is_retried_no_sooner_than_it_asks(
    runtime_for: RuntimeFor, busy_provider: str
) -> None:
    runtime = runtime_for(busy_provider)
    queue_message(runtime, "busy01")

    asked_at_s = time.time()
    waiting = runtime.sender.attempt("busy01")

    record = runtime.store.load("busy01")
    assert int(record["next_attempt_ms"]) >= (asked_at_s + 7) * 1000, "the backoff alone is under a second"
    assert waiting.again_in_s is not None and waiting.again_in_s > 6
    assert (record["status"], record["attempts"]) == ("retrying", "1")
    assert "HTTP 503" in record["detail"]


def test_a_send_whose_reply_never_came_is_never_sent_again(worker_runtime: Runtime, sandbox: Sandbox) -> None:
    """The provider read the request and closed without answering: it may have taken the message."""
    sandbox.set_faults(drop_after_read=True)
    queue_message(worker_runtime, "noreply01")

    assert worker_runtime.sender.attempt("noreply01").done
    sandbox.set_faults(drop_after_read=False)
    assert worker_runtime.sender.attempt("noreply01").done, "a redelivered task ends at once"

    record = worker_runtime.store.load("noreply01")
    assert (record["status"], record["reason"], record["attempts"]) == ("failed", "outcome_unknown", "1")
    assert len(sandbox.log.sends()) == 1


def test_a_message_whose_ttl_ends_before_the_pause_fails_at_once(worker_runtime: Runtime) -> None:
    worker_runtime.pause.open("R013", "provider refused the account")  # holds SUPERSMS_PAUSE, 60 s
    queue_message(worker_runtime, "shortttl01", expires_ms=str(int((time.time() + 30) * 1000)))

    assert worker_runtime.sender.attempt("shortttl01").done

    record = worker_runtime.store.load("shortttl01")
    assert (record["status"], record["reason"], record["attempts"]) == ("failed", "ttl_expired", "0")
