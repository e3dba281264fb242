"""Which reports follow an accepted message: the final one, and the companions the faults ask for."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from supersms.protocol.reports import KST, ReportType
from supersms.sandbox.faults import Faults
from supersms.sandbox.networks import KOREAN_NETWORKS, network_for
from supersms.sandbox.planning import choose_code, final_report, intermediate_of, plan_reports
from supersms.sandbox.rules import Accepted

SENT_AT = datetime(2015, 3, 22, 14, 6, 41, tzinfo=KST)
KOREAN = Accepted(
    sender="01029652189", to_country="82", to="1093446280", message="hi", report_req=True, ref="AA1"
)
ABROAD = Accepted(sender="821029652189", to_country="1", to="2025550123", message="a" * 350, report_req=True)


def test_a_delivered_report_reads_like_the_providers_example() -> None:
    report = final_report(KOREAN, msgid="00000123", err_code="1000", sent_at=SENT_AT)
    assert report.to_query() == (
        "msgid=00000123&to=1093446280&to_country=82&ref=AA1&network="
        + report.network
        + "&rescnt=1&err_code=1000&sent_date=20150322140641"
    )
    assert report.network in KOREAN_NETWORKS


def test_an_undelivered_report_has_no_sent_date_and_bills_nothing() -> None:
    report = final_report(KOREAN, msgid="00000123", err_code="3001", sent_at=SENT_AT)
    assert (report.sent_date, report.rescnt) == (None, 0)


def test_a_delivered_report_abroad_bills_the_concatenated_parts() -> None:
    assert final_report(ABROAD, msgid="1", err_code="1000", sent_at=SENT_AT).rescnt == 3


def test_the_network_is_stable_for_a_number() -> None:
    assert network_for("82", "1093446280") == network_for("82", "1093446280")
    assert {network_for("82", f"10{n:08d}") for n in range(30)} == set(KOREAN_NETWORKS)
    assert network_for("81", "9012345678") in ("44010", "44020")


def test_a_mix_draws_only_codes_with_weight() -> None:
    rng = random.Random(1)
    assert {choose_code({"1000": 0.0, "2003": 1.0}, rng) for _ in range(50)} == {"2003"}
    assert {choose_code({"1000": 1.0, "2003": 1.0}, rng) for _ in range(50)} == {"1000", "2003"}


@pytest.mark.parametrize(
    ("final_code", "intermediate_code"),
    [("1000", "1000"), ("2003", "2003"), ("3001", "2000")],
)
def test_an_intermediate_report_carries_progress_not_the_final_refusal(
    final_code: str, intermediate_code: str
) -> None:
    final = final_report(KOREAN, msgid="1", err_code=final_code, sent_at=SENT_AT)
    intermediate = intermediate_of(final)
    assert (intermediate.err_code, intermediate.rslt_type) == (intermediate_code, ReportType.INTERMEDIATE)
    assert "rslt_type=3" in intermediate.to_query()


def test_a_healthy_provider_plans_one_final_report_after_the_delay() -> None:
    final = final_report(KOREAN, msgid="1", err_code="1000", sent_at=SENT_AT)
    planned = plan_reports(final, Faults(report_delay_s=0.5))
    assert [(p.delay_s, p.report) for p in planned] == [(0.5, final)]


def test_intermediate_and_duplicate_reports_are_planned_in_order() -> None:
    final = final_report(KOREAN, msgid="1", err_code="1000", sent_at=SENT_AT)
    planned = plan_reports(
        final, Faults(report_delay_s=0.5, intermediate_reports=True, duplicate_reports=True)
    )
    assert [(p.delay_s, p.report.rslt_type) for p in planned] == [
        (0.5, ReportType.INTERMEDIATE),
        (0.5, ReportType.INTERMEDIATE),
        (1.0, ReportType.FINAL),
        (1.0, ReportType.FINAL),
    ]


def test_the_final_report_follows_its_intermediate_even_without_delay() -> None:
    final = final_report(KOREAN, msgid="1", err_code="1000", sent_at=SENT_AT)
    first, second = plan_reports(final, Faults(report_delay_s=0.0, intermediate_reports=True))
    assert first.delay_s < second.delay_s
