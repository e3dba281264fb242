"""``supersms flower [FLOWER OPTIONS]``: Flower for the supersms Celery app, with task arguments masked.

Flower options pass through (``--port=5555``, ``--address=0.0.0.0``, ``--basic-auth=user:pass``,
``--url-prefix=flower`` …; ``--name value`` is accepted as well as ``--name=value``); Flower's own
``FLOWER_*`` variables and ``flowerconfig.py`` work as usual. The broker is ``SUPERSMS_BROKER_URL``.

What differs from ``celery flower``:
- it listens on 127.0.0.1 unless ``--address`` says otherwise: Flower shows the whole cluster and can
  control it, so exposing it is a decision to make explicitly (with authentication);
- ``SUPERSMS_FLOWER_BASIC_AUTH=user:pass[,user2:pass2]`` sets basic auth without putting the password on
  a command line (where ``ps`` shows it); ``--basic-auth`` on the command line still wins. It is never logged;
- every task event and every inspect reply is masked as it arrives
  (:mod:`supersms.workers.monitor_masking`), including tasks other producers published with full arguments.

Flower's REST API (``/api/...``) answers 401 unless some authentication is set (or Flower's own
``FLOWER_UNAUTHENTICATED_API=true``). Flower's ``/metrics`` is never authenticated: see ``supersms metrics``
for the numbers Flower does not have.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

from flower.app import Flower
from flower.command import (
    apply_env_options,
    apply_options,
    extract_settings,
    print_banner,
    setup_logging,
    sigterm_handler,
)
from flower.events import Events
from flower.inspector import Inspector
from flower.options import options
from flower.urls import settings as flower_settings
from tornado.ioloop import IOLoop
from tornado.options import Error as OptionError

from supersms.cli.options import PORT
from supersms.errors import ConfigError, InvalidMessage
from supersms.workers.monitor_masking import mask_event, mask_inspect_reply

log = logging.getLogger(__name__)

BASIC_AUTH_VARIABLE = "SUPERSMS_FLOWER_BASIC_AUTH"
DEFAULT_ADDRESS = "127.0.0.1"
HELP_FLAGS = frozenset({"-h", "--help"})
BASIC_AUTH_RULE = "must be user:password (several separated by commas)"
NUMBER_KINDS: dict[type, str] = {int: "an integer", float: "a number"}


def main(argv: list[str]) -> int:
    """Run Flower for the supersms app until it is stopped."""
    from supersms.tasks.app import app

    # Flower finds the broker (for queue lengths) by the scheme of the connection's URL, which kombu writes
    # from the transport's name: it watches with kombu's own Redis transport, under its own name.
    if app.conf.broker_transport:  # (reading the setting configures the app first, so the change holds)
        app.conf.broker_transport = None
    args = flower_argv(argv, value_options(options))
    if not HELP_FLAGS & set(args) and not any(arg.startswith("--address=") for arg in args):
        args.append(f"--address={DEFAULT_ADDRESS}")
    credentials = basic_auth_from_env(os.environ)
    _apply_options(args, credentials)
    run(app)
    return 0


def value_options(parser: Any) -> dict[str, bool]:
    """Flower's option names (as typed, with dashes) → whether the option takes a value."""
    return {name.replace("_", "-"): option.type is not bool for name, option in parser._options.items()}


def flower_argv(argv: list[str], known: Mapping[str, bool]) -> list[str]:
    """The arguments in Tornado's ``--name=value`` form, each checked to be a Flower option.

    ``known`` maps option names to whether they take a value (:func:`value_options`).
    """
    normalized: list[str] = []
    pending = list(argv)
    while pending:
        arg = pending.pop(0)
        if arg in HELP_FLAGS:
            normalized.append("--help")
            continue
        if not arg.startswith("--"):
            raise InvalidMessage("arguments", "Flower options look like --name=value")
        name, equals, _ = arg[2:].partition("=")
        name = name.replace("_", "-")
        if name not in known:
            raise InvalidMessage(f"--{name}", "is not a Flower option")
        if not equals and known[name]:
            if not pending or pending[0].startswith("--"):
                raise InvalidMessage(f"--{name}", "needs a value")
            arg = f"--{name}={pending.pop(0)}"
        normalized.append(arg)
    return normalized


