"""One report GET as the receiver takes it in: the raw query, when it came, and from where.

The same three fields make a stream entry in Redis and a line of the local spool (JSON), so a spooled report
replays into exactly the entry it would have made directly.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from supersms.protocol.reports import Report, parse_report


@dataclass(frozen=True)
class Delivery:
    """A report GET: its raw ``query`` string, ``received_ms`` (epoch ms, our clock) and ``source`` (client IP)."""

    query: str
    received_ms: int
    source: str

    @classmethod
    def now(cls, query: str, source: str) -> Delivery:
        """A delivery received at this moment."""
        return cls(query=query, received_ms=time.time_ns() // 1_000_000, source=source)

    def report(self) -> Report:
        """The validated report (raises :class:`~supersms.errors.InvalidReport`), parsed as consumers will."""
        return parse_query(self.query)

    def to_line(self) -> bytes:
        """One spool line: compact ASCII JSON ending in a newline (a raw newline never appears inside)."""
        fields = {"query": self.query, "received_ms": self.received_ms, "source": self.source}
        return (json.dumps(fields, separators=(",", ":")) + "\n").encode("ascii")

    @classmethod
    def from_line(cls, line: bytes) -> Delivery:
        """Read a spool line back; ``ValueError`` when it is not one we wrote."""
        fields = json.loads(line)
        if not isinstance(fields, dict):
            raise ValueError("a spool line must be a JSON object")
        query, received_ms, source = fields.get("query"), fields.get("received_ms"), fields.get("source")
        if not (isinstance(query, str) and type(received_ms) is int and isinstance(source, str)):
            raise ValueError("a spool line needs query (str), received_ms (int) and source (str)")
        query.encode(
            "utf-8"
        )  # UnicodeEncodeError (a ValueError) for a lone surrogate: Redis could not take it
        return cls(query=query, received_ms=received_ms, source=source)


def parse_query(query: str) -> Report:
    """Validate a raw report query exactly as the correlation side re-parses it."""
    return parse_report(parse_qs(query, keep_blank_values=True))
