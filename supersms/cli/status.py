"""``supersms status ID...``: one JSON object a line; exit 1 when an id is unknown, 2 when one is malformed."""

from __future__ import annotations

import argparse
import json
import sys

from supersms.cli.main import CommandParser
from supersms.errors import InvalidMessage, UnknownMessage
from supersms.protocol.message import validate_message_id
from supersms.settings import Settings
from supersms.workers.records import MessageStore, public_view
from supersms.workers.redis_io import connect


def main(argv: list[str]) -> int:
    """Print the record of each id in order; an unknown id is one line on stderr and exit status 1."""
    p = CommandParser(prog="supersms status", description="Print message records as JSON lines.")
    p.add_argument("ids", nargs="+", metavar="ID", type=_message_id)
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


def _message_id(text: str) -> str:
    """argparse ``type``: an id as messages get them, so a mistyped one is bad input rather than unknown."""
    try:
        return validate_message_id(text)
    except InvalidMessage as error:
        raise argparse.ArgumentTypeError(f"{error.rule}, got {text!r}") from None
