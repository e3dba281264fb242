"""Fault settings: validated field by field, merged at run time, the script consumed one send at a time."""

from __future__ import annotations

from typing import Any

import pytest

from supersms.sandbox.capacity import SlidingWindow
from supersms.sandbox.faultbox import FaultBox
from supersms.sandbox.faults import FaultError, Faults, parse_report_codes


def test_the_default_faults_are_a_healthy_provider() -> None:
    faults = Faults()
    assert faults.script == () and faults.force_code is None and faults.capacity_per_s is None
    assert faults.report_codes == {"1000": 1.0}
    assert not any(
        (
            faults.report_before_reply,
            faults.duplicate_reports,
            faults.intermediate_reports,
            faults.drop_after_read,
        )
    )


def test_merging_changes_only_the_named_fields() -> None:
    merged = Faults(latency_s=0.5).merged({"script": ["R001", "R009"], "typographic_quotes": True})
    assert merged == Faults(latency_s=0.5, script=("R001", "R009"), typographic_quotes=True)


def test_to_json_round_trips_through_merged() -> None:
    faults = Faults(
        code_for_to={"1000000000": "R003"}, report_codes={"1000": 0.9, "2003": 0.1}, script=("R001",)
    )
    assert Faults().merged(faults.to_json()) == faults


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"latency": 1}, "latency: no such fault"),
        ({"script": "R001"}, "script: must be a list of err_codes such as R001"),
        ({"script": ["busy"]}, "script: must be an err_code such as R001"),
        ({"force_code": "1000"}, "force_code: must be an err_code such as R001"),
        (
            {"capacity_per_s": -1},
            "capacity_per_s: must be a whole number of sends per second, or null for no limit",
        ),
        (
            {"capacity_per_s": 2.5},
            "capacity_per_s: must be a whole number of sends per second, or null for no limit",
        ),
        ({"latency_s": -0.1}, "latency_s: must be a number of seconds from 0 to 3600"),
        ({"report_delay_s": "1"}, "report_delay_s: must be a number of seconds from 0 to 3600"),
        ({"duplicate_reports": 1}, "duplicate_reports: must be true or false"),
        ({"code_for_to": {"+82": "R003"}}, "code_for_to: recipient numbers must be digits"),
        ({"report_codes": {}}, "report_codes: must map report err_codes to weights"),
        ({"report_codes": {"R000": 1}}, "report_codes: report err_codes are 4 digits such as 1000"),
        ({"report_codes": {"1000": 0}}, "report_codes: at least one weight must be above 0"),
    ],
)
def test_a_bad_change_is_refused_naming_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(FaultError) as raised:
        Faults().merged(changes)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("text", "mix"),
    [
        ("1000", {"1000": 1.0}),
        ("1000=0.9,2003=0.05,3001=0.05", {"1000": 0.9, "2003": 0.05, "3001": 0.05}),
        (" 1000 = 3 , 2003 ", {"1000": 3.0, "2003": 1.0}),
    ],
)
def test_a_report_code_mix_is_read_from_text(text: str, mix: dict[str, float]) -> None:
    assert parse_report_codes(text) == mix


@pytest.mark.parametrize("text", ["1000=x", "", "100=1"])
def test_a_malformed_report_code_mix_is_refused(text: str) -> None:
    with pytest.raises(FaultError):
        parse_report_codes(text)


def test_the_script_is_consumed_one_send_at_a_time() -> None:
    box = FaultBox(Faults(script=("R001", "R001")))
    assert [box.take_scripted() for _ in range(3)] == ["R001", "R001", None]
    assert box.current().script == ()


def test_reset_restores_the_starting_faults() -> None:
    box = FaultBox(Faults(latency_s=0.1))
    box.update({"force_code": "R002"})
    assert box.reset() == Faults(latency_s=0.1)


def test_the_window_admits_the_capacity_in_any_second_and_no_more() -> None:
    window = SlidingWindow()
    admitted = [window.admit(now_s=10.0 + i * 0.1, limit=3) for i in range(5)]
    assert admitted == [True, True, True, False, False]
    assert window.admit(now_s=11.0, limit=3)  # the send at 10.0 left the window
    assert not window.admit(now_s=11.05, limit=3)


def test_a_window_without_limit_admits_everything() -> None:
    window = SlidingWindow()
    assert all(window.admit(now_s=1.0, limit=None) for _ in range(1000))
