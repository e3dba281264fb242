"""``supersms metrics [--host H] [--port P]``: the Prometheus endpoint ``GET /metrics`` for all workers together.

Workers add their counts to Redis (:mod:`supersms.workers.metrics`); this one small process reads them,
with the live gauges, at each scrape (:mod:`supersms.workers.exposition`). Run one per deployment, next to
Redis; it holds no state, so a restart loses nothing. Exposition format 0.0.4 (``text/plain``), or
OpenMetrics when the scraper asks for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import redis
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from supersms.cli.main import CommandParser
from supersms.cli.options import PORT
from supersms.cli.receiver import ensure_free
from supersms.settings import Settings
from supersms.workers.exposition import SupersmsCollector
from supersms.workers.redis_io import connect, is_redis_url

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9808
METRICS_PATH = "/metrics"
REDIS_TIMEOUT_S = 2.0
"""How long a scrape waits for Redis (the store, then a Redis broker): twice that stays well within
Prometheus's default 10 s ``scrape_timeout``, so a hung Redis shows as ``supersms_store_up 0``, not as a
failed scrape."""
LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def main(argv: list[str]) -> int:
    """Serve ``/metrics`` until stopped."""
    parser = CommandParser(prog="supersms metrics", description="Serve Prometheus metrics on /metrics.")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=PORT, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    ensure_free(args.host, args.port)
    server = build_server(settings, host=args.host, port=args.port)
    log.info("serving metrics on http://%s:%d%s", args.host, server.server_port, METRICS_PATH)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def build_server(settings: Settings, *, host: str, port: int) -> WSGIServer:
    """A threaded HTTP server of :func:`metrics_app` bound to ``host:port`` (0: any free port)."""
    return make_server(
        host, port, metrics_app(settings), server_class=ThreadingWSGIServer, handler_class=_QuietHandler
    )


def metrics_app(settings: Settings) -> WsgiApp:
    """The WSGI app: ``GET /metrics`` answers the exposition, every other path 404."""
    registry = CollectorRegistry()

    def client(url: str) -> redis.Redis:
        return connect(url, max_connections=4, timeout_s=REDIS_TIMEOUT_S)

    broker = client(settings.broker_url) if is_redis_url(settings.broker_url) else None
    registry.register(SupersmsCollector(redis_client=client(settings.redis_url), broker_client=broker))
    exposition: WsgiApp = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == METRICS_PATH:
            return exposition(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [f"supersms metrics are served on {METRICS_PATH}\n".encode()]

    return app


class _QuietHandler(WSGIRequestHandler):
    """Request lines go to the debug log, not stderr: a scrape every few seconds is not news."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)
