"""``python -m drills [name ...]``: run the named drills (all by default); exit 1 when any lost or doubled."""

from __future__ import annotations

import argparse
import sys

from drills.catalog import DRILLS, by_name
from drills.runner import run_all


def main(argv: list[str]) -> int:
    known = by_name()
    parser = argparse.ArgumentParser(prog="python -m drills", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help="drills to run: " + ", ".join(known))
    parser.add_argument("--list", action="store_true", help="list the drills and exit")
    args = parser.parse_args(argv)
    if args.list:
        for drill in DRILLS:
            print(f"{drill.name:<22} {drill.title}{'  (also in CI)' if drill.ci else ''}")
        return 0
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"no such drill: {', '.join(unknown)} (known: {', '.join(known)})")
    chosen = [known[name] for name in args.names] if args.names else list(DRILLS)
    results = run_all(chosen, out=sys.stdout)
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
