"""Result codes: every documented send and report code is classified as the provider's tables say."""

from __future__ import annotations

import pytest

from supersms.protocol.codes import (
    ACCEPTED,
    DELIVERED,
    REPORT_CODES,
    SUBMIT_CODES,
    ReplyClass,
    ReportClass,
    classify_report,
    classify_submit,
    report_meaning,
    submit_meaning,
)

SUBMIT_TABLE = [
    ("R000", ReplyClass.SUCCESS),
    ("R001", ReplyClass.RETRY),
    ("R002", ReplyClass.SYSTEMIC),
    ("R003", ReplyClass.PERMANENT),
    ("R004", ReplyClass.PERMANENT),
    ("R005", ReplyClass.PERMANENT),
    ("R006", ReplyClass.PERMANENT),
    ("R007", ReplyClass.PERMANENT),
    ("R008", ReplyClass.PERMANENT),
    ("R009", ReplyClass.RETRY),
    ("R010", ReplyClass.PERMANENT),
    ("R011", ReplyClass.PERMANENT),
    ("R012", ReplyClass.SYSTEMIC),
    ("R013", ReplyClass.SYSTEMIC),
    ("R999", ReplyClass.PERMANENT),
]
PAGE_REPORT_CODES = [
    "1000",
    *(str(code) for code in range(2000, 2008)),
    *(
        f"30{n:02d}"
        for n in (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 22, 25, 29, 35, 36)
    ),
]


@pytest.mark.parametrize(("code", "reply_class"), SUBMIT_TABLE)
def test_each_documented_send_code_has_the_pages_class(code: str, reply_class: ReplyClass) -> None:
    assert classify_submit(code) is reply_class
    assert SUBMIT_CODES[code].reply_class is reply_class
    assert SUBMIT_CODES[code].code == code


def test_the_send_table_holds_exactly_the_documented_codes() -> None:
    assert set(SUBMIT_CODES) == {code for code, _ in SUBMIT_TABLE}


@pytest.mark.parametrize("code", ["R014", "R100", "r000", "", "1000", "R000 "])
def test_an_undocumented_send_code_is_permanent(code: str) -> None:
    assert classify_submit(code) is ReplyClass.PERMANENT
    assert submit_meaning(code) == "undocumented code"


def test_send_codes_have_english_meanings() -> None:
    assert submit_meaning(ACCEPTED) == "accepted"
    assert submit_meaning("R001") == "server busy"
    assert all(entry.meaning.isascii() and entry.meaning for entry in SUBMIT_CODES.values())


def test_the_code_tables_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        SUBMIT_CODES["R000"] = SUBMIT_CODES["R001"]  # type: ignore[index]
    with pytest.raises(TypeError):
        REPORT_CODES["1000"] = "lost"  # type: ignore[index]


def test_the_report_table_holds_exactly_the_pages_codes() -> None:
    assert sorted(REPORT_CODES) == PAGE_REPORT_CODES
    assert all(meaning.isascii() and meaning for meaning in REPORT_CODES.values())


@pytest.mark.parametrize(
    ("code", "report_class"),
    [
        (DELIVERED, ReportClass.DELIVERED),
        ("2000", ReportClass.FAILED),
        ("2007", ReportClass.FAILED),
        ("2999", ReportClass.FAILED),
        ("3000", ReportClass.INVALID),
        ("3036", ReportClass.INVALID),
        ("3007", ReportClass.INVALID),
        ("1001", ReportClass.UNKNOWN),
        ("4000", ReportClass.UNKNOWN),
        ("0000", ReportClass.UNKNOWN),
        ("200", ReportClass.UNKNOWN),
        ("20000", ReportClass.UNKNOWN),
        ("२०००", ReportClass.UNKNOWN),
        ("", ReportClass.UNKNOWN),
    ],
)
def test_report_codes_are_classified_by_the_pages_groups(code: str, report_class: ReportClass) -> None:
    assert classify_report(code) is report_class


@pytest.mark.parametrize("code", PAGE_REPORT_CODES)
def test_every_listed_report_code_is_delivered_failed_or_invalid(code: str) -> None:
    assert classify_report(code) is not ReportClass.UNKNOWN


@pytest.mark.parametrize(
    ("code", "meaning"),
    [("1000", "delivered to the handset"), ("2003", "handset switched off"), ("9999", "undocumented code")],
)
def test_report_meanings_are_plain_english(code: str, meaning: str) -> None:
    assert report_meaning(code) == meaning
