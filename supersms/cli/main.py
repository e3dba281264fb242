"""The ``supersms`` command line: one entry point, one module per command.

Exit status: 0 done; 2 invalid input or configuration, one line naming the field (or variable)
and the rule; 1 any other failure, one line, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from typing import NoReturn

from supersms.errors import ConfigError, InvalidMessage, SmsError

COMMANDS = {
    "send": ("supersms.cli.send", "validate and enqueue messages; print their ids"),
    "status": ("supersms.cli.status", "print message records as JSON lines"),
    "pause": ("supersms.cli.pause", "show or lift the account-wide pause"),
    "worker": ("supersms.cli.worker", "run a Celery worker for sends and reports"),
    "receiver": ("supersms.cli.receiver", "serve the delivery-report endpoint on gunicorn"),
    "reports": ("supersms.cli.reports", "list dead-lettered, malformed or pending reports"),
    "flower": ("supersms.cli.flower", "run Flower for this app (options pass through to Flower)"),
    "metrics": ("supersms.cli.metrics", "serve Prometheus metrics of messages, provider and reports"),
    "sandbox": ("supersms.sandbox.command", "run a local provider for development and tests"),
    "demo": ("supersms.cli.demo", "run the main job on embedded defaults and show the outcomes"),
}

EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2

# argparse's own error messages, read back into (option, rule) so that they print as one line.
_ARGPARSE_ERRORS = (
    (re.compile(r"argument (?P<field>[^:]+): (?P<rule>.+)"), None),
    (re.compile(r"the following arguments are required: (?P<field>.+)"), "required"),
    (re.compile(r"one of the arguments (?P<field>.+) is required"), "one of them is required"),
    (re.compile(r"unrecognized arguments: (?P<field>\S+).*"), "unrecognized argument"),
)


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`InvalidMessage` naming the option, not usage text.

    :func:`main` prints them as the one line of exit status 2; ``--help`` still prints the full usage.
    """

    def error(self, message: str) -> NoReturn:
        for pattern, rule in _ARGPARSE_ERRORS:
            match = pattern.fullmatch(message)
            if match:
                field, detail = match["field"], rule or match["rule"]
                if rule == "required":
                    detail += self._choices_of(field)
                raise InvalidMessage(field, detail)
        raise InvalidMessage("arguments", message)

    def _choices_of(self, field: str) -> str:
        """`` (one of: a, b)`` when the argument named ``field`` has choices, else nothing."""
        for action in self._actions:
            if action.choices and field in (action.dest, action.metavar, *action.option_strings):
                return f" (one of: {', '.join(map(str, action.choices))})"
        return ""


def main(argv: list[str] | None = None) -> int:
    """Run ``supersms COMMAND ...``; return its exit status."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        _usage()
        return EXIT_OK
    if args[0] not in COMMANDS:
        print(f"supersms: unknown command {args[0]!r} (one of: {', '.join(COMMANDS)})", file=sys.stderr)
        return EXIT_INVALID
    module = importlib.import_module(COMMANDS[args[0]][0])
    try:
        return int(module.main(args[1:]))
    except (InvalidMessage, ConfigError) as error:
        print(f"supersms {args[0]}: {error}", file=sys.stderr)
        return EXIT_INVALID
    except SmsError as error:
        print(f"supersms {args[0]}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the contract: one line and exit 1, never a traceback
        print(f"supersms {args[0]}: unexpected {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _usage() -> None:
    parser = argparse.ArgumentParser(prog="supersms", description="Send SMS through Infobank SuperSMS.")
    lines = [parser.format_usage().replace("[-h]", "COMMAND [ARGS]").strip(), "", "commands:"]
    lines += [f"  {name:<10} {description}" for name, (_, description) in COMMANDS.items()]
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
