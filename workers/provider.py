"""The HTTP client of the provider's send endpoint, sorting every outcome by what is known about it.

One call, one HTTP request, no retries here (the caller owns the retry policy). What comes back is either a
readable :class:`~supersms.protocol.replies.SubmitReply`, whatever its ``err_code``, or one of:

- :class:`~supersms.errors.ProviderUnreachable`: the request provably never left (connect refused or timed
  out, host name not resolved, unusable URL): safe to send again;
- :class:`~supersms.errors.ProviderBusy`: the server said it did not take it (HTTP 429/503 without a reply);
- :class:`~supersms.errors.OutcomeUnknown`: it may have been taken (read timeout, connection broken after
  sending); :class:`~supersms.errors.MalformedReply`, its subclass, when an answer came but cannot be read.

Credentials travel only in the request; every error is raised outside the library's exception context, with a
fixed description, because ``requests`` and ``urllib3`` put the URL (with ``GET``, the password) in theirs.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from supersms.errors import MalformedReply, OutcomeUnknown, ProviderBusy, ProviderError, ProviderUnreachable
from supersms.protocol.replies import MAX_REPLY_BYTES, SubmitReply, parse_submit_reply

log = logging.getLogger(__name__)

BUSY_STATUSES = frozenset({429, 503})
_CHUNK_BYTES = 8192
_NEVER_SENT = (
    requests.exceptions.URLRequired,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidHeader,
)


def build_session(*, pool_size: int) -> requests.Session:
    """A keep-alive session holding up to ``pool_size`` connections per host, with no automatic retries."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
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
        as_query = self._method == "GET"
        with self._session.request(
            self._method,
            self._url,
            params=pairs if as_query else None,
            data=None if as_query else pairs,
            headers={"Accept-Encoding": "identity"},
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
