"""What the command-line tests share: the outcome of a finished command and looks into Redis."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import redis

SENDER = "01029652189"
ACCOUNT = {"SUPERSMS_ID": "infobank_test", "SUPERSMS_PASSWORD": "pwinfobank"}
SEND_QUEUE = "sms.send"


@dataclass(frozen=True)
class Finished:
    """What a finished command left: its exit status and its output."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def stdout_lines(self) -> list[str]:
        return self.stdout.splitlines()

    def only_error_line(self) -> str:
        """The one line on stderr; fails when there are more, none, or a traceback."""
        assert "Traceback" not in self.stderr, self.stderr
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        return lines[0]


def record_keys(client: redis.Redis) -> list[str]:
    """Every message record in Redis."""
    return sorted(client.scan_iter(match="supersms:msg:*", count=1000))


def queue_length(client: redis.Redis) -> int:
    """Tasks waiting in the broker's ``sms.send`` list."""
    return int(client.llen(SEND_QUEUE))


def enqueued_message_ids(client: redis.Redis) -> list[str]:
    """The message ids of every task waiting in ``sms.send``: one per ``supersms.send``, many per batch."""
    found: list[str] = []
    for raw in client.lrange(SEND_QUEUE, 0, -1):
        _, kwargs, _ = json.loads(base64.b64decode(json.loads(raw)["body"]))
        found += kwargs["ids"] if "ids" in kwargs else [kwargs["id"]]
    return found


def assert_nothing_enqueued(client: redis.Redis) -> None:
    """No message record was created and no task was published."""
    assert record_keys(client) == []
    assert queue_length(client) == 0
