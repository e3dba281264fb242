"""``supersms reports dead|malformed|pending [--count N]``: inspect reports that did not go the normal way.

- ``dead``: reports that never matched a message within ``SUPERSMS_REPORT_HORIZON`` (the dead-letter stream);
- ``malformed``: report GETs the receiver refused with 400, with their raw query and the rule they broke;
- ``pending``: reports waiting in the consumer group (parked until their message is known, or in flight).
Each prints one JSON object a line, newest last.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from supersms.cli.main import CommandParser
from supersms.cli.options import in_range
from supersms.settings import Settings
from supersms.workers import keys
from supersms.workers.redis_io import connect, translate_errors

STREAMS = {"dead": keys.REPORTS_DEAD, "malformed": keys.REPORTS_MALFORMED}


def main(argv: list[str]) -> int:
    p = CommandParser(
        prog="supersms reports", description="Inspect dead-lettered, malformed or pending reports."
    )
    p.add_argument("kind", choices=("dead", "malformed", "pending"), help="which reports to list")
    p.add_argument(
        "--count",
        type=in_range(int, 1),
        default=100,
        help="how many at most: the newest dead or malformed, the longest waiting pending (default 100)",
    )
    args = p.parse_args(argv)
    client = connect(Settings.from_env().redis_url)
    with translate_errors("read reports"):
        if args.kind == "pending":
            rows = _pending(client, args.count)
        else:
            entries: Any = client.xrevrange(STREAMS[args.kind], count=args.count)
            rows = [{"entry": entry_id, **fields} for entry_id, fields in reversed(entries)]
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    return 0


def _pending(client: redis.Redis, count: int) -> list[dict[str, object]]:
    try:
        waiting: Any = client.xpending_range(keys.REPORTS, keys.REPORTS_GROUP, min="-", max="+", count=count)
    except redis.ResponseError:  # no stream or no consumer group yet: nothing is pending
        return []
    rows = []
    for item in waiting:
        entry: Any = client.xrange(keys.REPORTS, min=item["message_id"], max=item["message_id"])
        fields = entry[0][1] if entry else {}
        rows.append(
            {
                "entry": item["message_id"],
                "consumer": item["consumer"],
                "idle_ms": item["time_since_delivered"],
                "deliveries": item["times_delivered"],
                **fields,
            }
        )
    return rows
