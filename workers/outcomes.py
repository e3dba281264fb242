"""Telling producers what became of their messages, once a record reaches a final status.

Two ways: every final status goes to the ``supersms:events`` stream (readable from any language), and a
Python producer's Celery signature stored with the message (``on_final``) is called with the record.
Each happens once per final status: a message that ended ``failed`` with an unknown outcome is announced
again if its delivery report arrives later and settles it as ``delivered`` or ``undelivered``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from supersms.workers import keys
from supersms.workers.records import MessageStore, public_view
from supersms.workers.redis_io import translate_errors

log = logging.getLogger(__name__)

EVENTS_MAXLEN = 1_000_000
Callback = Callable[[dict[str, Any], dict[str, Any]], None]


class Outcomes:
    """Announces final statuses; ``run_callback(signature, record)`` calls a producer's signature."""

    def __init__(self, *, redis_client: redis.Redis, store: MessageStore, run_callback: Callback) -> None:
        self._store = store
        self._run_callback = run_callback
        self._announce = redis_client.register_script((Path(__file__).parent / "announce.lua").read_text())

    def settled(self, message_id: str) -> None:
        """Announce the record's status if it is final and not announced yet; then call its signature."""
        with translate_errors("announce a final status"):
            wants_callback = self._announce(
                keys=[keys.message(message_id), keys.EVENTS], args=[EVENTS_MAXLEN]
            )
        if wants_callback:
            record = self._store.load(message_id)
            try:
                self._run_callback(json.loads(record["on_final"]), public_view(record))
            except Exception:  # a producer's broken signature must not stop the outcome being recorded
                log.exception("message %s: calling its on_final signature failed", message_id)
