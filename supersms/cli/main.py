"""The ``supersms`` command line."""

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the ``supersms`` command; return its exit status."""
    print("supersms: no commands yet", file=sys.stderr)
    return 1
