"""The receiver's baseline: a bare WSGI app on the receiver's own gunicorn settings.

It answers every GET with the provider's ``report_response`` echoing msgid, to_country and to, as ours does,
and does nothing else: no allowlist, no validation, no Redis, no spool.
Run by ``python -m bench.bare_receiver --port P [--workers N]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIEnvironment

from gunicorn.app.base import BaseApplication

from supersms.protocol.reports import render_report_response
from supersms.receiver.responses import XML
from supersms.receiver.server import gunicorn_options
from supersms.settings import Settings


def bare_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """The same XML answer as the receiver's, for any request."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    msgid, to_country, to = (query.get(name, [""])[0] for name in ("msgid", "to_country", "to"))
    body = render_report_response(msgid=msgid, to_country=to_country, to=to)
    start_response("200 OK", [("Content-Type", XML), ("Content-Length", str(len(body)))])
    return [body]


class BareServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn serving :func:`bare_app` with the options it is given."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        return bare_app


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_receiver")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=None, help="default SUPERSMS_RECEIVER_WORKERS")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    workers = args.workers or settings.receiver_workers
    options = gunicorn_options(settings, host="127.0.0.1", port=args.port, workers=workers)
    BareServer({**options, "proc_name": "bench-bare-receiver"}).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
