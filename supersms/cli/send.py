"""``supersms send``: validate and enqueue one message, or many from a JSON-lines file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any

from supersms.cli.main import CommandParser
from supersms.errors import InvalidMessage
from supersms.protocol.message import Message

FIELD_FLAGS = (
    "from",
    "country",
    "title",
    "ref",
    "ttl",
    "charset",
    "payment-code",
    "client-sub-id",
    "origin-cid",
)


def parser() -> CommandParser:
    p = CommandParser(prog="supersms send", description="Validate and enqueue SMS; print the new ids.")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--to", help="recipient: 01093446280, 010-9344-6280 or +82 10-9344-6280")
    source.add_argument(
        "--jsonl", metavar="FILE", help="one JSON object a line with the task fields ('-' = stdin)"
    )
    p.add_argument("--message", help="message text")
    p.add_argument("--from", dest="from_", metavar="N", help="sender number (default SUPERSMS_FROM)")
    p.add_argument(
        "--country",
        metavar="CC",
        help="country code of a national --to number (default SUPERSMS_DEFAULT_COUNTRY, or 82)",
    )
    p.add_argument("--title", metavar="T", help="subject of a Korean LMS (at most 40 bytes)")
    p.add_argument("--ref", metavar="R", help="your reference: at most 20 letters and digits")
    p.add_argument(
        "--ttl", metavar="SECONDS", help="validity in seconds (at most 604800; default SUPERSMS_DEFAULT_TTL)"
    )
    p.add_argument(
        "--charset", choices=("utf-8", "euc-kr"), help="encoding sent to the provider (default utf-8)"
    )
    p.add_argument("--payment-code", metavar="X")
    p.add_argument("--client-sub-id", metavar="X")
    p.add_argument("--origin-cid", metavar="X")
    p.add_argument("--id", metavar="ID", help="your own message id (at most 20 letters and digits)")
    return p


def main(argv: list[str]) -> int:
    """Validate every message given, then enqueue them all and print their ids in input order."""
    args = parser().parse_args(argv)
    from supersms.tasks.producer import campaign_batch_size, enqueue_validated, validate_one

    if args.jsonl is not None:
        _refuse_single_message_flags(args)
        accepted = _read_jsonl(args.jsonl)
    else:
        if args.message is None:
            raise InvalidMessage("--message", "required with --to")
        accepted = [validate_one(_fields(args))]
    for message_id in enqueue_validated(accepted, batch_size=campaign_batch_size(len(accepted))):
        print(message_id)
    return 0


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    fields = {
        "to": args.to,
        "message": args.message,
        "from": args.from_,
        "to_country": args.country,
        "title": args.title,
        "ref": args.ref,
        "ttl": args.ttl,
        "charset": args.charset,
        "payment_code": args.payment_code,
        "client_sub_id": args.client_sub_id,
        "origin_cid": args.origin_cid,
        "id": args.id,
    }
    return {name: value for name, value in fields.items() if value is not None}


def _refuse_single_message_flags(args: argparse.Namespace) -> None:
    """With ``--jsonl`` every field comes from the file; a flag that would be ignored is an error instead."""
    given = list(_fields(args))
    if given:
        flag = {"to_country": "--country"}.get(given[0], "--" + given[0].replace("_", "-"))
        raise InvalidMessage(flag, "not allowed with --jsonl (put the field in each line)")


def _read_jsonl(path: str) -> list[tuple[str, Message]]:
    if path == "-":
        return _validate_lines(sys.stdin.buffer)
    try:
        with open(path, "rb") as lines:
            return _validate_lines(lines)
    except OSError as error:
        raise InvalidMessage("--jsonl", f"cannot read {path}: {error.strerror}") from None


def _validate_lines(lines: Iterable[bytes]) -> list[tuple[str, Message]]:
    """Every line validated, or :class:`InvalidMessage` naming the first bad line (and its field)."""
    from supersms.tasks.producer import refuse_repeated_id, validate_one

    accepted = []
    ids_seen: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = _json_object(line, number)
        try:
            accepted.append(validate_one(fields))
        except InvalidMessage as error:
            raise InvalidMessage(f"line {number}: {error.field}", error.rule) from None
        refuse_repeated_id(ids_seen, accepted[-1][0], where=f"line {number}", field=f"line {number}: id")
    return accepted


def _json_object(line: bytes, number: int) -> dict[str, Any]:
    try:
        fields = json.loads(line.decode("utf-8-sig"))  # -sig: a file saved with a BOM still reads
    except UnicodeDecodeError:
        raise InvalidMessage(f"line {number}", "not valid UTF-8") from None
    except json.JSONDecodeError as error:
        raise InvalidMessage(f"line {number}", f"not valid JSON ({error.msg})") from None
    if not isinstance(fields, dict):
        raise InvalidMessage(f"line {number}", "must be a JSON object")
    return fields
