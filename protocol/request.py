"""The provider's send request, as form fields ready for URL encoding.

The body and title travel in the message's charset: with ``charset=2`` the provider reads
``%BE%C8%B3%E7`` as 안녕 in EUC-KR. Values are therefore bytes, which ``urllib.parse.urlencode`` and
``requests`` percent-encode as they are, instead of re-encoding text as UTF-8. The account (``id``, ``pwd``)
is added by the client.
"""

from __future__ import annotations

from supersms.protocol.message import Message

REPORT_REQ = "1"
"""Always ask for delivery reports: a message without one never learns its fate."""


def form_fields(message: Message) -> dict[str, bytes]:
    """The send parameters for ``message``, except the credentials.

    ``charset`` is always sent explicitly, so the provider never guesses; optional fields only when set.
    """
    fields = {
        "from": _ascii(message.sender),
        "to_country": _ascii(message.to_country),
        "to": _ascii(message.to),
        "message": message.text.encode(message.charset.codec),
        "report_req": _ascii(REPORT_REQ),
        "charset": _ascii(message.charset.provider_value),
    }
    if message.title is not None:
        fields["title"] = message.title.encode(message.charset.codec)
    optional = {
        "ref": message.ref,
        "ttl": None if message.ttl_s is None else str(message.ttl_s),
        "payment_code": message.payment_code,
        "client_sub_id": message.client_sub_id,
        "origin_cid": message.origin_cid,
    }
    fields.update({name: value.encode("utf-8") for name, value in optional.items() if value is not None})
    return fields


def _ascii(value: str) -> bytes:
    return value.encode("ascii")
