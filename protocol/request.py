"""The provider's send request, as form fields ready for URL encoding.

The body and title travel in the message's charset: with ``charset=2`` the provider reads
``%BE%C8%B3%E7`` as 안녕 in EUC-KR. Values are therefore bytes, which ``urllib.parse.urlencode`` and
``requests`` percent-encode as they are, instead of re-encoding text as UTF-8. The account (``id``, ``pwd``)
is added by the client.
"""

from __future__ import annotations

from supersms.protocol.measure import SMS_MAX_BYTES, korean_bytes
from supersms.protocol.message import Message
from supersms.protocol.numbers import KOREA, sender_for

REPORT_REQ = "1"
"""Always ask for delivery reports: a message without one never learns its fate."""


def form_fields(message: Message, *, ttl_s: int | None = None) -> dict[str, bytes]:
    """The send parameters for ``message``, except the credentials.

    ``charset`` is always sent explicitly, so the provider never guesses; optional fields only when set. The
    sender is written as the page asks for the destination (:func:`sender_for`); the title goes only with a
    Korean LMS, the one kind the page says it is used for. ``ttl_s``, when given, is sent instead of the
    message's own ttl: the validity it has left after waiting in the queue or for retries.
    """
    fields = {
        "from": _ascii(sender_for(message.sender, to_country=message.to_country)),
        "to_country": _ascii(message.to_country),
        "to": _ascii(message.to),
        "message": message.text.encode(message.charset.codec),
        "report_req": _ascii(REPORT_REQ),
        "charset": _ascii(message.charset.provider_value),
    }
    if message.title is not None and is_korean_lms(message):
        fields["title"] = message.title.encode(message.charset.codec)
    ttl = ttl_s if ttl_s is not None else message.ttl_s
    optional = {
        "ref": message.ref,
        "ttl": None if ttl is None else str(ttl),
        "payment_code": message.payment_code,
        "client_sub_id": message.client_sub_id,
        "origin_cid": message.origin_cid,
    }
    fields.update({name: value.encode("utf-8") for name, value in optional.items() if value is not None})
    return fields


def _ascii(value: str) -> bytes:
    return value.encode("ascii")


def is_korean_lms(message: Message) -> bool:
    """True for a message to Korea too long for one SMS (over 90 EUC-KR bytes): an LMS, which has a title."""
    return message.to_country == KOREA and korean_bytes(message.text) > SMS_MAX_BYTES
