"""The HTTP client of the provider's send endpoint, sorting every outcome by what is known about it.

One call, one HTTP request, no retries here (the caller owns the retry policy), but for one resend made by the
transport: a request the provider provably never read, because it closed the connection first (typically a
keep-alive connection it closed as idle while the request was on its way), goes out once more on a new
connection (see :class:`_Connection`). What comes back is either a readable
:class:`~supersms.protocol.replies.SubmitReply`, whatever its ``err_code``, or one of:

- :class:`~supersms.errors.ProviderUnreachable`: the request provably never left (connect refused or timed
  out, host name not resolved, unusable URL): safe to send again;
- :class:`~supersms.errors.ProviderBusy`: the server said it did not take it (HTTP 429/503 without a reply);
- :class:`~supersms.errors.OutcomeUnknown`: it may have been taken (read timeout, connection broken after
  sending); :class:`~supersms.errors.MalformedReply`, its subclass, when an answer came but cannot be read.

Credentials travel only in the request; every error is raised outside the library's exception context, with a
fixed description, because ``requests`` and ``urllib3`` put the URL (with ``GET``, the password) in theirs.
"""

from __future__ import annotations

import http.client
import io
import logging
import os
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager
from urllib3.response import BaseHTTPResponse
from urllib3.response import HTTPResponse as Urllib3Response

from supersms.errors import MalformedReply, OutcomeUnknown, ProviderBusy, ProviderError, ProviderUnreachable
from supersms.protocol.replies import MAX_REPLY_BYTES, SubmitReply, parse_submit_reply

log = logging.getLogger(__name__)

BUSY_STATUSES = frozenset({429, 503})
MAX_IDLE_S = 4.0
"""A pooled connection idle longer than this is closed instead of reused. Servers close idle keep-alive
connections after a timeout of their own (5 s for Apache httpd and Node.js, 60 s and more for nginx and cloud load
balancers); closing ours first keeps a request from going out on a connection the provider is closing."""
RESET_WAIT_S = 1.0
"""How long a reused connection that ended without a reply waits for the reset proving its request was never
read (the reset follows the request by one round trip)."""
_CHUNK_BYTES = 8192
_GET_HEADERS = {"Accept-Encoding": "identity"}
_POST_HEADERS = {**_GET_HEADERS, "Content-Type": "application/x-www-form-urlencoded"}
_NEVER_SENT = (
    requests.exceptions.URLRequired,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidHeader,
)


def build_session(*, url: str, pool_size: int, max_idle_s: float = MAX_IDLE_S) -> requests.Session:
    """A keep-alive session for ``url`` holding up to ``pool_size`` connections per host, each reused only while
    idle for less than ``max_idle_s``; no automatic retries but the resend of a request the provider never read.

    The environment is read here, once, rather than by ``requests`` on every request (``trust_env``: a netrc
    file looked for, every proxy variable scanned): the proxy ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` name
    for ``url`` unless ``NO_PROXY`` excludes it, and a CA bundle named by ``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE``. A netrc file never applies: the account travels in the form.
    """
    session = requests.Session()
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(url)
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    adapter = _KeepAliveAdapter(pool_size=pool_size, max_idle_s=max_idle_s)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    retry_after_s: float | None


