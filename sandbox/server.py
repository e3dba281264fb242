"""The sandbox's HTTP server: the provider's send endpoint, plus its own ``/_sandbox/`` endpoints.

HTTP/1.1 with keep-alive, as a client's ``requests.Session`` expects: every answer carries ``Content-Length``.
Send requests are accepted at ``/sms/xml`` (the provider's path) and ``/``, as a GET query or a POST form.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from supersms.sandbox.admin import Admin
from supersms.sandbox.desk import SendDesk
from supersms.sandbox.form import parse_form

logger = logging.getLogger(__name__)

SEND_PATHS = frozenset({"/sms/xml", "/"})
MAX_BODY_BYTES = 1024 * 1024
IDLE_TIMEOUT_S = 60.0
XML = "application/xml; charset=utf-8"
JSON = "application/json"


class SandboxServer(ThreadingHTTPServer):
    """A threading server that knows its open connections, so stopping it closes idle keep-alive ones too."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # listen backlog: a pool of workers connecting at once must not find it full
    # (the standard library's 5 makes the rest retry their SYN, or be reset, while the server is busy)

    def __init__(self, address: tuple[str, int], *, desk: SendDesk, admin: Admin) -> None:
        super().__init__(address, SandboxHandler)
        self.desk = desk
        self.admin = admin
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    @property
    def open_connections(self) -> int:
        """How many client connections are open now."""
        with self._connections_lock:
            return len(self._connections)

    def close_connections(self) -> None:
        """Cut every open connection (a client's next request on it fails, as with a stopped provider)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class SandboxHandler(BaseHTTPRequestHandler):
    """One connection: routes each request to the send desk or the admin endpoints."""

    protocol_version = "HTTP/1.1"
    server_version = "supersms-sandbox"
    timeout = IDLE_TIMEOUT_S
    disable_nagle_algorithm = True  # headers and body go out as two writes: do not let them wait for an ACK
    server: SandboxServer

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)

    def _route(self, method: str) -> None:
        length = self._content_length()
        if length is None or length > MAX_BODY_BYTES:
            self.close_connection = True  # the body was not read: the connection cannot be reused
            self._answer(400 if length is None else 413, "text/plain", b"bad or too large request body\n")
            return
        body = self.rfile.read(length) if length else b""
        target = urlsplit(self.path)
        if target.path in SEND_PATHS:
            self._send(method, target.query, body)
            return
        endpoint = self.server.admin.route(method, target.path)
        if endpoint is None:
            self._answer(404, "text/plain", b"not found\n")
            return
        status, payload = endpoint(target.query, body)
        self._answer(status, JSON, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    def _send(self, method: str, query: str, body: bytes) -> None:
        # The request line arrives as latin-1 text: encoding it back gives the bytes the client sent.
        fields = parse_form(query.encode("latin-1"), body if method == "POST" else b"")
        reply = self.server.desk.handle(method, fields)
        if reply is None:
            self.close_connection = True  # read, accepted, and never answered
            return
        self._answer(200, XML, reply)

    def _content_length(self) -> int | None:
        if self.headers.get("Transfer-Encoding"):
            return None  # chunked bodies are not supported: the provider's clients send forms with a length
        text = self.headers.get("Content-Length") or "0"
        return int(text) if text.isascii() and text.isdigit() else None

    def _answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
