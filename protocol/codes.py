"""The provider's result codes: what each send reply code and each report code means, and what to do about it.

Send replies carry ``R000``…``R013``, ``R999``; reports carry four digits (``1000`` delivered, ``2xxx`` failed
on the way, ``3xxx`` refused or invalid). Tables follow the provider's page (reference/PROVIDER_API.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class ReplyClass(StrEnum):
    """What a send reply code asks of the client."""

    SUCCESS = "success"
    """Accepted: keep the msgid and wait for the report."""
    RETRY = "retry"
    """Not taken this time (busy, over capacity): try again later with backoff."""
    PERMANENT = "permanent"
    """Refused for good: this message will never be accepted as it is."""
    SYSTEMIC = "systemic"
    """Refused for a reason that would refuse every message (account, permission, quota): pause sending."""


@dataclass(frozen=True)
class SubmitCode:
    """One send reply code with its class and English meaning."""

    code: str
    reply_class: ReplyClass
    meaning: str


def _table(*rows: tuple[str, ReplyClass, str]) -> Mapping[str, SubmitCode]:
    return MappingProxyType(
        {code: SubmitCode(code, reply_class, meaning) for code, reply_class, meaning in rows}
    )


SUBMIT_CODES: Mapping[str, SubmitCode] = _table(
    ("R000", ReplyClass.SUCCESS, "accepted"),
    ("R001", ReplyClass.RETRY, "server busy"),
    ("R002", ReplyClass.SYSTEMIC, "authentication failed"),
    ("R003", ReplyClass.PERMANENT, "bad recipient number"),
    ("R004", ReplyClass.PERMANENT, "bad sender number"),
    ("R005", ReplyClass.PERMANENT, "bad message format"),
    ("R006", ReplyClass.PERMANENT, "invalid TTL"),
    ("R007", ReplyClass.PERMANENT, "invalid parameter"),
    ("R008", ReplyClass.PERMANENT, "spam filtered"),
    ("R009", ReplyClass.RETRY, "server capacity exceeded, retry"),
    ("R010", ReplyClass.PERMANENT, "sender number not registered"),
    ("R011", ReplyClass.PERMANENT, "sender number breaks anti-spoofing rules"),
    ("R012", ReplyClass.SYSTEMIC, "no permission for this service type"),
    ("R013", ReplyClass.SYSTEMIC, "send quota exceeded"),
    ("R999", ReplyClass.PERMANENT, "unknown error"),
)
ACCEPTED = "R000"


def classify_submit(err_code: str) -> ReplyClass:
    """The class of a send reply code; a code the provider never documented is permanent."""
    known = SUBMIT_CODES.get(err_code)
    return known.reply_class if known else ReplyClass.PERMANENT


def submit_meaning(err_code: str) -> str:
    """The English meaning of a send reply code, or ``"undocumented code"``."""
    known = SUBMIT_CODES.get(err_code)
    return known.meaning if known else "undocumented code"


class ReportClass(StrEnum):
    """What a report code says became of the message."""

    DELIVERED = "delivered"
    """``1000``: on the handset."""
    FAILED = "failed"
    """``2xxx``: lost on the way (timeout, handset off, no coverage…)."""
    INVALID = "invalid"
    """``3xxx``: could not or would not be sent (no subscriber, refused, spam…)."""
    UNKNOWN = "unknown"
    """Any other code."""


DELIVERED = "1000"

REPORT_CODES: Mapping[str, str] = MappingProxyType(
    {
        "1000": "delivered to the handset",
        "2000": "delivery timed out",
        "2001": "failed in the radio network",
        "2002": "failed between the radio network and the handset",
        "2003": "handset switched off",
        "2004": "handset message buffer full",
        "2005": "no coverage",
        "2006": "message deleted",
        "2007": "temporary handset problem",
        "3000": "cannot be sent",
        "3001": "no such subscriber",
        "3002": "adult verification failed",
        "3003": "bad recipient number",
        "3004": "handset service suspended",
        "3005": "handset busy",
        "3006": "refused by the recipient",
        "3008": "other handset problem",
        "3009": "bad message format",
        "3010": "handset without MMS",
        "3011": "server error",
        "3012": "spam",
        "3013": "service refused",
        "3014": "other",
        "3015": "no route",
        "3016": "attachment too large, or sender number rule violated",
        "3018": "sender number protected by the carrier's anti-spoofing service",
        "3019": "sender number blocked by the authorities",
        "3022": "charset conversion error",
        "3025": "duplicate within 24 hours",
        "3029": "advertising sent in the restricted hours",
        "3035": "carrier outage",
        "3036": "bad originating-business code (origin_cid)",
    }
)


def report_meaning(code: str) -> str:
    """The English meaning of a report code, or ``"undocumented code"``."""
    return REPORT_CODES.get(code, "undocumented code")


def classify_report(code: str) -> ReportClass:
    """The class of a report code, by its leading digit for codes the page does not list."""
    if code == DELIVERED:
        return ReportClass.DELIVERED
    if len(code) == 4 and code.isascii() and code.isdigit():
        return _BY_LEADING_DIGIT.get(code[0], ReportClass.UNKNOWN)
    return ReportClass.UNKNOWN


_BY_LEADING_DIGIT = {"2": ReportClass.FAILED, "3": ReportClass.INVALID}