class ProviderClient:
    """Sends one message's form fields to the provider, adding the account's credentials."""

    def __init__(
        self,
        *,
        url: str,
        account_id: str,
        password: str,
        session: requests.Session,
        connect_timeout_s: float,
        read_timeout_s: float,
        method: str = "POST",
    ) -> None:
        if method not in ("POST", "GET"):
            raise ValueError("method must be POST or GET")
        self._url = url
        self._credentials = (("id", account_id.encode("utf-8")), ("pwd", password.encode("utf-8")))
        self._session = session
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._method = method
        _hide_queries_in_urllib3_logs()

    def __repr__(self) -> str:
        return f"ProviderClient(url={self._url!r}, method={self._method!r})"

    def submit(self, fields: Mapping[str, bytes]) -> SubmitReply:
        """Send one request; return the provider's reply or raise one of the errors the module names."""
        if "id" in fields or "pwd" in fields:
            raise ValueError("fields must not carry the credentials")
        pairs = [*self._credentials, *fields.items()]
        started = time.monotonic()
        answer = self._exchange(pairs)
        log.debug(
            "provider answered HTTP %d (%d bytes) in %.3f s",
            answer.status,
            len(answer.body),
            time.monotonic() - started,
        )
        return _interpret(answer)

    def _exchange(self, pairs: list[tuple[str, bytes]]) -> _Answer:
        started = time.monotonic()
        try:
            return self._send(pairs)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            failure = _translate(error)
        # Raised here, outside the except block, so that no traceback carries the library's message.
        log.debug("provider request failed after %.3f s: %s", time.monotonic() - started, failure)
        raise failure

    def _send(self, pairs: list[tuple[str, bytes]]) -> _Answer:
        form = urlencode(pairs)  # what requests would make of the pairs, made here once
        as_query = self._method == "GET"
        with self._session.request(
            self._method,
            f"{self._url}{'&' if '?' in self._url else '?'}{form}" if as_query else self._url,
            data=None if as_query else form.encode("ascii"),
            headers=_GET_HEADERS if as_query else _POST_HEADERS,
            timeout=self._timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            body = _read_bounded(response)
            return _Answer(response.status_code, body, _retry_after_s(response.headers.get("Retry-After")))


def _read_bounded(response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise MalformedReply(f"reply larger than {MAX_REPLY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after_s(header: str | None) -> float | None:
    """``Retry-After`` in seconds; the HTTP-date form is ignored (a busy server rarely sends it)."""
    if header is None or not (header.isascii() and header.strip().isdigit()):
        return None
    return float(header.strip())


def _interpret(answer: _Answer) -> SubmitReply:
    try:
        return parse_submit_reply(answer.body)
    except MalformedReply:
        if answer.status in BUSY_STATUSES:
            raise ProviderBusy(
                f"provider busy: HTTP {answer.status}", retry_after_s=answer.retry_after_s
            ) from None
        if not 200 <= answer.status < 300:
            raise MalformedReply(f"HTTP {answer.status} without a readable reply") from None
        raise


def _translate(error: BaseException) -> ProviderError:
    """A fixed, credential-free description of a library error, classed by whether the request left."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return ProviderUnreachable("provider unreachable: connect timed out")
    if isinstance(error, _NEVER_SENT):
        return ProviderUnreachable("provider unreachable: the provider URL is not usable")
    if _connect_failed(error):
        return ProviderUnreachable("provider unreachable: could not connect (refused, or name not resolved)")
    if isinstance(error, requests.exceptions.ReadTimeout) or _read_timed_out(error):
        return OutcomeUnknown("no reply within the read timeout")
    if isinstance(error, requests.exceptions.SSLError):
        return OutcomeUnknown("TLS failure talking to the provider")
    return OutcomeUnknown(f"connection broken after the request was sent ({type(error).__name__})")


def _connect_failed(error: BaseException) -> bool:
    if not isinstance(error, requests.exceptions.ConnectionError) or isinstance(
        error, requests.exceptions.ProxyError | requests.exceptions.SSLError
    ):
        return False
    cause = error.args[0] if error.args else None
    return isinstance(cause, urllib3.exceptions.MaxRetryError) and isinstance(
        cause.reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
    )


def _read_timed_out(error: BaseException) -> bool:
    # A read timeout while streaming the body surfaces as a ConnectionError wrapping urllib3's error.
    cause = error.args[0] if error.args else None
    return isinstance(error, urllib3.exceptions.ReadTimeoutError) or isinstance(
        cause, urllib3.exceptions.ReadTimeoutError
    )


class _EndedWithoutReply(Exception):
    """The connection ended before the first byte of a reply; ``reset`` when the peer reset it."""

    def __init__(self, error: OSError, *, reset: bool) -> None:
        super().__init__(error)
        self.error = error
        self.reset = reset


class _RequestNeverRead(ConnectionResetError):
    """The provider closed the connection (as idle, if it was reused) before it read the request."""


_WRITE_FAILURES = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLEOFError)
"""How writing to a connection the peer has reset fails (over TLS, as an unexpected end of stream)."""


class _FirstByteResponse(http.client.HTTPResponse):
    """``http.client``'s response, which first tells whether any byte of the reply came before the connection
    ended: without one, the request may never have been read; with one, it was."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self._socket = sock

    def begin(self) -> None:
        if self.headers is None:  # not begun yet
            _await_first_byte(self._socket, self.fp)
        super().begin()


_RESETS = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


def _await_first_byte(sock: socket.socket, reader: io.BufferedReader) -> None:
    try:
        started = _reply_started(sock, reader)
    except _RESETS as error:
        raise _EndedWithoutReply(error, reset=True) from None
    if not started:
        ended = http.client.RemoteDisconnected("Remote end closed connection without response")
        raise _EndedWithoutReply(ended, reset=False)


def _reply_started(sock: socket.socket, reader: io.BufferedReader) -> bool:
    """Whether a byte of the reply arrived before the end of stream (a reset is raised).

    The socket itself is peeked first: reading a bare end of stream through TLS makes it write an alert, which a
    peer that closed answers with a reset, one that :func:`_reset_follows` would take for the peer's own.
    """
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    return bool(socket.socket.recv(sock, 1, socket.MSG_PEEK)) and bool(reader.peek(1))


class _Connection(HTTPConnection):
    """A pooled connection that, when a reused socket fails before any reply byte, tells whether the provider had
    closed it without reading the request.

    A server closing an idle connection can cross a request already on its way. Its kernel then answers the
    request's bytes with a reset, because they reached a socket closed before reading them (or they were left
    unread when it closed). A server that read the request and then closed without answering sends no reset:
    its socket had nothing unread. So a request was never read when writing it failed (the peer had reset the
    connection before it had all of it), or when, on a reused socket, no reply byte came and a reset did:
    instead of the reply, or within :data:`RESET_WAIT_S` after the end of stream. :class:`_Pool` then sends it
    again; every other failure keeps its unknown outcome. (A server that read the whole request and then reset
    the connection without one byte of reply would pass for the idle close; no HTTP server is known to answer a
    request that way.)
    """

    response_class = _FirstByteResponse
    replies_on_socket = 0
    released_at_s = 0.0

    def connect(self) -> None:
        super().connect()
        self.replies_on_socket = 0

    def send(self, data: Any) -> None:
        try:
            super().send(data)
        except _WRITE_FAILURES:
            self.close()
            raise _RequestNeverRead("reset before the whole request was written") from None

    def getresponse(self) -> Urllib3Response:  # type: ignore[override]  # as urllib3's own
        try:
            response = super().getresponse()
        except _EndedWithoutReply as ended:
            never_read = self.replies_on_socket > 0 and (ended.reset or _reset_follows(self.sock))
            self.close()
            if never_read:
                raise _RequestNeverRead("closed as idle before the request was read") from None
            raise ended.error from None
        self.replies_on_socket += 1
        return response

    def idle_s(self) -> float:
        """Seconds since the pool last took this connection back."""
        return time.monotonic() - self.released_at_s


class _TlsConnection(_Connection, HTTPSConnection):
    """:class:`_Connection` over TLS."""


def _reset_follows(sock: socket.socket | None) -> bool:
    """Whether the peer resets the connection within :data:`RESET_WAIT_S`.

    Polled for no event, a socket wakes only on an error or a hang-up: on Linux, a reset or both directions shut,
    and this side never shuts its own. (The error itself may be gone: TLS reads a reset as a bare end of stream.)
    """
    if sock is None or not hasattr(select, "poll"):
        return False
    watch = select.poll()
    watch.register(sock, 0)
    wait_s = min(RESET_WAIT_S, sock.gettimeout() or RESET_WAIT_S)
    return bool(watch.poll(wait_s * 1000))


class _Pool(HTTPConnectionPool):
    """A pool that sends a request once more, on a new connection, when the provider closed the reused one
    without reading it; and that never reuses a connection idle for more than ``max_idle_s``."""

    ConnectionCls = _Connection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_idle_s = MAX_IDLE_S
        self._resending = threading.local()

    def urlopen(self, method: str, url: str, body: Any = None, *args: Any, **kwargs: Any) -> BaseHTTPResponse:
        try:
            return super().urlopen(method, url, body, *args, **kwargs)
        except urllib3.exceptions.ProtocolError as error:
            if not (_never_read(error) and _replayable(body)):
                raise
        log.info("the provider closed the connection before reading the request: sending it on a new one")
        self._resending.now = True
        try:
            return super().urlopen(method, url, body, *args, **kwargs)
        finally:
            self._resending.now = False

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        fresh_wanted = getattr(self._resending, "now", False)
        if isinstance(conn, _Connection) and conn.sock is not None and (fresh_wanted or self._stale(conn)):
            conn.close()
        return conn

    def _stale(self, conn: _Connection) -> bool:
        return conn.idle_s() > self.max_idle_s

    def _put_conn(self, conn: Any) -> None:
        if isinstance(conn, _Connection):
            conn.released_at_s = time.monotonic()
        super()._put_conn(conn)


class _TlsPool(_Pool, HTTPSConnectionPool):
    """:class:`_Pool` over TLS."""

    ConnectionCls = _TlsConnection


def _never_read(error: urllib3.exceptions.ProtocolError) -> bool:
    return any(isinstance(arg, _RequestNeverRead) for arg in error.args)


def _replayable(body: object) -> bool:
    return body is None or isinstance(body, bytes | str)


class _PoolManager(PoolManager):
    """Hands out :class:`_Pool` pools with the session's idle bound."""

    def __init__(self, *, max_idle_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_classes_by_scheme = {"http": _Pool, "https": _TlsPool}
        self._max_idle_s = max_idle_s

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> HTTPConnectionPool:
        pool = super()._new_pool(scheme, host, port, request_context)
        if isinstance(pool, _Pool):
            pool.max_idle_s = self._max_idle_s
        return pool


class _KeepAliveAdapter(HTTPAdapter):
    """``requests``' adapter over :class:`_PoolManager`, with no retries of its own."""

    def __init__(self, *, pool_size: int, max_idle_s: float) -> None:
        self._max_idle_s = max_idle_s
        super().__init__(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager = _PoolManager(
            max_idle_s=self._max_idle_s, num_pools=connections, maxsize=maxsize, block=block, **pool_kwargs
        )


_QUERY_IN_URL = re.compile(r"\?[^\s\"'?]*=[^\s\"']*")


class _QueryRedactor(logging.Filter):
    """Hides query strings in urllib3's debug lines, which print each request's URL: with ``GET`` the query
    holds the credentials, the phone numbers and the message text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        return True


def _redact(text: str) -> str:
    return _QUERY_IN_URL.sub("?(query hidden)", text)


_REDACTOR = _QueryRedactor()


def _hide_queries_in_urllib3_logs() -> None:
    # addFilter ignores a filter already present, so building many clients adds it once.
    for name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection"):
        logging.getLogger(name).addFilter(_REDACTOR)
