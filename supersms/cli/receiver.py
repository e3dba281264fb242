"""``supersms receiver [--host H] [--port P] [--workers N] [--access-log]``: the report receiver on gunicorn.

``supersms receiver --replay`` moves what is left in the spool directory into Redis and exits (the serving
processes also do this by themselves, on start and every few seconds).
"""

from __future__ import annotations

import argparse
import errno
import logging
import socket

from supersms.cli.main import CommandParser
from supersms.cli.options import PORT, in_range
from supersms.errors import ConfigError
from supersms.settings import Settings

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 8000
LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"


def main(argv: list[str]) -> int:
    """Run the receiver until stopped (or replay the spool); returns the exit status."""
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    if args.replay:
        from supersms.receiver.replay import replay_spool  # imported here: other commands do not need it

        print(replay_spool(settings))
        return 0
    workers = args.workers or settings.receiver_workers
    return serve(settings, host=args.host, port=args.port, workers=workers, access_log=args.access_log)


def serve(settings: Settings, *, host: str, port: int, workers: int, access_log: bool = False) -> int:
    """Check what would only fail later (spool directory, port), then run gunicorn; its exit status."""
    from supersms.receiver.server import ReceiverServer, gunicorn_options
    from supersms.receiver.spool import SpoolWriter

    if not SpoolWriter(directory=settings.spool_dir).writable():
        raise ConfigError("SUPERSMS_SPOOL_DIR", f"{settings.spool_dir!r} is not a writable directory")
    ensure_free(host, port)
    options = gunicorn_options(settings, host=host, port=port, workers=workers, access_log=access_log)
    try:
        ReceiverServer(settings, options).run()
    except SystemExit as exit_:  # gunicorn ends its master with sys.exit
        return 0 if exit_.code is None else exit_.code if isinstance(exit_.code, int) else 1
    return 0


def ensure_free(host: str, port: int) -> None:
    """Raise :class:`ConfigError` naming the option when ``host:port`` cannot be listened on."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds it
            probe.bind(address)
    except socket.gaierror as error:
        raise ConfigError("--host", f"cannot resolve {host!r}: {error.strerror}") from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ConfigError("--port", f"{host}:{port} is already in use") from None
        raise ConfigError("--host", f"cannot listen on {host}:{port}: {error.strerror}") from None


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="supersms receiver", description="Serve the delivery-report endpoint.")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=PORT, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--workers", type=in_range(int, 1, 64), help="worker processes (default SUPERSMS_RECEIVER_WORKERS)"
    )
    parser.add_argument(
        "--access-log", action="store_true", help="log every request to stdout (holds phone numbers)"
    )
    parser.add_argument(
        "--replay", action="store_true", help="move spooled reports into Redis, print the count, exit"
    )
    return parser