def basic_auth_from_env(environ: Mapping[str, str]) -> list[str] | None:
    """The credentials in ``SUPERSMS_FLOWER_BASIC_AUTH`` (``user:pass``, several separated by commas)."""
    raw = environ.get(BASIC_AUTH_VARIABLE, "").strip()
    if not raw:
        return None
    credentials = [entry.strip() for entry in raw.split(",")]
    if not _all_user_and_password(credentials):
        raise ConfigError(BASIC_AUTH_VARIABLE, BASIC_AUTH_RULE)
    return credentials


def check_values(args: list[str]) -> None:
    """Refuse, naming the option, a number option whose value is not one, or ``--basic-auth`` that is not
    ``user:password`` (never echoing it). ``args`` are in Tornado's form (:func:`flower_argv`)."""
    for arg in args:
        name, equals, value = arg[2:].partition("=")
        option = options._options.get(name)
        if not equals or option is None:
            continue
        values = value.split(",") if option.multiple else [value]
        if name == "basic-auth" and not _all_user_and_password(values):
            raise InvalidMessage("--basic-auth", BASIC_AUTH_RULE)
        if option.type in NUMBER_KINDS and not all(_reads_as(option.type, part) for part in values):
            raise InvalidMessage(f"--{name}", f"must be {NUMBER_KINDS[option.type]}, got {value!r}")


def _all_user_and_password(credentials: list[str]) -> bool:
    return all(user and password for user, _, password in (c.partition(":") for c in credentials))


def _reads_as(kind: type, text: str) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True


def _apply_options(args: list[str], credentials: list[str] | None) -> None:
    """Flower's own order (environment, then command line over it), with our variable in between."""
    check_values(args)
    try:
        apply_env_options()
        if credentials is not None:
            options.basic_auth = credentials
        apply_options(sys.argv[0], args)
    except (OptionError, ValueError) as error:
        raise InvalidMessage("options", str(error)) from None
    try:  # checked here, after Flower parsed it: else Tornado listens on port % 65536 unasked
        PORT(str(options.port))
    except argparse.ArgumentTypeError as error:
        raise InvalidMessage("--port", str(error)) from None
    extract_settings()
    setup_logging()
    if not (options.basic_auth or options.auth):
        log.warning("Flower has no authentication: its pages are open; set %s", BASIC_AUTH_VARIABLE)


def run(capp: Any) -> None:
    """Serve Flower for ``capp`` with the parsed options; block until stopped."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    io_loop = IOLoop.current()
    flower_app = MaskingFlower(capp=capp, io_loop=io_loop, **flower_settings)
    atexit.register(flower_app.stop)
    signal.signal(signal.SIGTERM, sigterm_handler)
    port = flower_app.start_http_server()
    print_banner(capp, "ssl_options" in flower_settings, port)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):  # how Flower's own command ends, too
        flower_app.start()


class MaskingEvents(Events):  # type: ignore[misc]
    """Flower's event capture, masking each task event before the state (and its search index) keeps it."""

    def on_event(self, event: dict[str, Any]) -> None:
        super().on_event(mask_event(event))


class MaskingInspector(Inspector):  # type: ignore[misc]
    """Flower's inspector, masking the task lists in workers' replies (they hold the raw arguments)."""

    def _on_update(self, workername: str, method: str, response: Any) -> None:
        super()._on_update(workername, method, mask_inspect_reply(method, response))


class MaskingFlower(Flower):  # type: ignore[misc]
    """Flower with :class:`MaskingEvents` and :class:`MaskingInspector`, configured from Flower's options."""

    def __init__(self, *, capp: Any, io_loop: Any, **app_settings: Any) -> None:
        events = MaskingEvents(
            capp,
            io_loop=io_loop,
            db=options.db,
            persistent=options.persistent,
            state_save_interval=options.state_save_interval,
            enable_events=options.enable_events,
            max_workers_in_memory=options.max_workers,
            max_tasks_in_memory=options.max_tasks,
        )
        super().__init__(capp=capp, options=options, events=events, io_loop=io_loop, **app_settings)
        self.inspector = MaskingInspector(io_loop, capp, options.inspect_timeout / 1000.0)
