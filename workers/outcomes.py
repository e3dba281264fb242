"""Telling producers what became of their messages, once a record reaches a final status.

Two ways: every final status goes to the ``supersms:events`` stream (readable from any language), and a
Python producer's Celery signature stored with the message (``on_final``) is called with the record.

The event is written by the same Lua script that makes the record final (``announce.lua``), once per final
status: a message that ended ``failed`` with an unknown outcome is announced again if its delivery report
arrives later and settles it as ``delivered`` or ``undelivered``. The callback follows the script; once it is
handed to the broker the record is marked (``called_back``), and a redelivered task or report that finds the
mark missing calls it again, so a callback is made at least once and, short of a crash in between, once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import redis

from supersms.errors import UnknownMessage
from supersms.workers import keys, lua
from supersms.workers.records import MessageStore, public_view
from supersms.workers.redis_io import translate_errors

log = logging.getLogger(__name__)

Callback = Callable[[dict[str, Any], dict[str, Any]], None]


class Outcomes:
    """Announces final statuses; ``run_callback(signature, record)`` calls a producer's signature."""

    def __init__(self, *, redis_client: redis.Redis, store: MessageStore, run_callback: Callback) -> None:
        self._redis = redis_client
        self._store = store
        self._run_callback = run_callback
        self._announce = lua.register(redis_client, "record_announce", uses=("announce",))

    def settled(self, message_id: str) -> None:
        """Announce the record's status if it is final and not announced yet; then call its signature if due."""
        with translate_errors("announce a final status"):
            callback_due = self._announce(keys=[keys.message(message_id), keys.EVENTS])
        if callback_due:
            self.call_back(message_id)

    def call_back(self, message_id: str) -> None:
        """Call the producer's ``on_final`` signature with the final record, then mark it called."""
        try:
            record = self._store.load(message_id)
        except UnknownMessage:
            return
        try:
            self._run_callback(json.loads(record["on_final"]), public_view(record))
        except Exception:  # a producer's broken signature must not stop the outcome being recorded
            log.exception("message %s: calling its on_final signature failed", message_id)
        with translate_errors("mark a callback made"):
            self._redis.hset(keys.message(message_id), "called_back", record["status"])
