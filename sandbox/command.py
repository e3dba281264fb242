"""``supersms sandbox``: run the sandbox provider until SIGINT or SIGTERM.

Exit status: ``0`` after a clean stop; ``2`` for an invalid option (one line naming it); ``1`` when the server
cannot start (for instance, the port is taken).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from supersms.cli.main import CommandParser
from supersms.cli.options import in_range
from supersms.errors import InvalidMessage
from supersms.sandbox.faults import DEFAULT_REPORT_DELAY_S, DEFAULT_REPORT_RETRY_DELAY_S, FaultError, Faults
from supersms.sandbox.faults import parse_report_codes as _report_codes
from supersms.sandbox.rules import Account
from supersms.sandbox.service import Sandbox

PROG = "supersms sandbox"
RETRY_HELP = "seconds before each of a report's 3 retries"


OPTION_OF_FAULT = {
    "script": "--script",
    "force_code": "--force-code",
    "code_for_to": "--code-for-to",
    "capacity_per_s": "--capacity",
    "latency_s": "--latency",
    "report_delay_s": "--report-delay",
    "report_retry_delay_s": "--report-retry-delay",
    "report_codes": "--report-codes",
}
"""The option that sets each fault (a :class:`FaultError` names the fault as the admin API spells it)."""


def build_parser() -> argparse.ArgumentParser:
    """The options of ``supersms sandbox``."""
    parser = CommandParser(
        prog=PROG, description="A local stand-in for Infobank SuperSMS, with fault injection."
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add(
        "--port",
        type=in_range(int, 0, 65535),
        default=8800,
        help="port to listen on, 0 for a free one (default 8800)",
    )
    add(
        "--report-url", type=_http_url, help="where to deliver reports (GET); without it they are only logged"
    )
    add("--id", default=Account.id, help=f"account id (default {Account.id})")
    add("--password", default=Account.password, help="account password (default: the provider's example)")
    add("--report-delay", type=float, default=DEFAULT_REPORT_DELAY_S, metavar="S", help="seconds to a report")
    add(
        "--report-retry-delay", type=float, default=DEFAULT_REPORT_RETRY_DELAY_S, metavar="S", help=RETRY_HELP
    )
    add("--latency", type=float, default=0.0, metavar="S", help="seconds before answering a send")
    add("--capacity", type=int, metavar="N", help="sends per second above which it answers R009")
    add("--report-codes", default="1000", metavar="MIX", help="final report codes, e.g. 1000=0.9,2003=0.1")
    add("--script", default="", metavar="CODES", help="err_codes for the next sends, e.g. R001,R001")
    add("--force-code", metavar="CODE", help="answer this err_code to every send")
    add("--code-for-to", action="append", default=[], metavar="NUMBER=CODE", help="refuse one recipient")
    add("--typographic-quotes", action="store_true", help="write cnt=”1” as the provider's page prints it")
    add("--duplicate-reports", action="store_true", help="deliver every report twice")
    add("--intermediate-reports", action="store_true", help="a rslt_type=3 report before each final one")
    add("--report-before-reply", action="store_true", help="deliver reports before answering the send")
    add("--drop-after-read", action="store_true", help="accept sends but close without answering")
    add("--first-msgid", type=in_range(int, 0), metavar="N", help="first msgid (default: from the clock)")
    add("--seed", type=int, help="seed for the report code draw")
    return parser


def faults_from(options: argparse.Namespace) -> Faults:
    """The starting faults the options describe; raise :class:`FaultError` naming a bad one."""
    return Faults(
        script=tuple(code.strip() for code in options.script.split(",") if code.strip()),
        force_code=options.force_code,
        code_for_to=dict(_pair(item) for item in options.code_for_to),
        capacity_per_s=options.capacity,
        latency_s=options.latency,
        report_delay_s=options.report_delay,
        report_retry_delay_s=options.report_retry_delay,
        report_codes=_report_codes(options.report_codes),
        report_before_reply=options.report_before_reply,
        duplicate_reports=options.duplicate_reports,
        intermediate_reports=options.intermediate_reports,
        typographic_quotes=options.typographic_quotes,
        drop_after_read=options.drop_after_read,
    )


def main(argv: list[str]) -> int:
    """Run the sandbox until SIGINT or SIGTERM; return the exit status."""
    try:
        options = build_parser().parse_args(argv)
        sandbox = _sandbox(options)
    except InvalidMessage as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except FaultError as error:
        print(f"{PROG}: {OPTION_OF_FAULT.get(error.name, error.name)}: {error.rule}", file=sys.stderr)
        return 2
    except SystemExit as done:  # --help printed the usage
        return int(done.code or 0)
    try:
        sandbox.start()
    except OSError as error:
        print(
            f"{PROG}: cannot listen on {options.host}:{options.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    try:
        _announce(sandbox)
        _wait_for_signal()
    finally:
        sandbox.stop()
    return 0


def _sandbox(options: argparse.Namespace) -> Sandbox:
    return Sandbox(
        host=options.host,
        port=options.port,
        account=Account(id=options.id, password=options.password),
        report_url=options.report_url,
        faults=faults_from(options),
        first_msgid=options.first_msgid,
        seed=options.seed,
    )


def _http_url(text: str) -> str:
    """argparse ``type`` for the report URL: http or https, with a host."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// URL, got {text!r}")
    return text


def _pair(item: str) -> tuple[str, str]:
    number, separator, code = item.partition("=")
    if not separator:
        raise FaultError("code_for_to", f"expected NUMBER=CODE, got {item!r}")
    return number.strip(), code.strip()


def _announce(sandbox: Sandbox) -> None:
    reports = sandbox.report_url or "nowhere (no --report-url: reports are logged, not sent)"
    print(f"{PROG}: listening on {sandbox.url}, reports to {reports}", flush=True)
    print(f"{PROG}: faults and log at {sandbox.base_url}/_sandbox/faults and /_sandbox/log", flush=True)


def _wait_for_signal() -> None:
    stop = threading.Event()
    with _handling((signal.SIGINT, signal.SIGTERM), lambda *_: stop.set()):
        stop.wait()


@contextmanager
def _handling(signals: tuple[signal.Signals, ...], handler: Any) -> Iterator[None]:
    """Install ``handler`` for ``signals`` (possible on the main thread only); restore the old ones after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, handler) for number in signals}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
