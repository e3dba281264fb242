"""Validating a report query at the receiver, cheaply, with exactly the protocol's verdict.

The receiver needs a yes or no, the three fields its answer echoes and the report's dedup key; the correlation
side parses the query in full again. So the plain query a provider sends (no percent-escape, no ``+``, each
field once) is checked here against the protocol's own patterns without ``parse_qs``, ``strptime`` or a
:class:`~supersms.protocol.reports.Report`. Whatever this quick check does not accept outright goes through
:func:`~supersms.protocol.reports.parse_report` itself, so a refusal (and its message) is always the protocol's,
and the quick check only ever accepts what the protocol accepts, with the same dedup key.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from urllib.parse import parse_qs

from supersms.protocol.reports import (
    FIELD_RULES as RULES,
)  # the protocol's patterns: one definition of a field
from supersms.protocol.reports import MANDATORY, MAX_VALUE_CHARS, Report, ReportType, parse_report

_FULLMATCH = {name: pattern.fullmatch for name, (pattern, _) in RULES.items()}
NOT_DELIVERED = "-"  # the dedup key's sent_date part when there is none
ESCAPES = ("%", "+")  # a query holding either is decoded by parse_qs, not here


class Accepted(NamedTuple):
    """A valid report as the receiver needs it: what its answer echoes, and the key of its duplicates."""

    msgid: str
    to_country: str
    to: str
    dedup_key: str


def accept(query: str) -> Accepted:
    """The report of a raw query; raises :class:`~supersms.errors.InvalidReport` exactly as the protocol does."""
    fields = plain_fields(query)
    accepted = quick_accept(fields) if fields is not None else None
    return accepted or accepted_report(parse_report(parse_qs(query, keep_blank_values=True)))


def accepted_report(report: Report) -> Accepted:
    """What the receiver keeps of a fully parsed report."""
    return Accepted(report.msgid, report.to_country, report.to, report.dedup_key())


def plain_fields(query: str) -> dict[str, str] | None:
    """The fields of a query that needs no decoding, as ``parse_qs(query, keep_blank_values=True)`` reads them
    (``&``-separated, a field without ``=`` is blank); None when it needs decoding or a field repeats with
    another value."""
    if any(escape in query for escape in ESCAPES):
        return None
    fields: dict[str, str] = {}
    for pair in query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            if fields.setdefault(name, value) != value:
                return None
    return fields


def quick_accept(fields: dict[str, str]) -> Accepted | None:
    """The report when every field plainly passes the protocol's rules; None when in any doubt."""
    for name in MANDATORY:
        if not _passes(name, fields.get(name)):
            return None
    sent_date, ref, rslt_type = fields.get("sent_date"), fields.get("ref"), fields.get("rslt_type")
    if sent_date and not (_passes("sent_date", sent_date) and _is_plain_date(sent_date)):
        return None
    if (ref and not _passes("ref", ref)) or (rslt_type and not _passes("rslt_type", rslt_type)):
        return None
    msgid = fields["msgid"]
    parts = (
        msgid,
        rslt_type or ReportType.FINAL.value,
        fields["err_code"],
        sent_date or NOT_DELIVERED,
        fields["network"],
        str(int(fields["rescnt"])),
    )
    return Accepted(msgid, fields["to_country"], fields["to"], ":".join(parts))


def _passes(name: str, value: str | None) -> bool:
    """True for a present value that the protocol's rule for ``name`` accepts."""
    if not value or len(value) > MAX_VALUE_CHARS:
        return False
    return _FULLMATCH[name](value) is not None


def _is_plain_date(digits: str) -> bool:
    """True for ``YYYYMMDDHHMMSS`` that is a real moment with a year of four digits (so it reads back as the
    same 14 digits). Anything else, even what ``strptime`` might read another way, is left to the protocol."""
    if digits[0] == "0":
        return False
    try:
        datetime(
            int(digits[0:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
            int(digits[12:14]),
        )
    except ValueError:
        return False
    return True
