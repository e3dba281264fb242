"""Messages for a worker runtime driven in the test process (the ``worker_runtime`` fixture of tests/workers)."""

from __future__ import annotations

from datetime import UTC, datetime

from supersms.protocol.message import validate_message
from supersms.workers.intake import queued_record, with_ref
from supersms.workers.runtime import Runtime

KOREAN = "1093446280"
SENDER = "01029652189"


def queue_message(runtime: Runtime, message_id: str, **extra: str) -> None:
    """Record a valid ``queued`` message to Korea, with ``extra`` record fields."""
    message = with_ref(
        validate_message({"to": KOREAN, "message": "hello"}, default_sender=SENDER), message_id
    )
    record = queued_record(message_id, message, default_ttl_s=3600, now=datetime.now(UTC))
    runtime.store.create_many([{**record, **extra}])
