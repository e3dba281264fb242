"""The provider client over real loopback sockets: each kind of answer or failure becomes its documented outcome."""

from __future__ import annotations

import collections
import contextlib
import logging
import select
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest
import requests

from supersms.errors import MalformedReply, OutcomeUnknown, ProviderBusy, ProviderError, ProviderUnreachable
from supersms.protocol.replies import MAX_REPLY_BYTES, MessageResult, SubmitReply, render_submit_reply
from supersms.sandbox import Account, Faults, Sandbox
from supersms.sandbox.server import SandboxHandler
from supersms.workers.provider import ProviderClient, build_session

PROVIDER_URL = "https://rest.supersms.co/sms/xml"
ACCOUNT_ID = "acct-Id-7Q"
PASSWORD = "S3cr3t/+&=pw"
SECRETS = (ACCOUNT_ID, PASSWORD, quote_plus(PASSWORD), quote_plus(ACCOUNT_ID))
CONNECT_TIMEOUT_S = 0.3
READ_TIMEOUT_S = 0.3
FIELDS = {
    "from": b"01029652189",
    "to_country": b"82",
    "to": b"1093446280",
    "message": "안녕 & bye".encode("euc-kr"),
    "report_req": b"1",
    "charset": b"2",
}
ACCEPTED = SubmitReply(
    messages=(MessageResult("R000", "00000123", 1),), to_country="82", to="1093446280", ref="AA123456789"
)
PAGE_XML = render_submit_reply(
    to_country="82", to="1093446280", results=ACCEPTED.messages, ref="AA123456789", typographic_quotes=True
)


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    def params(self) -> dict[str, list[str]]:
        """The form fields, from the body (POST) or the query (GET), decoded as the provider would (euc-kr)."""
        raw = self.body.decode("ascii") if self.method == "POST" else urlsplit(self.target).query
        return parse_qs(raw, keep_blank_values=True, encoding="euc-kr")


Behaviour = Callable[[socket.socket, Request, threading.Event], bool]
"""Answers one request on a connection; returns whether to keep the connection for another request."""


class LoopbackServer:
    """An HTTP/1.1 server on 127.0.0.1 whose every answer is scripted; counts connections and requests."""

    def __init__(self, behaviour: Behaviour, *, tls: ssl.SSLContext | None = None) -> None:
        self._behaviour = behaviour
        self._tls = tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections: list[socket.socket] = []
        self.requests: list[Request] = []
        scheme = "http" if tls is None else "https"
        self.url = f"{scheme}://127.0.0.1:{self._listener.getsockname()[1]}/sms/xml"
        self._start(self._accept_loop)

    @property
    def connections(self) -> int:
        return len(self._connections)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
                connection = self._secured(connection)
            except OSError:  # nobody came within the listener's timeout, or a TLS handshake failed
                continue
            self._connections.append(connection)
            self._start(self._serve, connection)

    def _secured(self, connection: socket.socket) -> socket.socket:
        connection.settimeout(2.0)
        if self._tls is None:
            return connection
        try:
            return self._tls.wrap_socket(connection, server_side=True)
        except OSError:
            connection.close()
            raise

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            keep = True
            while keep and not self._stopping.is_set():
                request = read_request(connection)
                if request is None:
                    return
                self.requests.append(request)
                try:
                    keep = self._behaviour(connection, request, self._stopping)
                except OSError:  # the client, or the end of the test, closed the connection first
                    return

    def close(self) -> None:
        self._stopping.set()
        for connection in self._connections:
            # Shut down first: that wakes a thread waiting in recv, which close alone does not.
            with contextlib.suppress(OSError):  # already closed
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()


def read_request(connection: socket.socket) -> Request | None:
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        while len(body) < int(headers.get("content-length", "0")):
            body += connection.recv(65536)
    except OSError:
        return None
    return Request(method, target, headers, body)


def respond(status: int, body: bytes, *headers: str) -> Behaviour:
    def behaviour(connection: socket.socket, request: Request, stopping: threading.Event) -> bool:
        head = [f"HTTP/1.1 {status} Scripted", f"Content-Length: {len(body)}", *headers, "", ""]
        connection.sendall("\r\n".join(head).encode() + body)
        return True

    return behaviour


