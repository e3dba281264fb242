"""The provider's own checks of a send request: the first broken rule decides the err_code.

Pure: a request's raw fields (percent-decoded bytes) go in, an :class:`Accepted` request or a :class:`Refusal`
comes out. These are the provider's rules as its page states them, applied on the provider's side: they answer
an R-code, they never raise. Checks run in this order, and the first that fails answers:

| field | rule | err_code |
|---|---|---|
| id, pwd | the account's | R002 |
| from | 1-16 digits | R004 |
| to_country, to | 1-3 digits; 1-13 digits | R003 |
| report_req | ``0`` or ``1`` | R007 |
| charset | absent, ``1`` (UTF-8) or ``2`` (euc-kr) | R007 |
| message | decodes; not empty; Korea: at most 2,000 bytes (cp949); abroad: at most 10 parts | R005 |
| title | decodes; at most 40 bytes (cp949 to Korea or in euc-kr, else UTF-8) | R007 |
| ttl | a whole number of seconds above 0 | R006 |
| ref | 1-20 letters and digits | R007 |
| payment_code, client_sub_id | at most 20 bytes | R007 |
| origin_cid | 9 digits | R007 |

An optional field sent empty counts as absent; unknown fields are ignored. A Korean message with a character
outside cp949 (an emoji, say) is accepted and fails later with report ``3022``, the page's "charset conversion
error" (the carriers convert to cp949): :attr:`Accepted.convertible` says which.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from supersms.protocol.measure import gsm_parts, korean_bytes

KOREA = "82"
MAX_FROM_BYTES = 16
MAX_TO_BYTES = 13
MAX_TITLE_BYTES = 40
MAX_SMS_BYTES = 90
MAX_TTL_DIGITS = 10  # far beyond any useful validity; keeps int() away from giant inputs
MAX_LMS_BYTES = 2000
MAX_PARTS = 10
MAX_SMALL_FIELD_BYTES = 20
CHARSETS = {"1": "utf-8", "2": "euc_kr"}

_DIGITS = re.compile(rb"[0-9]+")
_REF = re.compile(rb"[A-Za-z0-9]{1,20}")
_ORIGIN_CID = re.compile(rb"[0-9]{9}")

Fields = Mapping[str, bytes]


@dataclass(frozen=True)
class Account:
    """The one account the sandbox knows; the default is the one in the provider's own examples."""

    id: str = "infobank_test"
    password: str = field(default="pwinfobank", repr=False)


@dataclass(frozen=True)
class Accepted:
    """A send request that passed every rule, its text decoded."""

    sender: str
    to_country: str
    to: str
    message: str
    report_req: bool
    title: str | None = None
    ref: str | None = None
    ttl_s: int | None = None
    convertible: bool = True


@dataclass(frozen=True)
class Refusal:
    """The err_code the provider answers, and which rule was broken (for the sandbox's log)."""

    err_code: str
    reason: str


def check(fields: Fields, account: Account) -> Accepted | Refusal:
    """Apply the provider's rules to one send request's raw fields."""
    for rule in _RULES:
        refusal = rule(fields, account)
        if refusal is not None:
            return refusal
    message = _decoded(fields, "message") or ""
    ttl = _value(fields, "ttl")
    return Accepted(
        sender=_text(fields, "from"),
        to_country=_text(fields, "to_country"),
        to=_text(fields, "to"),
        message=message,
        report_req=_value(fields, "report_req") == b"1",
        title=_decoded(fields, "title") or None,
        ref=_text(fields, "ref") or None,
        ttl_s=int(ttl) if ttl else None,
        convertible=_text(fields, "to_country") != KOREA or fits_cp949(message),
    )


def msg_type(accepted: Accepted) -> int:
    """``2`` (LMS) for a Korean message over 90 bytes (cp949), else ``1`` (SMS)."""
    is_long = accepted.to_country == KOREA and cp949_size(accepted.message) > MAX_SMS_BYTES
    return 2 if is_long else 1


def billed_parts(accepted: Accepted) -> int:
    """How many messages the provider bills: one in Korea (SMS or LMS), the concatenated parts abroad."""
    if accepted.to_country == KOREA:
        return 1
    return gsm_parts(accepted.message)[1]


def fits_cp949(text: str) -> bool:
    """Whether Korean carriers can carry every character of ``text``."""
    try:
        text.encode("cp949")
    except UnicodeEncodeError:
        return False
    return True


def cp949_size(text: str) -> int:
    """Bytes of ``text`` as Korean carriers count them; a character outside cp949 counts as one ``?``."""
    return korean_bytes(text) if fits_cp949(text) else len(text.encode("cp949", errors="replace"))


