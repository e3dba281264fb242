"""Reading a send request's parameters as bytes, so the message can be decoded in the charset it names."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

# latin-1 maps every byte to one character and back, so percent-decoded bytes survive untouched.
_BYTES = "latin-1"


def parse_form(*sources: bytes) -> dict[str, bytes]:
    """The fields of urlencoded ``sources`` (query, then body); a repeated field keeps its first value."""
    fields: dict[str, bytes] = {}
    for source in sources:
        text = source.decode(_BYTES)
        for name, value in parse_qsl(text, keep_blank_values=True, encoding=_BYTES):
            fields.setdefault(name, value.encode(_BYTES))
    return fields


def readable(fields: Mapping[str, bytes], encoding: str) -> dict[str, str]:
    """The fields as text for a log: in ``encoding``, with replacement characters where they do not decode."""
    return {name: value.decode(encoding, errors="replace") for name, value in fields.items()}
