"""Every answer the receiver gives: a status line, headers and a small body, built once, sent as-is."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from supersms.protocol.reports import render_report_response
from supersms.receiver.validation import Accepted

XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
RETRY_AFTER_S = 5


@dataclass(frozen=True)
class Response:
    """A complete WSGI answer: ``status`` line (``"200 OK"``), header pairs and the body bytes."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def code(self) -> int:
        return int(self.status.split(" ", 1)[0])


def respond(status: HTTPStatus, body: bytes, content_type: str, *extra: tuple[str, str]) -> Response:
    """An answer with ``Content-Type`` and ``Content-Length`` set, plus ``extra`` headers."""
    headers = (("Content-Type", content_type), ("Content-Length", str(len(body))), *extra)
    return Response(f"{status.value} {status.phrase}", headers, body)


def text(status: HTTPStatus, message: str, *extra: tuple[str, str]) -> Response:
    """A one-line plain-text answer."""
    return respond(status, f"{message}\n".encode(), TEXT, *extra)


def report_accepted(report: Accepted) -> Response:
    """200 with the provider's ``report_response`` echoing msgid, to_country and to."""
    body = render_report_response(msgid=report.msgid, to_country=report.to_country, to=report.to)
    return respond(HTTPStatus.OK, body, XML)


def unavailable(reason: str) -> Response:
    """503: nowhere to keep the report right now; the provider retries."""
    return text(HTTPStatus.SERVICE_UNAVAILABLE, reason, ("Retry-After", str(RETRY_AFTER_S)))


def method_not_allowed(*allowed: str) -> Response:
    return text(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed", ("Allow", ", ".join(allowed)))


NOT_FOUND = text(HTTPStatus.NOT_FOUND, "not found")
FORBIDDEN = text(HTTPStatus.FORBIDDEN, "source not allowed")
INTERNAL_TROUBLE = unavailable("temporarily unavailable")
