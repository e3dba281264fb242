"""The receiver as a bare WSGI callable (PEP 3333): routing, checks in order, and one answer per request.

``GET {report_path}?...`` from an allowed source: validate, make durable, then 200 with the provider's
``report_response``. ``GET /healthz``: 200 while a report could be stored. Anything unexpected is logged and
answered 503 (the provider retries), never 500 and never a traceback.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Iterable
from http import HTTPStatus
from wsgiref.types import StartResponse, WSGIEnvironment

from supersms.errors import InvalidReport, StoreUnavailable
from supersms.receiver import responses
from supersms.receiver.delivery import Delivery
from supersms.receiver.replay import REPLAY_INTERVAL_S
from supersms.receiver.responses import Response
from supersms.receiver.runtime import Runtime, build_runtime
from supersms.receiver.sources import client_address, is_allowed
from supersms.receiver.validation import accept
from supersms.settings import Settings

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
SOURCE_CACHE_SIZE = 256  # (peer, X-Forwarded-For) pairs whose verdict is remembered, most recent first


class ReceiverApp:
    """The WSGI application. Nothing connects until the first request (or :meth:`warm`) in each process."""

    def __init__(self, settings: Settings, *, replay_interval_s: float = REPLAY_INTERVAL_S) -> None:
        self.settings = settings
        self._replay_interval_s = replay_interval_s
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()
        self._source = functools.lru_cache(maxsize=SOURCE_CACHE_SIZE)(self._find_source)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            response = self._route(environ)
        except Exception:
            logger.exception(
                "unexpected error on %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
            )
            response = responses.INTERNAL_TROUBLE
        start_response(response.status, list(response.headers))
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [response.body]

    def runtime(self) -> Runtime:
        """This process's services, built on first use and again after a fork."""
        runtime = self._runtime
        if runtime is not None and runtime.pid == os.getpid():
            return runtime
        with self._lock:
            if self._runtime is None or self._runtime.pid != os.getpid():
                self._runtime = build_runtime(self.settings, replay_interval_s=self._replay_interval_s)
            return self._runtime

    def warm(self) -> None:
        """Build this process's services now: its replayer starts moving a spool left behind."""
        self.runtime()

    def close(self) -> None:
        """Stop this process's replayer and close its Redis connections."""
        with self._lock:
            if self._runtime is not None and self._runtime.pid == os.getpid():
                self._runtime.close()
            self._runtime = None

    def _route(self, environ: WSGIEnvironment) -> Response:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "")
        if path == self.settings.report_path:
            return self._report(environ, method)
        if path == HEALTH_PATH:
            return self._health(method)
        return responses.NOT_FOUND

    def _report(self, environ: WSGIEnvironment, method: str) -> Response:
        remote_addr = environ.get("REMOTE_ADDR", "")
        source, allowed = self._source(remote_addr, environ.get("HTTP_X_FORWARDED_FOR"))
        if not allowed:
            logger.warning("report refused: source %s (peer %s) is not allowed", source, remote_addr)
            return responses.FORBIDDEN
        if method != "GET":
            return responses.method_not_allowed("GET")
        query = environ.get("QUERY_STRING", "")
        if len(query) > self.settings.report_max_query_bytes:  # WSGI strings hold one character per byte
            limit = self.settings.report_max_query_bytes
            return responses.text(HTTPStatus.REQUEST_URI_TOO_LONG, f"query longer than {limit} bytes")
        return self._accept(Delivery.now(query, source))

    def _find_source(self, remote_addr: str, forwarded_for: str | None) -> tuple[str, bool]:
        """The client address as recorded (``"None"`` when it cannot be told) and whether it may deliver
        reports. A pure function of the two headers, so remembered: the provider calls from a few addresses."""
        source = client_address(remote_addr, forwarded_for, self.settings.trusted_proxies)
        return str(source), is_allowed(source, self.settings.report_allow)

    def _accept(self, delivery: Delivery) -> Response:
        sink = self.runtime().sink
        try:
            report = accept(delivery.query)
        except InvalidReport as error:
            sink.keep_malformed(delivery, str(error))
            return responses.text(HTTPStatus.BAD_REQUEST, str(error))
        try:
            sink.put(delivery, report.dedup_key)
        except StoreUnavailable as error:
            logger.error("report %s not taken: %s", report.msgid, error.__cause__ or error)
            return responses.unavailable("cannot store reports right now")
        return responses.report_accepted(report)

    def _health(self, method: str) -> Response:
        if method not in ("GET", "HEAD"):
            return responses.method_not_allowed("GET", "HEAD")
        if self.runtime().sink.can_store():
            return responses.text(HTTPStatus.OK, "ok")
        return responses.unavailable(
            "cannot store reports: Redis does not answer and the spool is not writable"
        )


def create_app(settings: Settings, *, replay_interval_s: float = REPLAY_INTERVAL_S) -> ReceiverApp:
    """The receiver's WSGI callable for ``settings``; connects nothing until it serves."""
    return ReceiverApp(settings, replay_interval_s=replay_interval_s)