def answer_late(connection: socket.socket, request: Request, stopping: threading.Event) -> bool:
    stopping.wait(READ_TIMEOUT_S * 3)
    return False


def close_after_reading(connection: socket.socket, request: Request, stopping: threading.Event) -> bool:
    connection.shutdown(socket.SHUT_RDWR)
    return False


def reset_after_reading(connection: socket.socket, request: Request, stopping: threading.Event) -> bool:
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return False


def cut_short_in_body(connection: socket.socket, request: Request, stopping: threading.Event) -> bool:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n<submit_response>")
    connection.shutdown(socket.SHUT_RDWR)
    return False


def broken_chunking(connection: socket.socket, request: Request, stopping: threading.Event) -> bool:
    connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<subm\r\nzz\r\n")
    connection.shutdown(socket.SHUT_RDWR)
    return False


def stall_in_body(connection: socket.socket, request: Request, stopping: threading.Event) -> bool:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n<submit_response>")
    stopping.wait(READ_TIMEOUT_S * 3)
    return False


def answer_then_close_unread(connection: socket.socket, request: Request, stopping: threading.Event) -> bool:
    """Answer, then close as idle just as the next request arrives, leaving it unread: the kernel resets."""
    respond(200, PAGE_XML)(connection, request, stopping)
    select.select([connection], [], [], 2.0)
    return False


def answer_then_end_stream_as_request_arrives(
    connection: socket.socket, request: Request, stopping: threading.Event
) -> bool:
    """Answer, then end the stream as the next request arrives (its FIN crossing the request), and close a moment
    later with the request unread: the client sees the end of stream first, the reset after."""
    respond(200, PAGE_XML)(connection, request, stopping)
    select.select([connection], [], [], 2.0)
    connection.shutdown(socket.SHUT_WR)
    stopping.wait(0.05)
    return False


def in_turn(*behaviours: Behaviour) -> Behaviour:
    """One behaviour per request, in order, on whichever connection; the last one for every request after."""
    turns = iter(behaviours)

    def behaviour(connection: socket.socket, request: Request, stopping: threading.Event) -> bool:
        return next(turns, behaviours[-1])(connection, request, stopping)

    return behaviour


class Serve(Protocol):
    def __call__(self, behaviour: Behaviour, *, tls: ssl.SSLContext | None = None) -> LoopbackServer: ...


