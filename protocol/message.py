"""One message to send, and the validation that turns loose task fields into it.

Producers in any language enqueue ``supersms.send`` with keyword arguments named as the provider's parameters
(``to``, ``to_country``, ``from``, ``message``, ``title``, ``ref``, ``ttl``, ``charset``, ``payment_code``,
``client_sub_id``, ``origin_cid``, and an optional ``id``). :func:`validate_message` reads them into a
:class:`Message` or raises :class:`~supersms.errors.InvalidMessage` naming the first field that breaks a rule;
fields are checked in a fixed order, so the same input always yields the same error.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from supersms.errors import InvalidMessage
from supersms.protocol.measure import Charset, Measure, measure
from supersms.protocol.numbers import KOREA, Recipient, parse_recipient, parse_sender, sender_as_input

__all__ = [
    "FIELD_NAMES",
    "ID_MAX_CHARS",
    "OPTIONAL_MAX_BYTES",
    "TTL_MAX_S",
    "Charset",
    "Message",
    "measure_message",
    "parse_charset",
    "validate_message",
    "validate_message_id",
]

TTL_MAX_S = 7 * 86400
"""Longest validity we accept (7 days). The provider documents none; carriers keep retrying for far less."""
ID_MAX_CHARS = 20
"""A message id doubles as the provider's ``ref``: 1-20 ASCII letters and digits."""
OPTIONAL_MAX_BYTES = 20
"""Limit of ``payment_code`` and ``client_sub_id`` (UTF-8 bytes)."""

FIELD_NAMES = frozenset(
    {
        "id",
        "to",
        "to_country",
        "from",
        "message",
        "title",
        "ref",
        "ttl",
        "charset",
        "payment_code",
        "client_sub_id",
        "origin_cid",
    }
)
"""Every key :func:`validate_message` accepts."""

_REF = re.compile(r"[A-Za-z0-9]{1,20}", re.ASCII)
_ORIGIN_CID = re.compile(r"[0-9]{9}", re.ASCII)
_CHARSET_NAMES = {
    "utf-8": Charset.UTF8,
    "utf8": Charset.UTF8,
    "1": Charset.UTF8,
    "euc-kr": Charset.EUC_KR,
    "euc_kr": Charset.EUC_KR,
    "euckr": Charset.EUC_KR,
    "2": Charset.EUC_KR,
}


@dataclass(frozen=True)
class Message:
    """A valid message in the provider's terms.

    ``to_country``/``to`` are the provider's recipient (``"82"``/``"1093446280"``), ``sender`` the provider's
    ``from`` (digits only), ``text`` its ``message``; ``ttl_s`` its ``ttl`` in seconds.
    """

    to_country: str
    to: str
    sender: str
    text: str
    title: str | None = None
    ref: str | None = None
    ttl_s: int | None = None
    charset: Charset = Charset.UTF8
    payment_code: str | None = None
    client_sub_id: str | None = None
    origin_cid: str | None = None

    def as_fields(self) -> dict[str, str | int]:
        """The task keyword arguments for this message; :func:`validate_message` reads them back unchanged."""
        fields: dict[str, str | int] = {
            "to": self.to,
            "to_country": self.to_country,
            "from": sender_as_input(self.sender),
            "message": self.text,
            "charset": self.charset.value,
        }
        optional: dict[str, str | int | None] = {
            "title": self.title,
            "ref": self.ref,
            "ttl": self.ttl_s,
            "payment_code": self.payment_code,
            "client_sub_id": self.client_sub_id,
            "origin_cid": self.origin_cid,
        }
        fields.update({name: value for name, value in optional.items() if value is not None})
        return fields


def validate_message(
    fields: Mapping[str, object], *, default_sender: str | None = None, default_country: str = KOREA
) -> Message:
    """Read task fields into a :class:`Message`, or raise :class:`InvalidMessage` for the first broken rule.

    Order: unknown keys, ``to_country``, ``to``, ``from`` (``default_sender`` when absent), ``charset``,
    ``message``, ``title``, ``ref``, ``ttl``, ``payment_code``, ``client_sub_id``, ``origin_cid``. Optional
    fields given as None or ``""`` count as absent. ``to_country`` defaults to the ``+CC`` written in ``to``,
    else to ``default_country``. ``id`` is accepted and left to the caller (see :func:`validate_message_id`).
    """
    _reject_unknown(fields)
    recipient = _recipient(fields, default_country=default_country)
    sender = parse_sender(_required(fields, "from", default=default_sender))
    charset = parse_charset(_optional_str(fields, "charset"))
    text, title = _body(fields, country=recipient.country, charset=charset)
    return Message(  # keyword arguments are evaluated left to right: the check order above holds
        to_country=recipient.country,
        to=recipient.national,
        sender=sender,
        text=text,
        title=title,
        ref=_ref(fields),
        ttl_s=_ttl(fields.get("ttl")),
        charset=charset,
        payment_code=_short_printable(fields, "payment_code"),
        client_sub_id=_short_printable(fields, "client_sub_id"),
        origin_cid=_origin_cid(fields),
    )


