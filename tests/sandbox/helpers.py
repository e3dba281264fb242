"""Helpers for the sandbox tests: the provider's example request, and a tiny report receiver.

The receiver is a stdlib HTTP server on a loopback port whose answer is chosen per test: the proper
``report_response``, garbage, an HTTP 500, or a response echoing the wrong msgid, to or to_country.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from supersms.protocol.reports import render_report_response
from supersms.sandbox import Faults, Sandbox

EXAMPLE = {
    "id": "infobank_test",
    "pwd": "pwinfobank",
    "from": "01029652189",
    "to_country": "82",
    "to": "1093446280",
    "message": "Hello Infobank",
    "report_req": "1",
}
"""The provider's own example request."""

QUICK = Faults(report_delay_s=0.01, report_retry_delay_s=0.01)


@dataclass(frozen=True)
class Received:
    """One report GET as the receiver saw it."""

    monotonic_s: float
    fields: dict[str, str]


class Receiver:
    """Records report GETs and answers them as ``mode`` says: ``ok``, ``garbage``, ``500`` or ``wrong`` (the
    msgid; ``wrong-to``, ``wrong-country``: those fields)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.received: list[Received] = []
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/report"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def record(self, fields: dict[str, str]) -> None:
        with self._changed:
            self.received.append(Received(time.monotonic(), fields))
            self._changed.notify_all()

    def wait_for(self, count: int, timeout_s: float = 3.0) -> list[Received]:
        """Wait until ``count`` reports arrived; return them all."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.received) >= count, timeout_s)
            return list(self.received)

    def answer(self, fields: dict[str, str]) -> tuple[int, bytes]:
        echoed = render_report_response(
            msgid=fields.get("msgid", ""), to_country=fields.get("to_country", ""), to=fields.get("to", "")
        )
        answers = {
            "ok": (200, echoed),
            "garbage": (200, b"thanks!"),
            "500": (500, echoed),
            "wrong": (200, echoed.replace(b"<msgid>", b"<msgid>9")),
            "wrong-to": (200, echoed.replace(b"<to>", b"<to>9")),
            "wrong-country": (200, echoed.replace(b"<to_country>", b"<to_country>9")),
        }
        return answers[self.mode]


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
            fields = {name: values[0] for name, values in query.items()}
            status, body = receiver.answer(fields)  # decided before the test can see the report
            receiver.record(fields)
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def send(session: requests.Session, sandbox: Sandbox, **changes: str | None) -> requests.Response:
    """POST the provider's example request with ``changes`` (a ``None`` value leaves the field out)."""
    fields = {**EXAMPLE, **changes}
    return session.post(sandbox.url, data={k: v for k, v in fields.items() if v is not None}, timeout=5)
