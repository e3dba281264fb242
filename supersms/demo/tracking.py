"""The batch's records, read back from Redis in pipelined round trips while the messages move."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Mapping, Sequence
from typing import cast

import redis

from supersms.demo.report import MISSING
from supersms.workers import keys
from supersms.workers.records import FINAL_STATUSES
from supersms.workers.redis_io import translate_errors

POLL_S = 0.2


def status_counts(client: redis.Redis, ids: Sequence[str]) -> collections.Counter[str]:
    """How many of ``ids`` are in each status (``missing`` for a record that is gone)."""
    with translate_errors("read the demo's statuses"):
        pipe = client.pipeline(transaction=False)
        for message_id in ids:
            pipe.hget(keys.message(message_id), "status")
        return collections.Counter(status or MISSING for status in pipe.execute())


def load_records(client: redis.Redis, ids: Sequence[str]) -> list[dict[str, str]]:
    """The raw record hash of each of ``ids``, in order (empty for a record that is gone)."""
    with translate_errors("read the demo's records"):
        pipe = client.pipeline(transaction=False)
        for message_id in ids:
            pipe.hgetall(keys.message(message_id))
        return cast(list[dict[str, str]], pipe.execute())


def wait_until_final(
    client: redis.Redis,
    ids: Sequence[str],
    *,
    timeout_s: float,
    on_update: Callable[[Mapping[str, int]], None],
) -> bool:
    """Poll until every message is final (True) or ``timeout_s`` passed (False); show each count."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts = status_counts(client, ids)
        on_update(counts)
        if sum(counts[status] for status in FINAL_STATUSES) == len(ids):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_S)