def _value(fields: Fields, name: str) -> bytes:
    return fields.get(name, b"")


def _text(fields: Fields, name: str) -> str:
    return _value(fields, name).decode("utf-8", errors="replace")


def _account(fields: Fields, account: Account) -> Refusal | None:
    same_id = hmac.compare_digest(_value(fields, "id"), account.id.encode())
    same_password = hmac.compare_digest(_value(fields, "pwd"), account.password.encode())
    return None if same_id and same_password else Refusal("R002", "id/pwd: not the sandbox's account")


def _digits(name: str, max_bytes: int, err_code: str) -> Callable[[Fields, Account], Refusal | None]:
    def rule(fields: Fields, account: Account) -> Refusal | None:
        value = _value(fields, name)
        if _DIGITS.fullmatch(value) and len(value) <= max_bytes:
            return None
        return Refusal(err_code, f"{name}: must be 1-{max_bytes} digits")

    return rule


def _report_req(fields: Fields, account: Account) -> Refusal | None:
    if _value(fields, "report_req") in (b"0", b"1"):
        return None
    return Refusal("R007", "report_req: must be 0 or 1")


def _charset(fields: Fields, account: Account) -> Refusal | None:
    if (_value(fields, "charset") or b"1").decode("latin-1") in CHARSETS:
        return None
    return Refusal("R007", "charset: must be 1 (UTF-8) or 2 (euc-kr)")


def _decoded(fields: Fields, name: str) -> str | None:
    charset = CHARSETS.get((_value(fields, "charset") or b"1").decode("latin-1"), "utf-8")
    try:
        return _value(fields, name).decode(charset)
    except UnicodeDecodeError:
        return None


def _message(fields: Fields, account: Account) -> Refusal | None:
    text = _decoded(fields, "message")
    if text is None:
        return Refusal("R005", "message: does not decode in the charset")
    if not text:
        return Refusal("R005", "message: is empty")
    if _text(fields, "to_country") == KOREA and cp949_size(text) > MAX_LMS_BYTES:
        return Refusal("R005", f"message: more than {MAX_LMS_BYTES} bytes")
    if _text(fields, "to_country") != KOREA and gsm_parts(text)[1] > MAX_PARTS:
        return Refusal("R005", f"message: more than {MAX_PARTS} parts")
    return None


def _title(fields: Fields, account: Account) -> Refusal | None:
    text = _decoded(fields, "title")
    if text is None:
        return Refusal("R007", "title: does not decode in the charset")
    through_euc_kr = _text(fields, "to_country") == KOREA or _value(fields, "charset") == b"2"
    size = cp949_size(text) if through_euc_kr else len(text.encode("utf-8"))
    if size > MAX_TITLE_BYTES:
        return Refusal("R007", f"title: more than {MAX_TITLE_BYTES} bytes")
    return None


def _ttl(fields: Fields, account: Account) -> Refusal | None:
    value = _value(fields, "ttl")
    if not value or (_DIGITS.fullmatch(value) and len(value) <= MAX_TTL_DIGITS and int(value) > 0):
        return None
    return Refusal("R006", "ttl: must be a whole number of seconds above 0")


def _pattern(name: str, pattern: re.Pattern[bytes], rule: str) -> Callable[[Fields, Account], Refusal | None]:
    def check_pattern(fields: Fields, account: Account) -> Refusal | None:
        value = _value(fields, name)
        return None if not value or pattern.fullmatch(value) else Refusal("R007", f"{name}: {rule}")

    return check_pattern


def _small(name: str) -> Callable[[Fields, Account], Refusal | None]:
    def rule(fields: Fields, account: Account) -> Refusal | None:
        if len(_value(fields, name)) <= MAX_SMALL_FIELD_BYTES:
            return None
        return Refusal("R007", f"{name}: more than {MAX_SMALL_FIELD_BYTES} bytes")

    return rule


_RULES: tuple[Callable[[Fields, Account], Refusal | None], ...] = (
    _account,
    _digits("from", MAX_FROM_BYTES, "R004"),
    _digits("to_country", 3, "R003"),
    _digits("to", MAX_TO_BYTES, "R003"),
    _report_req,
    _charset,
    _message,
    _title,
    _ttl,
    _pattern("ref", _REF, "must be 1-20 letters and digits"),
    _small("payment_code"),
    _small("client_sub_id"),
    _pattern("origin_cid", _ORIGIN_CID, "must be 9 digits"),
)
