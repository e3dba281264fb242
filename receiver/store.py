"""The reports stream in Redis: each report added once, and refused report GETs kept for inspection.

The stream is never trimmed here: ``XTRIM``/``MAXLEN`` would also drop entries still pending in the
correlation consumer group; the correlation side trims what it has acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import redis
from redis.typing import EncodableT, FieldT

from supersms.receiver.delivery import Delivery
from supersms.workers import keys
from supersms.workers.held_connections import HeldConnections
from supersms.workers.lua import HeldScript
from supersms.workers.redis_io import translate_errors

RECEIVED_TTL_S = 7 * 86400  # a provider retries within minutes; a week also covers a long spool
MALFORMED_MAXLEN = 10_000
MALFORMED_QUERY_MAX_CHARS = 8192

_STORE_SCRIPT = (Path(__file__).parent / "store_report.lua").read_text(encoding="utf-8")


class ReportStore:
    """Writes of the receiver to Redis; every Redis failure surfaces as :class:`StoreUnavailable`."""

    def __init__(self, *, redis: redis.Redis, received_ttl_s: int = RECEIVED_TTL_S) -> None:
        self._redis = redis
        self._received_ttl_arg = str(received_ttl_s)
        self._store = redis.register_script(_STORE_SCRIPT)  # computes the SHA only; nothing connects here
        # one report: one EVALSHA, nothing more
        self._store_held = HeldScript(self._store, HeldConnections(redis.connection_pool))

    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless Redis answers."""
        with translate_errors("answer a PING"):
            self._redis.ping()

    def append(self, delivery: Delivery, dedup_key: str) -> bool:
        """Add the report to the stream; False when a delivery of the same report is already there."""
        with translate_errors("add a report to the stream"):
            script_keys, args = self._call(delivery, dedup_key)
            return self._store_held(keys=script_keys, args=args) is not None

    def append_many(self, batch: Sequence[tuple[Delivery, str]]) -> int:
        """Add several reports in one round trip, in order; returns how many were new."""
        with (
            translate_errors("add spooled reports to the stream"),
            self._redis.pipeline(transaction=False) as pipe,
        ):
            for delivery, dedup_key in batch:
                self._store(*self._call(delivery, dedup_key), client=pipe)
            return sum(entry_id is not None for entry_id in pipe.execute())

    def keep_malformed(self, delivery: Delivery, rule: str) -> None:
        """Keep a refused report GET (query cut to a bound) in a capped stream for an operator to read."""
        fields: dict[FieldT, EncodableT] = {
            "query": delivery.query[:MALFORMED_QUERY_MAX_CHARS],
            "rule": rule,
            "source": delivery.source,
            "received_ms": delivery.received_ms,
        }
        with translate_errors("keep a malformed report"):
            self._redis.xadd(keys.REPORTS_MALFORMED, fields, maxlen=MALFORMED_MAXLEN, approximate=True)

    def _call(self, delivery: Delivery, dedup_key: str) -> tuple[list[str], list[str]]:
        """The script's keys and arguments for one report (its stream entry's fields in order)."""
        script_keys = [keys.report_received(dedup_key), keys.REPORTS]
        entry_fields = [delivery.query, str(delivery.received_ms), delivery.source]
        return script_keys, [self._received_ttl_arg, *entry_fields]
