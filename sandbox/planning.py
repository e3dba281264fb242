"""Which reports the provider sends for an accepted message, and when: pure, from the faults in force."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from supersms.protocol.codes import DELIVERED
from supersms.protocol.reports import Report, ReportType
from supersms.sandbox.faults import Faults
from supersms.sandbox.networks import network_for
from supersms.sandbox.rules import Accepted, billed_parts

MIN_REPORT_GAP_S = 0.02  # keeps an intermediate report ahead of its final one even with no delay configured
FALLBACK_INTERMEDIATE_CODE = "2000"


@dataclass(frozen=True)
class PlannedReport:
    """One report to deliver ``delay_s`` after the message was accepted."""

    delay_s: float
    report: Report


def choose_code(mix: Mapping[str, float], rng: random.Random) -> str:
    """Draw a final report err_code from the weighted ``mix``."""
    codes = list(mix)
    return rng.choices(codes, weights=[mix[code] for code in codes])[0]


def final_report(accepted: Accepted, *, msgid: str, err_code: str, sent_at: datetime) -> Report:
    """The final report: ``sent_date`` and billed parts only when delivered (``rescnt=0`` otherwise, as the
    provider's own failure example shows)."""
    delivered = err_code == DELIVERED
    return Report(
        msgid=msgid,
        to=accepted.to,
        to_country=accepted.to_country,
        err_code=err_code,
        network=network_for(accepted.to_country, accepted.to),
        rescnt=billed_parts(accepted) if delivered else 0,
        sent_date=sent_at if delivered else None,
        ref=accepted.ref,
    )


def intermediate_of(final: Report) -> Report:
    """The DLR information (``rslt_type=3``) that precedes ``final``: the same code if it is ``1000`` or a
    temporary ``2xxx`` failure, else ``2000``."""
    progress = final.err_code if final.err_code[0] in "12" else FALLBACK_INTERMEDIATE_CODE
    if progress == DELIVERED:
        return replace(final, rslt_type=ReportType.INTERMEDIATE)
    return replace(final, err_code=progress, rescnt=0, sent_date=None, rslt_type=ReportType.INTERMEDIATE)


def plan_reports(final: Report, faults: Faults) -> list[PlannedReport]:
    """Every delivery of ``final`` and its companions, in the order they are due."""
    delay_s = faults.report_delay_s
    reports = []
    if faults.intermediate_reports:
        reports.append(PlannedReport(delay_s, intermediate_of(final)))
        delay_s += max(faults.report_delay_s, MIN_REPORT_GAP_S)
    reports.append(PlannedReport(delay_s, final))
    copies = 2 if faults.duplicate_reports else 1
    return [planned for planned in reports for _ in range(copies)]
