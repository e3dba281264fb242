"""Calling the receiver in-process through ``wsgiref.validate.validator`` (PEP 3333 checks on every call)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from wsgiref.types import WSGIApplication
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

from supersms.protocol.reports import render_report_response

GOOD_QUERY = (
    "msgid=00000123&to=1093446280&to_country=82&ref=AA123456789&network=45008&rescnt=1"
    "&err_code=1000&sent_date=20150322140641"
)
GOOD_RESPONSE = render_report_response(msgid="00000123", to_country="82", to="1093446280")
PROVIDER_IP = "211.233.70.235"


@dataclass(frozen=True)
class Answer:
    status: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def code(self) -> int:
        return int(self.status[:3])


def call(
    app: WSGIApplication,
    *,
    query: str = GOOD_QUERY,
    path: str = "/",
    method: str = "GET",
    remote_addr: str = PROVIDER_IP,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """One request through the PEP 3333 validator; the body is read and the iterable closed."""
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.update(REQUEST_METHOD=method, PATH_INFO=path, QUERY_STRING=query, REMOTE_ADDR=remote_addr)
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started: dict[str, Any] = {}

    def start_response(
        status: str, header_list: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        started.update(status=status, headers=dict(header_list))
        return lambda data: None

    result = validator(app)(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()  # type: ignore[attr-defined]
    return Answer(started["status"], started["headers"], body)
