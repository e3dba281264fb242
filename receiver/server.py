"""The receiver on gunicorn, configured in code: ``supersms receiver`` runs :class:`ReceiverServer`.

Worker class: **gthread** (threads in each forked worker). Handling a report waits on I/O only (a Redis round
trip, or an ``fsync`` of the spool), so a few threads per process serve concurrent reports without one slow
``fsync`` or one slow client holding the whole process, as it would with sync workers; gthread also keeps
HTTP keep-alive (sync workers close every connection) and drains an unread request body only up to a bound
before it closes the connection. The app's replayer is a daemon thread, which a threaded worker hosts
naturally. Async workers (gevent, eventlet) would add a dependency and monkey-patching for no gain here.

Each worker listens on a socket of its own (``reuse_port``: ``SO_REUSEPORT``, one socket per worker since
gunicorn 24), and the kernel spreads new connections over them. On one socket shared by all workers, the
worker that happens to accept first takes a provider's kept-alive connections, sometimes every one of them,
and serves them alone on one CPU while the others idle (a third of the throughput in one benchmark round).
``supersms receiver`` first checks that no other socket holds the port, so two receivers never share one.

The access log is off unless asked for: its lines would carry report queries, i.e. phone numbers.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from supersms.receiver.app import ReceiverApp, create_app
from supersms.settings import Settings

THREADS = 8
TIMEOUT_S = 30  # a worker silent this long is killed and replaced
GRACEFUL_TIMEOUT_S = 10  # on SIGTERM, requests in flight get this long to finish
KEEPALIVE_S = 5
MAX_REQUEST_LINE = 8190  # gunicorn's ceiling; a longer request line is answered 414 by gunicorn itself
REQUEST_LINE_SLACK = 1024  # room for method, path and version, so the app's own 414 answers a query first
MAX_HEADER_FIELDS = 50


def gunicorn_options(
    settings: Settings, *, host: str, port: int, workers: int, access_log: bool = False
) -> dict[str, Any]:
    """The gunicorn settings of the receiver."""
    return {
        "bind": [bind_address(host, port)],
        "workers": workers,
        "worker_class": "gthread",
        "threads": THREADS,
        "timeout": TIMEOUT_S,
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "keepalive": KEEPALIVE_S,
        "reuse_port": True,  # a listening socket per worker; see the module's docstring
        "limit_request_line": min(MAX_REQUEST_LINE, settings.report_max_query_bytes + REQUEST_LINE_SLACK),
        "limit_request_fields": MAX_HEADER_FIELDS,
        "accesslog": "-" if access_log else None,
        "proc_name": "supersms-receiver",
        "control_socket_disable": True,  # one fixed socket path per user would collide between receivers
        "on_starting": _quiet_empty_listening_line,
        "when_ready": _announce,
        "post_worker_init": _warm,
    }


def bind_address(host: str, port: int) -> str:
    """``host:port`` as gunicorn binds it (IPv6 literals in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class ReceiverServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn running :func:`create_app` in every worker (built after the fork: nothing is shared)."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__(prog="supersms receiver")

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> ReceiverApp:
        return create_app(self.settings)


class _EmptyListeningLine(logging.Filter):
    """Drops gunicorn's ``Listening at:  (pid)``: with a socket per worker the master holds none to name."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (str(record.msg).startswith("Listening at:") and args[:1] == ("",))


def _quiet_empty_listening_line(arbiter: Any) -> None:
    """gunicorn's ``on_starting``, run before the master logs where it listens."""
    arbiter.log.error_log.addFilter(_EmptyListeningLine())


def _announce(arbiter: Any) -> None:
    """gunicorn's ``when_ready``: say where the workers listen (the master, holding no socket, says nothing)."""
    arbiter.log.info(
        "Serving reports at http://%s (%d workers, a socket each)", arbiter.cfg.bind[0], arbiter.cfg.workers
    )


def _warm(worker: Any) -> None:
    """gunicorn's ``post_worker_init``: build the worker's services so its replayer starts without a request."""
    app = worker.wsgi
    if isinstance(app, ReceiverApp):
        app.warm()