@dataclass(frozen=True)
class Certificates:
    ca_path: str
    server_context: ssl.SSLContext


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A throwaway authority and a certificate for 127.0.0.1 it signed, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a test certificate with")
    folder = tmp_path_factory.mktemp("tls")
    (folder / "server.ext").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    for command in (
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-authority"
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign",
        "req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1",
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1"
        " -extfile server.ext",
    ):
        subprocess.run([openssl, *command.split()], cwd=folder, check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return Certificates(str(folder / "ca.pem"), context)


@dataclass(frozen=True)
class Link:
    """A scripted server's starter and a session that trusts it, over plain HTTP or over TLS."""

    start: Callable[[Behaviour], LoopbackServer]
    session: requests.Session


@pytest.fixture(params=["http", "https"])
def link(request: pytest.FixtureRequest, serve: Serve, session: requests.Session) -> Link:
    if request.param == "http":
        return Link(serve, session)
    certificates: Certificates = request.getfixturevalue("certificates")
    session.trust_env = False  # a CA bundle named in the environment would override the session's
    session.verify = certificates.ca_path
    return Link(lambda behaviour: serve(behaviour, tls=certificates.server_context), session)


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with build_session(url=PROVIDER_URL, pool_size=2) as session:
        yield session


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[LoopbackServer] = []

    def start(behaviour: Behaviour, *, tls: ssl.SSLContext | None = None) -> LoopbackServer:
        servers.append(LoopbackServer(behaviour, tls=tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def client_for(url: str, session: requests.Session, method: str = "POST") -> ProviderClient:
    return ProviderClient(
        url=url,
        account_id=ACCOUNT_ID,
        password=PASSWORD,
        session=session,
        connect_timeout_s=CONNECT_TIMEOUT_S,
        read_timeout_s=READ_TIMEOUT_S,
        method=method,
    )


def closed_port_url() -> str:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/sms/xml"


@pytest.fixture
def full_backlog_url() -> Iterator[str]:
    """A listening port whose accept queue is full, so that a new connection's SYN goes unanswered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    filler = socket.create_connection(listener.getsockname(), timeout=1)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/sms/xml"
    filler.close()
    listener.close()


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_the_pages_reply_is_returned_as_a_submit_reply(
    method: str, serve: Serve, session: requests.Session
) -> None:
    server = serve(respond(200, PAGE_XML, "Content-Type: text/xml"))
    assert client_for(server.url, session, method).submit(FIELDS) == ACCEPTED


def test_post_sends_credentials_and_fields_form_encoded_in_the_body(
    serve: Serve, session: requests.Session
) -> None:
    server = serve(respond(200, PAGE_XML))
    client_for(server.url, session).submit(FIELDS)
    (request,) = server.requests
    assert (request.method, request.target) == ("POST", "/sms/xml")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.params()["pwd"] == [PASSWORD]
    assert request.params()["id"] == [ACCOUNT_ID]
    assert request.params()["message"] == ["안녕 & bye"]
    assert list(request.params()) == ["id", "pwd", *FIELDS]


def test_get_sends_everything_in_the_query_string(serve: Serve, session: requests.Session) -> None:
    server = serve(respond(200, PAGE_XML))
    client_for(server.url, session, "GET").submit(FIELDS)
    (request,) = server.requests
    assert (request.method, request.body) == ("GET", b"")
    assert request.params()["pwd"] == [PASSWORD]
    assert request.params()["message"] == ["안녕 & bye"]


def test_get_keeps_a_query_the_provider_url_already_has(serve: Serve, session: requests.Session) -> None:
    server = serve(respond(200, PAGE_XML))
    client_for(f"{server.url}?service=sms", session, "GET").submit(FIELDS)
    (request,) = server.requests
    assert request.target.startswith("/sms/xml?service=sms&id=")
    assert request.params()["service"] == ["sms"] and request.params()["id"] == [ACCOUNT_ID]


class RecordingSession(requests.Session):
    """A real session that notes the timeout of each request it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[object] = []

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.timeouts.append(kwargs.get("timeout"))
        return super().request(*args, **kwargs)


def test_the_connect_and_read_timeouts_reach_requests_in_that_order(serve: Serve) -> None:
    server = serve(respond(200, PAGE_XML))
    session = RecordingSession()
    client = ProviderClient(
        url=server.url, account_id=ACCOUNT_ID, password=PASSWORD, session=session,
        connect_timeout_s=0.7, read_timeout_s=4.5,
    )  # fmt: skip
    client.submit(FIELDS)
    assert session.timeouts == [(0.7, 4.5)]
    session.close()


@pytest.mark.parametrize("err_code", ["R001", "R002", "R007", "R999", "R123"])
def test_a_readable_refusal_is_a_reply_not_an_error(
    err_code: str, serve: Serve, session: requests.Session
) -> None:
    body = render_submit_reply(to_country="82", to="1", results=[MessageResult(err_code)], ref=None)
    server = serve(respond(200, body))
    assert client_for(server.url, session).submit(FIELDS).first == MessageResult(err_code)


def test_two_submits_on_one_session_share_one_connection(serve: Serve, session: requests.Session) -> None:
    server = serve(respond(200, PAGE_XML))
    client = client_for(server.url, session)
    client.submit(FIELDS)
    client.submit(FIELDS)
    assert (len(server.requests), server.connections) == (2, 1)


def test_a_closed_port_is_unreachable(session: requests.Session) -> None:
    with pytest.raises(ProviderUnreachable, match="could not connect"):
        client_for(closed_port_url(), session).submit(FIELDS)


def test_a_connect_timeout_is_unreachable(full_backlog_url: str, session: requests.Session) -> None:
    with pytest.raises(ProviderUnreachable, match="connect timed out"):
        client_for(full_backlog_url, session).submit(FIELDS)


def test_a_host_name_that_does_not_resolve_is_unreachable(session: requests.Session) -> None:
    try:
        socket.getaddrinfo("provider.invalid", 443)
    except socket.gaierror:
        pass
    else:
        pytest.skip("this resolver answers for .invalid names")
    with pytest.raises(ProviderUnreachable):
        client_for("http://provider.invalid/sms/xml", session).submit(FIELDS)


@pytest.mark.parametrize("url", ["127.0.0.1/sms/xml", "ftp://127.0.0.1/sms/xml", "http://"])
def test_an_unusable_url_is_unreachable(url: str, session: requests.Session) -> None:
    with pytest.raises(ProviderUnreachable, match="URL"):
        client_for(url, session).submit(FIELDS)


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (answer_late, "read timeout"),
        (stall_in_body, "read timeout"),
        (close_after_reading, "connection broken"),
        (reset_after_reading, "connection broken"),
        (cut_short_in_body, "connection broken"),
        (broken_chunking, "connection broken"),
    ],
)
def test_a_failure_after_the_request_left_is_an_unknown_outcome(
    behaviour: Behaviour, reason: str, serve: Serve, session: requests.Session
) -> None:
    server = serve(behaviour)
    with pytest.raises(OutcomeUnknown, match=reason) as caught:
        client_for(server.url, session).submit(FIELDS)
    assert type(caught.value) is OutcomeUnknown
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("status", "headers", "retry_after_s"),
    [
        (503, ("Retry-After: 7",), 7.0),
        (429, (), None),
        (503, ("Retry-After: Wed, 21 Oct 2015 07:28:00 GMT",), None),
    ],
)
def test_busy_statuses_without_a_reply_are_busy(
    status: int,
    headers: tuple[str, ...],
    retry_after_s: float | None,
    serve: Serve,
    session: requests.Session,
) -> None:
    server = serve(respond(status, b"<html>Service Unavailable</html>", *headers))
    with pytest.raises(ProviderBusy) as caught:
        client_for(server.url, session).submit(FIELDS)
    assert caught.value.retry_after_s == retry_after_s


