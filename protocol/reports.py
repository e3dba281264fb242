"""Delivery reports: the provider's GET to our receiver, and the XML answer it expects back.

A report arrives as a query string (``?msgid=…&to=…&to_country=…&err_code=…&network=…&rescnt=…``); it comes
from the internet, so every field is checked strictly and the first broken rule is raised as
:class:`~supersms.errors.InvalidReport`. Times are Korean standard time (UTC+9), ``YYYYMMDDHHMMSS``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from supersms.errors import InvalidReport, MalformedReply
from supersms.protocol.safexml import child_text, parse_document

KST = timezone(timedelta(hours=9), "KST")
SENT_DATE_FORMAT = "%Y%m%d%H%M%S"

MANDATORY = ("msgid", "to", "to_country", "err_code", "network", "rescnt")
MAX_VALUE_CHARS = 64

FIELD_RULES: Mapping[str, tuple[re.Pattern[str], str]] = {
    # The page says only "Char" (its examples are digits): taken liberally, but never ":" (the dedup key's
    # separator), "%" or a space, and within MAX_VALUE_CHARS.
    "msgid": (re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII), "must be 1-64 letters, digits, '.', '_' or '-'"),
    "to": (re.compile(r"[0-9]{1,13}"), "must be 1-13 digits"),
    "to_country": (re.compile(r"[0-9]{1,3}"), "must be 1-3 digits"),
    "err_code": (re.compile(r"[0-9]{4}"), "must be 4 digits"),
    "network": (re.compile(r"[0-9]{5,6}"), "must be 5-6 digits (MCCMNC)"),
    "rescnt": (re.compile(r"[0-9]{1,4}"), "must be an integer 0-9999"),
    "sent_date": (re.compile(r"[0-9]{14}"), "must be 14 digits YYYYMMDDHHMMSS"),
    "ref": (re.compile(r"[A-Za-z0-9]{1,20}"), "must be 1-20 letters or digits"),
    "rslt_type": (re.compile(r"[03]"), "must be 0 or 3"),
}


class ReportType(StrEnum):
    """The ``rslt_type`` of a report: the final result, or intermediate delivery information."""

    FINAL = "0"
    INTERMEDIATE = "3"


@dataclass(frozen=True)
class Report:
    """One validated delivery report. ``sent_date`` is timezone-aware (KST), ``None`` when not delivered."""

    msgid: str
    to: str
    to_country: str
    err_code: str
    network: str
    rescnt: int
    sent_date: datetime | None
    ref: str | None = None
    rslt_type: ReportType = ReportType.FINAL

    def to_query(self) -> str:
        """The report as the provider sends it: a urlencoded query in the order of the provider's example."""
        fields = [("msgid", self.msgid), ("to", self.to), ("to_country", self.to_country)]
        if self.ref is not None:
            fields.append(("ref", self.ref))
        fields += [("network", self.network), ("rescnt", str(self.rescnt)), ("err_code", self.err_code)]
        if self.sent_date is not None:
            fields.append(("sent_date", self.sent_date.astimezone(KST).strftime(SENT_DATE_FORMAT)))
        if self.rslt_type is not ReportType.FINAL:
            fields.append(("rslt_type", self.rslt_type.value))
        return urlencode(fields)

    def dedup_key(self) -> str:
        """Identifies the report itself, not its delivery: a retried delivery of it has the same key.

        Built from fields that are letters and digits only (no phone number), joined by ``:``.
        """
        sent = self.sent_date.astimezone(KST).strftime(SENT_DATE_FORMAT) if self.sent_date else "-"
        parts = (self.msgid, self.rslt_type.value, self.err_code, sent, self.network, str(self.rescnt))
        return ":".join(parts)


def parse_report(params: Mapping[str, Sequence[str]]) -> Report:
    """Validate a report's query (as from ``parse_qs(query, keep_blank_values=True)``) into a :class:`Report`.

    Unknown fields are ignored; a blank optional field counts as absent.
    """
    for field in MANDATORY:
        if not _single(params, field):
            raise InvalidReport(field, "is required")
    return Report(
        msgid=_checked(params, "msgid"),
        to=_checked(params, "to"),
        to_country=_checked(params, "to_country"),
        err_code=_checked(params, "err_code"),
        network=_checked(params, "network"),
        rescnt=int(_checked(params, "rescnt")),
        sent_date=_sent_date(_single(params, "sent_date")),
        ref=_optional(params, "ref"),
        rslt_type=ReportType(_optional(params, "rslt_type") or ReportType.FINAL),
    )


def _single(params: Mapping[str, Sequence[str]], field: str) -> str:
    """The field's one value ("" when absent); a field repeated with different values is refused."""
    values = params.get(field, ())
    if isinstance(values, str):
        values = (values,)
    if len(set(values)) > 1:
        raise InvalidReport(field, "is repeated with different values")
    value = values[0] if values else ""
    if len(value) > MAX_VALUE_CHARS:
        raise InvalidReport(field, f"is longer than {MAX_VALUE_CHARS} characters")
    return value


def _checked(params: Mapping[str, Sequence[str]], field: str) -> str:
    value = _single(params, field)
    pattern, rule = FIELD_RULES[field]
    if not pattern.fullmatch(value):
        raise InvalidReport(field, rule)
    return value


def _optional(params: Mapping[str, Sequence[str]], field: str) -> str | None:
    return _checked(params, field) if _single(params, field) else None


def _sent_date(value: str) -> datetime | None:
    """The arrival time, or None when absent or unreadable: it is optional, and refusing the report for it
    would lose the outcome it carries (a refused report is retried three times, then dropped)."""
    pattern, _ = FIELD_RULES["sent_date"]
    if not pattern.fullmatch(value):
        return None
    try:
        return datetime.strptime(value, SENT_DATE_FORMAT).replace(tzinfo=KST)
    except ValueError:
        return None


def render_report_response(*, msgid: str, to_country: str, to: str) -> bytes:
    """Our answer to one report, byte for byte in the provider's layout (values XML-escaped)."""
    lines = (
        "<?xml version='1.0' encoding='UTF-8' ?>",
        "<report_response>",
        f"<msgid>{escape(msgid)}</msgid>",
        f"<to_country>{escape(to_country)}</to_country>",
        f"<to>{escape(to)}</to>",
        "</report_response>",
        "",
    )
    return "\n".join(lines).encode("utf-8")


def parse_report_response(body: bytes) -> tuple[str, str, str]:
    """Read a receiver's answer to a report as ``(msgid, to_country, to)``; :class:`MalformedReply` if not."""
    root = parse_document(body)
    if root.tag != "report_response":
        raise MalformedReply(f"expected report_response, got {str(root.tag)[:40]}")
    values = tuple(child_text(root, field) for field in ("msgid", "to_country", "to"))
    msgid, to_country, to = values
    if msgid is None or to_country is None or to is None:
        raise MalformedReply("report_response lacks msgid, to_country or to")
    return msgid, to_country, to
