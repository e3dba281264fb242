"""``application`` for any WSGI server: ``gunicorn 'supersms.receiver.wsgi:application'``.

Settings are read from the environment on the first request, in the serving process, not at import; a bad
setting is logged and answered 503 until it is fixed (the server keeps running and says why).
``supersms receiver`` is the supported way to serve it (worker class, timeouts and spool replay on start).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIEnvironment

from supersms.errors import ConfigError
from supersms.receiver import responses
from supersms.receiver.app import ReceiverApp, create_app
from supersms.settings import Settings

logger = logging.getLogger(__name__)


class FromEnvironment:
    """A WSGI callable that builds the receiver from ``SUPERSMS_*`` variables on its first request."""

    def __init__(self) -> None:
        self._app: ReceiverApp | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        app = self._app or self._build()
        if app is None:
            response = responses.unavailable("receiver misconfigured")
            start_response(response.status, list(response.headers))
            return [response.body]
        return app(environ, start_response)

    def close(self) -> None:
        """Close the receiver built so far (its replayer and Redis connections); the next request builds anew."""
        with self._lock:
            if self._app is not None:
                self._app.close()
            self._app = None

    def _build(self) -> ReceiverApp | None:
        with self._lock:
            if self._app is None:
                try:
                    self._app = create_app(Settings.from_env())
                except ConfigError as error:
                    logger.error("receiver cannot start: %s", error)
            return self._app


application = FromEnvironment()
