"""What a text costs and whether it can be carried: bytes, SMS or LMS, GSM-7 or UCS-2 parts.

To Korea the carriers count bytes in EUC-KR (Hangul 2, ASCII 1): up to 90 bytes is an SMS, more becomes an LMS
(msg_type 2), up to 2,000 bytes. Python's ``euc_kr`` codec silently writes syllables outside KS X 1001 (such
as 똠) as 8-byte jamo sequences, so bytes are counted with ``cp949`` (its superset, 2 bytes for every
syllable) and strict EUC-KR is checked separately.

Elsewhere a long text travels as concatenated SMS: 160 GSM-7 characters in one part, 153 per part once split
(the rest carries the concatenation header), or 70 / 67 UTF-16 code units once any character is outside GSM-7.
A GSM-7 extension character (escape + character) or a UTF-16 surrogate pair is never split between parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from supersms.errors import InvalidMessage
from supersms.protocol.numbers import KOREA

SMS_MAX_BYTES = 90
LMS_MAX_BYTES = 2000
TITLE_MAX_BYTES = 40

GSM_SINGLE_UNITS = 160
GSM_PART_UNITS = 153
UCS2_SINGLE_UNITS = 70
UCS2_PART_UNITS = 67
MAX_PARTS = 10
"""Most concatenated parts we send. Many carriers reassemble no more than this; each part is billed."""

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet, one septet each (the escape code itself left out)."""
GSM_EXTENSION = "\f^{}\\[~]|€"
"""The GSM 03.38 extension table: an escape septet plus one, two septets each."""

_GSM_BASIC = frozenset(GSM_BASIC)
_GSM_EXTENSION = frozenset(GSM_EXTENSION)
_BMP_MAX = 0xFFFF


class Charset(StrEnum):
    """The charset a message travels in to the provider (its ``charset`` parameter)."""

    UTF8 = "utf-8"
    EUC_KR = "euc-kr"

    @property
    def provider_value(self) -> str:
        """The provider's code: ``"1"`` UTF-8, ``"2"`` euc-kr."""
        return "1" if self is Charset.UTF8 else "2"

    @property
    def codec(self) -> str:
        """The Python codec that writes text in this charset."""
        return "utf-8" if self is Charset.UTF8 else "euc_kr"


class MessageKind(StrEnum):
    """How a message to Korea is delivered: short (≤ 90 bytes) or long."""

    SMS = "sms"
    LMS = "lms"


