"""``supersms status ID...``: one JSON object a line; exit 1 when an id is unknown."""

from __future__ import annotations

import json
import sys

from supersms.cli.main import CommandParser
from supersms.errors import UnknownMessage
from supersms.settings import Settings
from supersms.workers.records import MessageStore, public_view
from supersms.workers.redis_io import connect


def main(argv: list[str]) -> int:
    """Print the record of each id in order; an unknown id is one line on stderr and exit status 1."""
    p = CommandParser(prog="supersms status", description="Print message records as JSON lines.")
    p.add_argument("ids", nargs="+", metavar="ID")
    args = p.parse_args(argv)
    settings = Settings.from_env()
    store = MessageStore(redis_client=connect(settings.redis_url), record_ttl_s=settings.record_ttl_s)
    status = 0
    for message_id in args.ids:
        try:
            print(json.dumps(public_view(store.load(message_id)), ensure_ascii=False))
        except UnknownMessage as error:
            print(f"supersms status: {error}", file=sys.stderr)
            status = 1
    return status
