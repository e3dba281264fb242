"""The table the demo ends with: outcomes per status, per send and report code, and latencies (pure).

Latencies run from ``created_at`` (the producer recorded and enqueued the message) to ``submitted_at`` (the
provider answered R000) and to ``reported_at`` of a delivered message (its final report was applied).
Percentiles are nearest-rank: p90 is the smallest latency that at least 90 % of the messages did not exceed.
"""

from __future__ import annotations

import collections
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from supersms.protocol.codes import REPORT_CODES, submit_meaning
from supersms.workers.records import FINAL_STATUSES, Status

PERCENTILES = (50, 90, 99)
MISSING = "missing"
"""The status shown for a message whose record is gone."""
NO_CODE = "-"
STATUS_ORDER = (
    *(status for status in Status if status in FINAL_STATUSES),
    *(status for status in Status if status not in FINAL_STATUSES),
)
"""Final statuses first (always shown), then the others (shown when some message has them)."""


@dataclass(frozen=True)
class Outcomes:
    """What became of a batch, counted from its records."""

    by_status: Mapping[str, int]
    by_err_code: Mapping[str, int]
    by_report_code: Mapping[str, int]
    retried: int
    to_submitted_s: tuple[float, ...]
    to_delivered_s: tuple[float, ...]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def unfinished(self) -> int:
        """Messages not in a final status (still moving when the demo stopped waiting)."""
        return sum(count for status, count in self.by_status.items() if status not in FINAL_STATUSES)


def count_outcomes(records: Iterable[Mapping[str, str]]) -> Outcomes:
    """Count raw record hashes (as Redis holds them; an empty one is a missing record)."""
    statuses: collections.Counter[str] = collections.Counter()
    err_codes: collections.Counter[str] = collections.Counter()
    report_codes: collections.Counter[str] = collections.Counter()
    to_submitted: list[float] = []
    to_delivered: list[float] = []
    retried = 0
    for record in records:
        statuses[record.get("status", MISSING)] += 1
        err_codes[record.get("err_code") or NO_CODE] += 1
        report = _report_code(record)
        if report:
            report_codes[report] += 1
        retried += int(record.get("attempts") or 0) > 1
        _append_latency(to_submitted, record, "submitted_at")
        if record.get("status") == Status.DELIVERED:
            _append_latency(to_delivered, record, "reported_at")
    return Outcomes(
        by_status=_ordered_statuses(statuses),
        by_err_code=dict(sorted(err_codes.items())),
        by_report_code=dict(sorted(report_codes.items())),
        retried=retried,
        to_submitted_s=tuple(sorted(to_submitted)),
        to_delivered_s=tuple(sorted(to_delivered)),
    )


def percentile(sorted_values: Sequence[float], percent: float) -> float | None:
    """The nearest-rank ``percent`` percentile (0 < percent <= 100) of ascending values; None if empty."""
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be above 0 and at most 100, got {percent}")
    if not sorted_values:
        return None
    rank = math.ceil(percent / 100 * len(sorted_values))
    return sorted_values[rank - 1]


def format_table(outcomes: Outcomes) -> str:
    """The outcome table as text: statuses with a total, send codes, report codes, latency percentiles."""
    lines = ["status            count"]
    lines += [f"  {status:<14}{count:>7}" for status, count in outcomes.by_status.items()]
    lines += [f"  {'total':<14}{outcomes.total:>7}", "", "send reply        count"]
    lines += [f"  {code:<14}{n:>7}  {_submit_label(code)}" for code, n in outcomes.by_err_code.items()]
    lines += ["", "delivery report   count"]
    lines += [
        f"  {code:<14}{n:>7}  {REPORT_CODES.get(code, '')}" for code, n in outcomes.by_report_code.items()
    ]
    if not outcomes.by_report_code:
        lines.append("  (none)")
    lines += ["", _latency_header()]
    lines.append(_latency_line("enqueue → submitted", outcomes.to_submitted_s))
    lines.append(_latency_line("enqueue → delivered", outcomes.to_delivered_s))
    lines += ["", f"{outcomes.retried} message(s) needed more than one attempt (R001/R009 answered first)"]
    return "\n".join(lines)


def _ordered_statuses(counts: Mapping[str, int]) -> dict[str, int]:
    """Every final status (also at 0), then the others that occur, in :class:`Status` order."""
    shown = {s.value: counts.get(s.value, 0) for s in STATUS_ORDER if counts.get(s.value) or s.is_final}
    extra = {status: count for status, count in counts.items() if status not in set(Status)}
    return {**shown, **extra}


def _report_code(record: Mapping[str, str]) -> str | None:
    raw = record.get("report")
    if not raw:
        return None
    code = json.loads(raw).get("err_code")
    return str(code) if code is not None else None


def _append_latency(into: list[float], record: Mapping[str, str], field: str) -> None:
    start, end = record.get("created_at"), record.get(field)
    if start and end:
        into.append((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


def _submit_label(code: str) -> str:
    return "" if code == NO_CODE else submit_meaning(code)


def _latency_header() -> str:
    columns = "".join(f"{f'p{p}':>9}" for p in PERCENTILES)
    return f"latency (seconds)      {columns}{'max':>9}{'n':>7}"


def _latency_line(label: str, sorted_values: Sequence[float]) -> str:
    cells = [percentile(sorted_values, p) for p in PERCENTILES]
    cells.append(sorted_values[-1] if sorted_values else None)
    text = "".join(f"{value:>9.3f}" if value is not None else f"{'-':>9}" for value in cells)
    return f"  {label:<21}{text}{len(sorted_values):>7}"
