"""Delivery reports: strict parsing of the provider's query, and the XML answer in the provider's layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from supersms.errors import InvalidReport, MalformedReply
from supersms.protocol.reports import (
    KST,
    MANDATORY,
    Report,
    ReportType,
    parse_report,
    parse_report_response,
    render_report_response,
)

PAGE_SUCCESS = (
    "msgid=00000123&to=1093446280&to_country=82&ref=AA123456789&network=45008"
    "&rescnt=1&err_code=1000&sent_date=20150322140641"
)
PAGE_FAILURE = (
    "msgid=00000123&to=1093446280&to_country=82&ref=AA123456789&network=45008&rescnt=0&err_code=3001"
)
VALID = {
    "msgid": "00000123",
    "to": "1093446280",
    "to_country": "82",
    "err_code": "1000",
    "network": "45008",
    "rescnt": "1",
}


def parse(query: str) -> Report:
    return parse_report(parse_qs(query, keep_blank_values=True))


def with_field(field: str, value: str) -> dict[str, list[str]]:
    params = {name: [v] for name, v in VALID.items()}
    params[field] = [value]
    return params


def test_the_pages_success_example_parses_with_a_kst_sent_date() -> None:
    report = parse(PAGE_SUCCESS)
    assert report == Report(
        msgid="00000123",
        to="1093446280",
        to_country="82",
        err_code="1000",
        network="45008",
        rescnt=1,
        sent_date=datetime(2015, 3, 22, 14, 6, 41, tzinfo=KST),
        ref="AA123456789",
        rslt_type=ReportType.FINAL,
    )
    assert report.sent_date is not None
    assert report.sent_date.isoformat() == "2015-03-22T14:06:41+09:00"


def test_the_pages_failure_example_parses_without_sent_date_and_with_zero_rescnt() -> None:
    report = parse(PAGE_FAILURE)
    assert (report.err_code, report.rescnt, report.sent_date) == ("3001", 0, None)


@pytest.mark.parametrize("field", MANDATORY)
@pytest.mark.parametrize("how", ["absent", "blank"])
def test_a_missing_or_blank_mandatory_field_is_refused(field: str, how: str) -> None:
    params = with_field(field, "")
    if how == "absent":
        del params[field]
    with pytest.raises(InvalidReport) as caught:
        parse_report(params)
    assert (caught.value.field, caught.value.rule) == (field, "is required")


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("msgid", "A" * 64, True),
        ("msgid", "abc-123_4.5", True),
        ("msgid", "abc:123", False),
        ("msgid", "abc 123", False),
        ("msgid", "١٢٣", False),
        ("to", "1" * 13, True),
        ("to", "1" * 14, False),
        ("to", "10 9344", False),
        ("to_country", "1", True),
        ("to_country", "852", True),
        ("to_country", "8520", False),
        ("to_country", "+82", False),
        ("err_code", "3036", True),
        ("err_code", "300", False),
        ("err_code", "30000", False),
        ("err_code", "R000", False),
        ("network", "45008", True),
        ("network", "310260", True),
        ("network", "4500", False),
        ("network", "4500811", False),
        ("rescnt", "0", True),
        ("rescnt", "9999", True),
        ("rescnt", "10000", False),
        ("rescnt", "-1", False),
        ("rescnt", "1.0", False),
        ("sent_date", "20150322140641", True),
        ("ref", "A" * 20, True),
        ("ref", "A" * 21, False),
        ("ref", "AA_1", False),
        ("rslt_type", "0", True),
        ("rslt_type", "3", True),
        ("rslt_type", "1", False),
        ("rslt_type", "03", False),
    ],
)
def test_each_field_rule_holds_at_its_boundary(field: str, value: str, accepted: bool) -> None:
    if accepted:
        parse_report(with_field(field, value))
    else:
        with pytest.raises(InvalidReport) as caught:
            parse_report(with_field(field, value))
        assert caught.value.field == field


def test_a_trailing_newline_is_not_accepted_as_part_of_a_valid_value() -> None:
    with pytest.raises(InvalidReport, match=r"^msgid: "):
        parse_report(with_field("msgid", "00000123\n"))


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [("msgid", "A" * 65, "is longer than 64"), ("to", "1" * 64, "must be 1-13 digits")],
)
def test_values_are_bounded_in_length_before_any_rule_runs(field: str, value: str, rule: str) -> None:
    with pytest.raises(InvalidReport, match=f"^{field}: {rule}"):
        parse_report(with_field(field, value))


@pytest.mark.parametrize(
    "sent_date",
    ["2015032214064", "201503221406410", "20150230140641", "20150322250000", "00000000000000", "x"],
)
def test_an_unreadable_sent_date_is_left_out_and_the_outcome_is_kept(sent_date: str) -> None:
    """A refused report is retried three times, then dropped: the outcome it carries would be lost."""
    report = parse_report(with_field("sent_date", sent_date))
    assert (report.sent_date, report.err_code) == (None, "1000")


def test_an_over_long_unknown_field_is_ignored() -> None:
    params = with_field("msgid", "1")
    params["extra"] = ["x" * 10_000]
    assert parse_report(params).msgid == "1"


@pytest.mark.parametrize(
    ("field", "value"), [("sent_date", None), ("ref", None), ("rslt_type", ReportType.FINAL)]
)
def test_a_blank_optional_field_counts_as_absent(field: str, value: object) -> None:
    assert getattr(parse_report(with_field(field, "")), field) == value


def test_a_field_repeated_with_the_same_value_is_accepted() -> None:
    params = with_field("msgid", "1")
    params["msgid"] = ["1", "1"]
    assert parse_report(params).msgid == "1"


def test_a_field_repeated_with_different_values_is_refused() -> None:
    with pytest.raises(InvalidReport, match=r"^err_code: is repeated with different values$"):
        parse("&".join([PAGE_FAILURE, "err_code=1000"]))


def test_an_invalid_report_is_a_value_error_naming_field_and_rule() -> None:
    error = InvalidReport("rescnt", "must be an integer 0-99")
    assert isinstance(error, ValueError)
    assert str(error) == "rescnt: must be an integer 0-99"


def test_an_intermediate_report_keeps_its_type() -> None:
    assert parse(PAGE_SUCCESS + "&rslt_type=3").rslt_type is ReportType.INTERMEDIATE


@pytest.mark.parametrize("query", [PAGE_SUCCESS, PAGE_FAILURE])
def test_to_query_gives_the_provider_query_back_in_its_order(query: str) -> None:
    assert parse(query).to_query() == query


@pytest.mark.parametrize(
    "report",
    [
        Report("1", "1093446280", "82", "1000", "45008", 1, datetime(2015, 3, 22, 14, 6, 41, tzinfo=KST)),
        Report("ABC", "61412345678", "61", "2003", "505001", 3, None, ref="r1"),
        Report("9", "5", "1", "1000", "31026", 2, None, rslt_type=ReportType.INTERMEDIATE),
    ],
)
def test_a_report_survives_a_trip_through_its_query(report: Report) -> None:
    assert parse(report.to_query()) == report


def test_to_query_writes_sent_date_in_kst_whatever_the_zone_given() -> None:
    utc_time = datetime(2015, 3, 22, 5, 6, 41, tzinfo=UTC)
    report = Report("1", "1", "82", "1000", "45008", 1, utc_time)
    assert "sent_date=20150322140641" in report.to_query()
    assert parse(report.to_query()).sent_date == utc_time


def test_the_same_report_delivered_again_has_the_same_dedup_key() -> None:
    assert parse(PAGE_SUCCESS).dedup_key() == parse(PAGE_SUCCESS).dedup_key()


@pytest.mark.parametrize(
    "other",
    [
        PAGE_SUCCESS.replace("err_code=1000", "err_code=2000"),
        PAGE_SUCCESS + "&rslt_type=3",
        PAGE_SUCCESS.replace("20150322140641", "20150322140642"),
        PAGE_SUCCESS.replace("msgid=00000123", "msgid=00000124"),
    ],
)
def test_a_different_report_has_a_different_dedup_key(other: str) -> None:
    assert parse(other).dedup_key() != parse(PAGE_SUCCESS).dedup_key()


def test_the_dedup_key_carries_no_phone_number() -> None:
    assert "1093446280" not in parse(PAGE_SUCCESS).dedup_key()


def test_the_report_response_is_byte_for_byte_the_pages_layout() -> None:
    assert render_report_response(msgid="00000123", to_country="82", to="1093446280") == (
        b"<?xml version='1.0' encoding='UTF-8' ?>\n<report_response>\n<msgid>00000123</msgid>\n"
        b"<to_country>82</to_country>\n<to>1093446280</to>\n</report_response>\n"
    )


def test_the_report_response_escapes_its_values() -> None:
    body = render_report_response(msgid="a<b&c", to_country="82", to="1>")
    assert b"<msgid>a&lt;b&amp;c</msgid>" in body
    assert parse_report_response(body) == ("a<b&c", "82", "1>")


def test_a_rendered_report_response_reads_back() -> None:
    body = render_report_response(msgid="00000123", to_country="82", to="1093446280")
    assert parse_report_response(body) == ("00000123", "82", "1093446280")


@pytest.mark.parametrize(
    "body",
    [
        # The page's own example: a blank line and a space in the closing tag.
        b"<?xml version='1.0' encoding='UTF-8' ?>\n<report_response>\n<msgid>00000123</msgid>\n"
        b"<to_country>82</to_country>\n<to>1093446280</to>\n\n</report_response >\n",
        b"\xef\xbb\xbf<report_response><to> 1093446280 </to><msgid>00000123</msgid>"
        b"<to_country>82</to_country></report_response>",
        "<?xml version='1.0' encoding='euc-kr' ?><report_response><msgid>00000123</msgid>"
        "<to_country>82</to_country><to>1093446280</to><!-- 확인 --></report_response>".encode("euc-kr"),
        "<report_response v=”1”><msgid>00000123</msgid><to_country>82</to_country><to>1093446280</to>"
        "</report_response>".encode(),
    ],
)
def test_report_responses_are_read_liberally(body: bytes) -> None:
    assert parse_report_response(body) == ("00000123", "82", "1093446280")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"OK",
        b"<submit_response><msgid>1</msgid><to_country>82</to_country><to>1</to></submit_response>",
        b"<report_response><msgid>1</msgid><to_country>82</to_country></report_response>",
        b"<report_response><msgid> </msgid><to_country>82</to_country><to>1</to></report_response>",
        b"<!DOCTYPE r [<!ENTITY m '1'>]><report_response><msgid>&m;</msgid><to_country>82</to_country>"
        b"<to>1</to></report_response>",
    ],
)
def test_unreadable_report_responses_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedReply):
        parse_report_response(body)


def test_kst_is_nine_hours_ahead_of_utc() -> None:
    assert KST.utcoffset(None) == timedelta(hours=9)