class Encoding(StrEnum):
    """How an international message is coded on the air."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"


@dataclass(frozen=True)
class Measure:
    """The size of one message.

    ``kind`` is set for Korea only, ``encoding`` for other countries only. ``bytes`` is what the limits are
    counted in: EUC-KR (cp949) bytes for Korea; elsewhere the user-data bytes on the air (GSM-7 septets packed
    7 bits each, or 2 bytes per UTF-16 code unit). ``parts`` is the number of billed SMS (always 1 for Korea).
    """

    kind: MessageKind | None
    encoding: Encoding | None
    bytes: int
    parts: int


def korean_bytes(text: str) -> int:
    """Bytes of ``text`` as Korean carriers count them (cp949: Hangul 2, ASCII 1).

    Raises ``UnicodeEncodeError`` for a character outside cp949; check with :func:`require_carriable` first.
    """
    return len(text.encode("cp949"))


def require_carriable(text: str, charset: Charset, *, korea: bool, field: str) -> None:
    """Refuse ``text`` if a character of it cannot reach the handset.

    In euc-kr every character must be strict EUC-KR (KS X 1001). In UTF-8 to Korea it must still fit
    cp949, because the carriers convert to it and fail the message otherwise (report 3022). Elsewhere it must
    be UTF-8. The whole text is encoded once; the characters are looked at one by one only to name the first
    that fails.
    """
    if _carriable(text, charset, korea=korea):
        return
    bad = next((char for char in text if not _carriable(char, charset, korea=korea)), None)
    if bad is not None:
        raise InvalidMessage(field, f"character {bad!r} cannot be sent {_where(charset, korea=korea)}")


def _carriable(text: str, charset: Charset, *, korea: bool) -> bool:
    """Whether the charset carries every character of ``text``, checked for the whole text at once: these
    codecs encode character by character, so the text passes exactly when each of its characters would.

    For euc-kr, a character outside KS X 1001 takes more bytes in ``euc_kr`` (8-byte jamo) than in ``cp949``
    (2), so the encodings are equal exactly when every character is in KS X 1001 (the tests check them all).
    """
    try:
        if charset is Charset.EUC_KR:
            return text.encode("euc_kr") == text.encode("cp949")
        text.encode("cp949" if korea else "utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _where(charset: Charset, *, korea: bool) -> str:
    if charset is Charset.EUC_KR:
        return "in euc-kr"
    return "to Korea (not in cp949)" if korea else "in utf-8"


def gsm_parts(text: str) -> tuple[Encoding, int]:
    """The encoding an international ``text`` needs and the number of SMS parts it is billed as."""
    encoding, widths = _unit_widths(text)
    return encoding, _count_parts(encoding, widths)


def _unit_widths(text: str) -> tuple[Encoding, list[int]]:
    """Per character, the units it takes: septets in GSM-7, else UTF-16 code units."""
    if all(char in _GSM_BASIC or char in _GSM_EXTENSION for char in text):
        return Encoding.GSM7, [2 if char in _GSM_EXTENSION else 1 for char in text]
    return Encoding.UCS2, [2 if ord(char) > _BMP_MAX else 1 for char in text]


def _count_parts(encoding: Encoding, widths: list[int]) -> int:
    """Pack the characters into parts as a phone does: a two-unit character never straddles two parts."""
    gsm = encoding is Encoding.GSM7
    single, part = (GSM_SINGLE_UNITS, GSM_PART_UNITS) if gsm else (UCS2_SINGLE_UNITS, UCS2_PART_UNITS)
    if sum(widths) <= single:
        return 1
    parts, used = 1, 0
    for width in widths:
        if used + width > part:
            parts, used = parts + 1, 0
        used += width
    return parts


def measure(
    text: str, *, title: str | None, country: str, charset: Charset, field: str = "message"
) -> Measure:
    """Measure a message body (and its title) for ``country``, refusing what the provider could not send.

    Checks, in order: the body is carriable, the body fits (2,000 bytes to Korea, :data:`MAX_PARTS` parts
    elsewhere), the title is carriable and at most 40 bytes. A title is only used for a Korean LMS; the kind
    is decided by the body alone.
    """
    korea = country == KOREA
    require_carriable(text, charset, korea=korea, field=field)
    size = _measure_korean(text, field=field) if korea else _measure_international(text, field=field)
    if title is not None:
        _check_title(title, charset, korea=korea)
    return size


def _measure_korean(text: str, *, field: str) -> Measure:
    size = korean_bytes(text)
    if size > LMS_MAX_BYTES:
        raise InvalidMessage(
            field,
            f"{size} bytes is over the {LMS_MAX_BYTES}-byte LMS limit (EUC-KR: Hangul 2 bytes, ASCII 1)",
        )
    kind = MessageKind.SMS if size <= SMS_MAX_BYTES else MessageKind.LMS
    return Measure(kind=kind, encoding=None, bytes=size, parts=1)


def _measure_international(text: str, *, field: str) -> Measure:
    encoding, widths = _unit_widths(text)
    parts = _count_parts(encoding, widths)
    if parts > MAX_PARTS:
        raise InvalidMessage(field, f"needs {parts} SMS parts ({encoding}), over the limit of {MAX_PARTS}")
    units = sum(widths)
    size = (units * 7 + 7) // 8 if encoding is Encoding.GSM7 else units * 2
    return Measure(kind=None, encoding=encoding, bytes=size, parts=parts)


def _check_title(title: str, charset: Charset, *, korea: bool) -> None:
    require_carriable(title, charset, korea=korea, field="title")
    through_euc_kr = korea or charset is Charset.EUC_KR
    size = korean_bytes(title) if through_euc_kr else len(title.encode("utf-8"))
    if size > TITLE_MAX_BYTES:
        counted = "EUC-KR: Hangul 2 bytes, ASCII 1" if through_euc_kr else "UTF-8"
        raise InvalidMessage("title", f"{size} bytes is over the {TITLE_MAX_BYTES}-byte limit ({counted})")
