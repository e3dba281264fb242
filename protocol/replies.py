"""The provider's XML answer to a send request: reading it safely, and writing it (for the sandbox).

Reading is liberal in what the provider is known to do (typographic attribute quotes, a BOM, euc-kr,
several ``<message>`` elements, a failure holding only ``<err_code>``) and refuses anything dangerous or
unreadable with :class:`~supersms.errors.MalformedReply`: see :mod:`supersms.protocol.safexml`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from supersms.errors import MalformedReply
from supersms.protocol.safexml import MAX_REPLY_BYTES, child_text, parse_document

__all__ = ["MAX_REPLY_BYTES", "MessageResult", "SubmitReply", "parse_submit_reply", "render_submit_reply"]


@dataclass(frozen=True)
class MessageResult:
    """The provider's verdict on one message; ``msgid`` and ``msg_type`` (1 SMS, 2 MMS/LMS) on success."""

    err_code: str
    msgid: str | None = None
    msg_type: int | None = None


@dataclass(frozen=True)
class SubmitReply:
    """A whole send reply: at least one result, and the echoed destination and ``ref`` when present."""

    messages: tuple[MessageResult, ...]
    to_country: str | None = None
    to: str | None = None
    ref: str | None = None

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValueError("a submit reply holds at least one message result")

    @property
    def first(self) -> MessageResult:
        """The first (for a single recipient, the only) result."""
        return self.messages[0]


def parse_submit_reply(body: bytes) -> SubmitReply:
    """Read the provider's send reply, or raise :class:`MalformedReply` saying shortly why not."""
    root = parse_document(body)
    if root.tag != "submit_response":
        raise MalformedReply(f"expected submit_response, got {str(root.tag)[:40]}")
    return SubmitReply(
        messages=_results(root),
        to_country=child_text(root, "to_country"),
        to=child_text(root, "to"),
        ref=child_text(root, "ref"),
    )


def _results(root: Any) -> tuple[MessageResult, ...]:
    elements = root.findall("messages/message") or root.findall(".//message")
    if elements:
        return tuple(_result(element) for element in elements)
    # A refusal of the whole request may carry its code with no <message> around it.
    if child_text(root, "err_code") is not None:
        return (_result(root),)
    raise MalformedReply("reply holds no message result")


def _result(element: Any) -> MessageResult:
    err_code = child_text(element, "err_code")
    if err_code is None:
        raise MalformedReply("message result without err_code")
    # codes are read in the page's case (r000 is R000): a lower-case success must never read as a refusal
    return MessageResult(
        err_code=err_code.upper(), msgid=child_text(element, "msgid"), msg_type=_msg_type(element)
    )


def _msg_type(element: Any) -> int | None:
    """The message type, or None when absent or not a small integer: it only informs, and an unreadable one
    must not make a reply that says R000 an unknown outcome."""
    text = child_text(element, "msg_type")
    if text is None or not (text.isascii() and text.isdigit() and len(text) <= 3):
        return None
    return int(text)


def render_submit_reply(
    *,
    to_country: str,
    to: str,
    results: Sequence[MessageResult],
    ref: str | None,
    typographic_quotes: bool = False,
) -> bytes:
    """A send reply in the provider's layout; ``typographic_quotes`` writes ``cnt=”1”`` as the page does."""
    quote_open, quote_close = ("”", "”") if typographic_quotes else ('"', '"')
    lines = [
        "<?xml version='1.0' encoding='UTF-8' ?>",
        "<submit_response>",
        _element("to_country", to_country),
        _element("to", to),
        f"<messages cnt={quote_open}{len(results)}{quote_close}>",
        *(line for result in results for line in _message_lines(result)),
        "</messages>",
    ]
    if ref is not None:
        lines.append(_element("ref", ref))
    lines += ["</submit_response>", ""]
    return "\n".join(lines).encode("utf-8")


def _message_lines(result: MessageResult) -> list[str]:
    lines = ["<message>"]
    if result.msgid is not None:
        lines.append(_element("msgid", result.msgid))
    lines.append(_element("err_code", result.err_code))
    if result.msg_type is not None:
        lines.append(_element("msg_type", str(result.msg_type)))
    lines.append("</message>")
    return lines


def _element(tag: str, text: str) -> str:
    return f"<{tag}>{escape(text)}</{tag}>"
