"""Reading the provider's small XML documents safely and liberally.

Safe: the body is bounded before parsing, any DTD is refused (so no entity expansion, no external entity, no
network or file access), and lxml's parser is told never to load or resolve anything.
Liberal: a byte-order mark, an ``euc-kr`` declaration, surrounding whitespace, and the typographic attribute
quotes the provider's own page prints (``cnt=”1”``) are all accepted.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from lxml import etree

from supersms.errors import MalformedReply

MAX_REPLY_BYTES = 64 * 1024

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_DECLARATION = re.compile(r"\A\s*<\?xml\b[^>]*\?>", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(rb"\A\s*<\?xml\b[^>]*?encoding\s*=\s*\W{0,3}([A-Za-z][A-Za-z0-9._-]{0,39})")
_MARKUP_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
_QUOTES = "\"'“”‘’"
_SLOPPY_ATTRIBUTE = re.compile(
    rf"=\s*(?:[“”‘’][^{_QUOTES}<>]*[{_QUOTES}]|[\"'][^{_QUOTES}<>]*[“”‘’])",
)
# Korean servers that say euc-kr often mean its superset cp949 (Windows code page 949).
_CODEC_ALIASES = {"euc_kr": "cp949"}


def parse_document(body: bytes) -> Any:
    """Parse one untrusted XML document into its root element, or raise :class:`MalformedReply`."""
    if len(body) > MAX_REPLY_BYTES:
        raise MalformedReply(f"reply larger than {MAX_REPLY_BYTES} bytes")
    text = _decode(body)
    if not text.strip():
        raise MalformedReply("empty reply")
    if _MARKUP_DECLARATION.search(text):
        raise MalformedReply("a DTD is not allowed in a reply")
    try:
        return _parse(text)
    except MalformedReply:
        return _parse(_repair_quotes(text))


def child_text(parent: Any, tag: str) -> str | None:
    """The stripped text of the first child named ``tag``; ``None`` when absent or empty."""
    child = parent.find(tag)
    if child is None or child.text is None:
        return None
    text: str = child.text.strip()
    return text or None


def _decode(body: bytes) -> str:
    encoding = _encoding_of(body)
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise MalformedReply(f"reply is not valid {encoding}") from None
    return _DECLARATION.sub("", text.removeprefix("\ufeff"), count=1)


def _encoding_of(body: bytes) -> str:
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return encoding
    declared = _DECLARED_ENCODING.match(body)
    if declared is None:
        return "utf-8"
    try:
        name = codecs.lookup(declared.group(1).decode("ascii")).name
    except LookupError:
        raise MalformedReply("reply declares an unknown encoding") from None
    return _CODEC_ALIASES.get(name, name)


def _repair_quotes(text: str) -> str:
    """Rewrite attribute values delimited by typographic quotes with plain double quotes."""
    return _SLOPPY_ATTRIBUTE.sub(lambda match: '="' + match.group(0)[1:].strip()[1:-1] + '"', text)


def _parse(text: str) -> Any:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        return etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as error:
        raise MalformedReply(f"reply is not well-formed XML (line {error.lineno})") from None