def _body(fields: Mapping[str, object], *, country: str, charset: Charset) -> tuple[str, str | None]:
    """The message text and title, measured: both carriable, the text within its limit, the title in 40."""
    text = _required(fields, "message")
    if not text.strip():
        raise InvalidMessage("message", "must not be empty")
    title = _optional_str(fields, "title")
    measure(text, title=title, country=country, charset=charset)
    return text, title


def validate_message_id(value: object) -> str:
    """A message id: 1-20 ASCII letters or digits, so that it can travel as the provider's ``ref``."""
    if not isinstance(value, str):
        raise InvalidMessage("id", "must be a string")
    return _checked_ref(value, field="id")


def parse_charset(value: str | None, *, field: str = "charset") -> Charset:
    """``utf-8``/``euc-kr`` in any case, ``euc_kr``, or the provider's ``1``/``2``; None is UTF-8."""
    if value is None:
        return Charset.UTF8
    charset = _CHARSET_NAMES.get(value.strip().lower())
    if charset is None:
        raise InvalidMessage(field, "must be utf-8 or euc-kr")
    return charset


def measure_message(message: Message) -> Measure:
    """Bytes, kind or encoding, and parts of a valid message."""
    return measure(message.text, title=message.title, country=message.to_country, charset=message.charset)


def _reject_unknown(fields: Mapping[str, object]) -> None:
    if FIELD_NAMES.issuperset(fields):
        return
    unknown = sorted(str(name) for name in fields if name not in FIELD_NAMES)
    if unknown:
        raise InvalidMessage(unknown[0], "unknown field")


def _recipient(fields: Mapping[str, object], *, default_country: str) -> Recipient:
    country = fields.get("to_country")
    if isinstance(country, int) and not isinstance(country, bool):
        country = str(country)
    if country is not None and not isinstance(country, str):
        raise InvalidMessage("to_country", "must be a string or an integer")
    to = _required(fields, "to")
    return parse_recipient(to, country=country or None, default_country=default_country)


def _required(fields: Mapping[str, object], name: str, *, default: str | None = None) -> str:
    value = _optional_str(fields, name) or default
    if not value:
        raise InvalidMessage(name, "required")
    return value


def _optional_str(fields: Mapping[str, object], name: str) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidMessage(name, "must be a string")
    return value


def _ref(fields: Mapping[str, object]) -> str | None:
    value = _optional_str(fields, "ref")
    return None if value is None else _checked_ref(value, field="ref")


def _checked_ref(value: str, *, field: str) -> str:
    if not _REF.fullmatch(value):
        raise InvalidMessage(field, f"must be 1-{ID_MAX_CHARS} ASCII letters or digits")
    return value


def _ttl(value: object) -> int | None:
    if value is None or value == "":
        return None
    seconds = _whole_seconds(value)
    if seconds < 1:
        raise InvalidMessage("ttl", "must be at least 1 second")
    if seconds > TTL_MAX_S:
        raise InvalidMessage("ttl", f"must be at most {TTL_MAX_S} seconds (7 days)")
    return seconds


def _whole_seconds(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        # Longer than any valid ttl; capped before int() so a huge string cannot hit the int-parsing limit.
        return int(value) if len(value) < 20 else sys.maxsize
    raise InvalidMessage("ttl", "must be a whole number of seconds")


def _short_printable(fields: Mapping[str, object], name: str) -> str | None:
    value = _optional_str(fields, name)
    if value is None:
        return None
    if not value.isprintable():
        raise InvalidMessage(name, "must be printable characters")
    if len(value.encode("utf-8")) > OPTIONAL_MAX_BYTES:
        raise InvalidMessage(name, f"must be at most {OPTIONAL_MAX_BYTES} bytes in UTF-8")
    return value


def _origin_cid(fields: Mapping[str, object]) -> str | None:
    value = _optional_str(fields, "origin_cid")
    if value is not None and not _ORIGIN_CID.fullmatch(value):
        raise InvalidMessage(
            "origin_cid", "must be exactly 9 digits (the originating business's registration number)"
        )
    return value