def test_a_busy_status_with_a_readable_reply_returns_the_reply(
    serve: Serve, session: requests.Session
) -> None:
    body = render_submit_reply(to_country="82", to="1", results=[MessageResult("R001")], ref=None)
    server = serve(respond(503, body))
    assert client_for(server.url, session).submit(FIELDS).first.err_code == "R001"


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, b"garbage", "not well-formed"),
        (200, b"", "empty"),
        (200, b"<html><body>maintenance</body></html>", "expected submit_response"),
        (200, b"<submit_response>" + b" " * MAX_REPLY_BYTES + b"</submit_response>", "larger than"),
        (500, b"Internal Server Error", "HTTP 500"),
        (404, b"", "HTTP 404"),
        (302, b"", "HTTP 302"),
    ],
)
def test_an_unreadable_answer_is_malformed(
    status: int,
    body: bytes,
    reason: str,
    serve: Serve,
    session: requests.Session,
) -> None:
    server = serve(respond(status, body, "Location: http://127.0.0.1:9/elsewhere"))
    with pytest.raises(MalformedReply, match=reason):
        client_for(server.url, session).submit(FIELDS)
    assert len(server.requests) == 1


SCENARIOS: list[tuple[str, Behaviour | None]] = [
    ("closed-port", None),
    ("late", answer_late),
    ("reset", reset_after_reading),
    ("broken-chunking", broken_chunking),
    ("busy", respond(503, b"busy")),
    ("garbage", respond(200, b"garbage")),
    ("server-error", respond(500, b"oops")),
]


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize(("name", "behaviour"), SCENARIOS, ids=[name for name, _ in SCENARIOS])
def test_no_error_or_log_line_ever_shows_the_credentials(
    method: str,
    name: str,
    behaviour: Behaviour | None,
    serve: Serve,
    session: requests.Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = closed_port_url() if behaviour is None else serve(behaviour).url
    client = client_for(url, session, method)
    with pytest.raises(ProviderError) as caught:
        client.submit(FIELDS)
    error = caught.value
    shown = [str(error), repr(error), "".join(traceback.format_exception(error)), repr(client), caplog.text]
    shown += [record.getMessage() for record in caplog.records]
    assert error.__context__ is None or not isinstance(error.__context__, requests.RequestException)
    for secret in SECRETS:
        assert not any(secret in text for text in shown), f"{secret!r} leaked in {name}"
    assert any(record.name.startswith("urllib3") for record in caplog.records)


def test_a_successful_get_logs_neither_credentials_nor_personal_data(
    serve: Serve, session: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = serve(respond(200, PAGE_XML))
    client_for(server.url, session, "GET").submit(FIELDS)
    assert "GET /sms/xml?(query hidden) HTTP/1.1" in caplog.text
    assert not any(secret in caplog.text for secret in SECRETS)
    assert "1093446280" not in caplog.text
    assert "%BE%C8" not in caplog.text


@pytest.mark.parametrize("field", ["id", "pwd"])
def test_fields_may_not_carry_credentials(field: str, session: requests.Session) -> None:
    with pytest.raises(ValueError, match="credentials"):
        client_for(closed_port_url(), session).submit({**FIELDS, field: b"x"})


def test_only_post_and_get_are_offered(session: requests.Session) -> None:
    with pytest.raises(ValueError, match="POST or GET"):
        client_for(closed_port_url(), session, "PUT")


def test_the_session_pools_the_asked_number_of_connections_and_never_retries() -> None:
    with build_session(url=PROVIDER_URL, pool_size=7) as session:
        adapter = session.get_adapter(PROVIDER_URL)
        assert isinstance(adapter, requests.adapters.HTTPAdapter)
        assert adapter.max_retries.total == 0
        assert adapter.poolmanager.connection_pool_kw["maxsize"] == 7
        assert session.get_adapter("http://127.0.0.1/") is adapter


@pytest.mark.parametrize(
    ("environment", "proxies"),
    [
        ({"HTTPS_PROXY": "http://proxy.example:3128"}, {"https": "http://proxy.example:3128"}),
        ({"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "supersms.co"}, {}),
        ({"ALL_PROXY": "socks5://proxy.example:1080"}, {"all": "socks5://proxy.example:1080"}),
        ({}, {}),
    ],
)
def test_the_session_takes_its_proxy_for_the_provider_from_the_environment_once(
    environment: dict[str, str], proxies: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "https_proxy",
        "http_proxy",
        "all_proxy",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with build_session(url=PROVIDER_URL, pool_size=1) as session:
        assert session.trust_env is False  # requests does not scan the environment again on every request
        assert session.proxies == proxies


@pytest.mark.parametrize(
    ("environment", "verify"),
    [
        ({"REQUESTS_CA_BUNDLE": "/etc/bundle.pem", "CURL_CA_BUNDLE": "/etc/curl.pem"}, "/etc/bundle.pem"),
        ({"CURL_CA_BUNDLE": "/etc/curl.pem"}, "/etc/curl.pem"),
        ({}, True),
    ],
)
def test_the_session_takes_a_ca_bundle_named_in_the_environment(
    environment: dict[str, str], verify: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with build_session(url=PROVIDER_URL, pool_size=1) as session:
        assert session.verify == verify


def test_a_netrc_file_never_adds_credentials_to_a_request(
    serve: Serve, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password elsewhere\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    server = serve(respond(200, PAGE_XML))
    with build_session(url=server.url, pool_size=1) as session:
        assert client_for(server.url, session).submit(FIELDS) == ACCEPTED
    assert "authorization" not in {name.lower() for name in server.requests[0].headers}


@pytest.mark.parametrize("idle_close", [answer_then_close_unread, answer_then_end_stream_as_request_arrives])
def test_a_request_the_provider_closed_unread_on_a_reused_connection_is_sent_again_on_a_new_one(
    idle_close: Behaviour, link: Link
) -> None:
    server = link.start(in_turn(idle_close, respond(200, PAGE_XML)))
    client = client_for(server.url, link.session)
    client.submit(FIELDS)
    assert client.submit(FIELDS) == ACCEPTED
    assert (len(server.requests), server.connections) == (2, 2)


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (close_after_reading, "connection broken"),
        (cut_short_in_body, "connection broken"),
        (broken_chunking, "connection broken"),
        (answer_late, "read timeout"),
    ],
)
def test_a_reused_connection_failing_after_its_request_was_read_is_never_sent_again(
    behaviour: Behaviour, reason: str, link: Link
) -> None:
    server = link.start(in_turn(respond(200, PAGE_XML), behaviour))
    client = client_for(server.url, link.session)
    client.submit(FIELDS)
    with pytest.raises(OutcomeUnknown, match=reason):
        client.submit(FIELDS)
    assert (len(server.requests), server.connections) == (2, 1)


def test_a_request_sent_again_is_sent_once_only(link: Link) -> None:
    server = link.start(in_turn(answer_then_close_unread, close_after_reading))
    client = client_for(server.url, link.session)
    client.submit(FIELDS)
    with pytest.raises(OutcomeUnknown, match="connection broken"):
        client.submit(FIELDS)
    assert (len(server.requests), server.connections) == (2, 2)


def test_a_connection_idle_for_longer_than_the_bound_is_not_reused(serve: Serve) -> None:
    server = serve(respond(200, PAGE_XML))
    with build_session(url=PROVIDER_URL, pool_size=1, max_idle_s=0.05) as session:
        client = client_for(server.url, session)
        client.submit(FIELDS)
        time.sleep(0.1)
        client.submit(FIELDS)
    assert (len(server.requests), server.connections) == (2, 2)


SANDBOX_IDLE_TIMEOUT_S = 0.02
PACED_SENDS = 150
PACE_STEP_S = 0.00005
RENEWALS = ("Resetting dropped connection", "the provider closed the connection before reading")


@pytest.fixture
def quickly_idle_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The sandbox closing keep-alive connections idle for :data:`SANDBOX_IDLE_TIMEOUT_S` (60 s by default)."""
    monkeypatch.setattr(SandboxHandler, "timeout", SANDBOX_IDLE_TIMEOUT_S)
    with Sandbox(account=Account(ACCOUNT_ID, PASSWORD), faults=Faults(report_delay_s=0)) as sandbox:
        yield sandbox


def outcome_of(client: ProviderClient) -> str:
    try:
        client.submit(FIELDS)
    except ProviderError as error:
        return type(error).__name__
    return "reply"


def test_sends_paced_around_the_providers_idle_timeout_all_get_their_reply(
    quickly_idle_sandbox: Sandbox, session: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Each pause aims at the instant the sandbox closes the idle connection: one step earlier after a send that
    needed a new connection, one step later after a send that reused the old one, so many sends race the close."""
    for logger in ("urllib3.connectionpool", "supersms.workers.provider"):
        caplog.set_level(logging.DEBUG, logger=logger)
    client = client_for(quickly_idle_sandbox.url, session)
    client.submit(FIELDS)
    outcomes: collections.Counter[str] = collections.Counter()
    pause_s = SANDBOX_IDLE_TIMEOUT_S
    for _ in range(PACED_SENDS):
        time.sleep(pause_s)
        seen = len(caplog.records)
        outcomes[outcome_of(client)] += 1
        renewed = any(record.getMessage().startswith(RENEWALS) for record in caplog.records[seen:])
        pause_s += -PACE_STEP_S if renewed else PACE_STEP_S
    assert outcomes == {"reply": PACED_SENDS}
    assert len(quickly_idle_sandbox.log.sends()) == 1 + PACED_SENDS


def test_a_request_the_sandbox_read_and_dropped_on_a_reused_connection_is_not_sent_again(
    session: requests.Session,
) -> None:
    with Sandbox(account=Account(ACCOUNT_ID, PASSWORD), faults=Faults(report_delay_s=0)) as sandbox:
        client = client_for(sandbox.url, session)
        client.submit(FIELDS)
        sandbox.set_faults(drop_after_read=True)
        with pytest.raises(OutcomeUnknown, match="connection broken"):
            client.submit(FIELDS)
        assert [entry.answered for entry in sandbox.log.sends()] == [True, False]
