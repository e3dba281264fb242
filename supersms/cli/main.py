"""The ``supersms`` command line: one entry point, one module per command.

Exit status (CONTRACT.md): 0 done; 2 invalid input or configuration, one line naming the field (or variable)
and the rule; 1 any other failure, one line, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from supersms.errors import ConfigError, InvalidMessage, SmsError

COMMANDS = {
    "send": ("supersms.cli.send", "validate and enqueue messages; print their ids"),
    "status": ("supersms.cli.status", "print message records as JSON lines"),
    "pause": ("supersms.cli.pause", "show or lift the account-wide pause"),
    "worker": ("supersms.cli.worker", "run a Celery worker for sends and reports"),
    "receiver": ("supersms.cli.receiver", "serve the delivery-report endpoint on gunicorn"),
    "sandbox": ("supersms.sandbox.command", "run a local provider for development and tests"),
}

EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    """Run ``supersms COMMAND ...``; return its exit status."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help") or args[0] not in COMMANDS:
        _usage(sys.stdout if not args or args[0] in ("-h", "--help") else sys.stderr)
        return EXIT_OK if not args or args[0] in ("-h", "--help") else EXIT_INVALID
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


def _usage(stream: object) -> None:
    parser = argparse.ArgumentParser(prog="supersms", description="Send SMS through Infobank SuperSMS.")
    lines = [parser.format_usage().replace("[-h]", "COMMAND [ARGS]").strip(), "", "commands:"]
    lines += [f"  {name:<10} {description}" for name, (_, description) in COMMANDS.items()]
    print("\n".join(lines), file=stream)  # type: ignore[call-overload]


if __name__ == "__main__":
    sys.exit(main())
