"""Messages as kombu's Redis transport stores them, and templates to render many alike (pure: no I/O).

kombu's Redis transport keeps a message as one JSON text (``kombu/transport/redis.py``, ``Channel._put``):
what ``Producer.publish`` and the virtual channel (``prepare_message``, ``basic_publish``) make of a body,
its headers and properties::

    {"body": <serialised body, base64>, "content-encoding": ..., "content-type": ...,
     "headers": {...}, "properties": {<the publisher's properties>, "delivery_mode": ...,
     "delivery_info": {"exchange": ..., "routing_key": ...}, "priority": ..., "body_encoding": "base64",
     "delivery_tag": <a uuid>}}

A task is LPUSHed onto the list named after its queue (priority 0; priority ``p`` of the steps 3, 6, 9 goes to
``<queue>\\x06\\x16<p>``) and taken from the other end; an event is PUBLISHed to its fanout topic.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BODY_ENCODING = "base64"
"""How the Redis transport writes a body into the JSON text."""


def envelope(
    *,
    encoded_body: str,
    content_type: str,
    content_encoding: str,
    headers: Mapping[str, Any],
    properties: Mapping[str, Any],
    delivery_mode: int | None,
    exchange: str,
    routing_key: str,
    priority: int,
    delivery_tag: str,
) -> dict[str, Any]:
    """The message kombu stores for a body (serialised, then :func:`encode_body`), headers and properties.

    Keys come in kombu's order, so the JSON text is the one ``Channel._put`` writes.
    """
    return {
        "body": encoded_body,
        "content-encoding": content_encoding,
        "content-type": content_type,
        "headers": dict(headers),
        "properties": {
            **properties,
            "delivery_mode": delivery_mode,
            "delivery_info": {"exchange": exchange, "routing_key": routing_key},
            "priority": priority,
            "body_encoding": BODY_ENCODING,
            "delivery_tag": delivery_tag,
        },
    }


def encode_body(body: str) -> str:
    """A serialised body as the Redis transport writes it (base64 of its UTF-8)."""
    return base64.b64encode(body.encode("utf-8")).decode("ascii")


@dataclass(frozen=True)
class Template:
    """A text rendered once with placeholders in it, which :meth:`fill` fills with each message's values.

    Filled values go in as they are: they must already be written as they should appear (for JSON, a string's
    value needing no escapes, such as an id, a uuid or base64, or a whole JSON value). Kept as a ``%``-format
    string: filling one is a single pass in C, several times faster than :meth:`str.format_map`.
    """

    format: str

    @classmethod
    def of(cls, text: str, holes: Mapping[str, str]) -> Template:
        """``text`` with every occurrence of each placeholder (``holes``: name → placeholder) made a hole."""
        escaped = text.replace("%", "%%")
        for name, placeholder in holes.items():
            written = placeholder.replace("%", "%%")
            if written not in escaped:
                raise ValueError(f"placeholder for {name!r} not in the text: {placeholder!r}")
            escaped = escaped.replace(written, f"%({name})s")
        return cls(escaped)

    def fill(self, **values: str) -> str:
        """The text with each hole replaced by its value."""
        return self.format % values
