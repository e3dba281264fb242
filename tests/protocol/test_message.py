"""Task fields become a valid Message, or the first broken rule is named."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supersms.errors import InvalidMessage
from supersms.protocol.measure import MessageKind
from supersms.protocol.message import (
    FIELD_NAMES,
    TTL_MAX_S,
    Charset,
    Message,
    measure_message,
    parse_charset,
    validate_message,
    validate_message_id,
)

BASE: dict[str, object] = {"to": "010-9344-6280", "from": "010-2965-2189", "message": "안녕하세요"}
HANGUL = "가"


def valid(**changes: object) -> Message:
    return validate_message({**BASE, **changes})


def refused(fields: dict[str, object]) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        validate_message(fields)
    return caught.value


def test_a_minimal_message_is_read_into_the_providers_terms() -> None:
    assert valid() == Message(to_country="82", to="1093446280", sender="01029652189", text="안녕하세요")


def test_every_field_is_read() -> None:
    fields = {
        "id": "abc123",
        "to": "+1 202-555-0123",
        "to_country": 1,
        "from": "+82 10-2965-2189",
        "message": "Hello",
        "title": "Hi",
        "ref": "AA123456789",
        "ttl": "86400",
        "charset": "EUC-KR",
        "payment_code": "dept-7",
        "client_sub_id": "brand 2",
        "origin_cid": "123456789",
    }
    assert set(fields) == FIELD_NAMES
    assert validate_message(fields) == Message(
        to_country="1",
        to="2025550123",
        sender="821029652189",
        text="Hello",
        title="Hi",
        ref="AA123456789",
        ttl_s=86400,
        charset=Charset.EUC_KR,
        payment_code="dept-7",
        client_sub_id="brand 2",
        origin_cid="123456789",
    )


@pytest.mark.parametrize(
    ("changes", "country", "to"),
    [
        ({}, "82", "1093446280"),
        ({"to": "+1 202-555-0123"}, "1", "2025550123"),
        ({"to": "2025550123", "to_country": "1"}, "1", "2025550123"),
        ({"to": "2025550123", "to_country": 1}, "1", "2025550123"),
        ({"to": "2025550123", "to_country": "US"}, "1", "2025550123"),
        ({"to": "1093446280", "to_country": "82"}, "82", "1093446280"),
        ({"to_country": None}, "82", "1093446280"),
        ({"to_country": ""}, "82", "1093446280"),
    ],
)
def test_the_country_comes_from_to_country_then_from_a_plus_in_to_then_the_default(
    changes: dict[str, object], country: str, to: str
) -> None:
    message = valid(**changes)
    assert (message.to_country, message.to) == (country, to)


def test_the_default_country_applies_to_national_numbers_only() -> None:
    assert validate_message({**BASE, "to": "2025550123"}, default_country="1").to_country == "1"
    assert validate_message({**BASE, "to": "+82 10-9344-6280"}, default_country="1").to_country == "82"


def test_the_default_sender_fills_a_missing_from() -> None:
    fields = {"to": "01093446280", "message": "hi"}
    assert validate_message(fields, default_sender="1588-1234").sender == "15881234"
    assert (
        validate_message({**fields, "from": "02-123-4567"}, default_sender="1588-1234").sender == "021234567"
    )


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({**BASE, "bogus": "x"}, "bogus", "unknown field"),
        ({**BASE, "zz": 1, "aa": 1}, "aa", "unknown field"),
        ({"from": "01029652189", "message": "hi"}, "to", "required"),
        ({**BASE, "to": ""}, "to", "required"),
        ({**BASE, "to": 1093446280}, "to", "must be a string"),
        ({**BASE, "to_country": True}, "to_country", "must be a string or an integer"),
        ({**BASE, "to_country": 8.2}, "to_country", "must be a string or an integer"),
        ({**BASE, "to_country": "8888"}, "to_country", "must be 1-3 digits"),
        ({"to": "01093446280", "message": "hi"}, "from", "required"),
        ({**BASE, "from": ""}, "from", "required"),
        ({**BASE, "from": 1029652189}, "from", "must be a string"),
        ({**BASE, "from": "12"}, "from", "must be a Korean number"),
        ({**BASE, "charset": "latin-1"}, "charset", "must be utf-8 or euc-kr"),
        ({**BASE, "charset": 1}, "charset", "must be a string"),
        ({"to": "01093446280", "from": "01029652189"}, "message", "required"),
        ({**BASE, "message": ""}, "message", "required"),
        ({**BASE, "message": " \n\t"}, "message", "must not be empty"),
        ({**BASE, "message": ["hi"]}, "message", "must be a string"),
        ({**BASE, "message": "😀"}, "message", "character '😀' cannot be sent to Korea"),
        ({**BASE, "message": "a" * 2001}, "message", "2001 bytes is over the 2000-byte LMS limit"),
        ({**BASE, "title": 5}, "title", "must be a string"),
        ({**BASE, "title": "a" * 41}, "title", "41 bytes is over the 40-byte limit"),
        ({**BASE, "ref": 12}, "ref", "must be a string"),
        ({**BASE, "ttl": 1.5}, "ttl", "must be a whole number of seconds"),
        ({**BASE, "payment_code": 7}, "payment_code", "must be a string"),
        ({**BASE, "client_sub_id": 7}, "client_sub_id", "must be a string"),
        ({**BASE, "origin_cid": 123456789}, "origin_cid", "must be a string"),
    ],
)
def test_each_broken_rule_is_named_by_field(fields: dict[str, object], field: str, rule: str) -> None:
    error = refused(fields)
    assert (error.field, str(error)) == (field, f"{field}: {error.rule}")
    assert rule in error.rule


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"bogus": 1, "to": "", "message": ""}, "bogus"),
        ({"to_country": "8888", "to": "x", "message": ""}, "to_country"),
        ({"to": "x", "from": "x", "message": ""}, "to"),
        ({**BASE, "from": "x", "charset": "x"}, "from"),
        ({**BASE, "charset": "x", "message": ""}, "charset"),
        ({**BASE, "message": "", "title": "a" * 41}, "message"),
        ({**BASE, "title": "a" * 41, "ref": "-"}, "title"),
        ({**BASE, "ref": "-", "ttl": 0}, "ref"),
        ({**BASE, "ttl": 0, "payment_code": "\n"}, "ttl"),
        ({**BASE, "payment_code": "\n", "client_sub_id": "\n"}, "payment_code"),
        ({**BASE, "client_sub_id": "\n", "origin_cid": "1"}, "client_sub_id"),
    ],
)
def test_the_first_problem_in_field_order_wins(fields: dict[str, object], field: str) -> None:
    assert refused(fields).field == field


@pytest.mark.parametrize(
    ("ref", "ok"),
    [
        ("A", True),
        ("a" * 20, True),
        ("AA123456789", True),
        ("a" * 21, False),
        ("AA-123", False),
        ("AA 123", False),
        ("가나다", False),  # letters, but not ASCII
        ("１２３", False),  # full-width digits
    ],
)
def test_ref_is_1_to_20_ascii_letters_or_digits(ref: str, ok: bool) -> None:
    if ok:
        assert valid(ref=ref).ref == ref
    else:
        assert refused({**BASE, "ref": ref}).rule == "must be 1-20 ASCII letters or digits"


@pytest.mark.parametrize(
    ("ttl", "expected"),
    [(1, 1), ("1", 1), (86400, 86400), ("86400", 86400), (TTL_MAX_S, TTL_MAX_S), (str(TTL_MAX_S), TTL_MAX_S)],
)
def test_ttl_is_whole_seconds_as_an_integer_or_digits(ttl: object, expected: int) -> None:
    assert valid(ttl=ttl).ttl_s == expected


@pytest.mark.parametrize(
    ("ttl", "rule"),
    [
        (0, "must be at least 1 second"),
        ("0", "must be at least 1 second"),
        (-1, "must be at least 1 second"),
        (TTL_MAX_S + 1, "must be at most 604800 seconds (7 days)"),
        ("9" * 5000, "must be at most 604800 seconds (7 days)"),
        ("-1", "must be a whole number of seconds"),
        ("1.0", "must be a whole number of seconds"),
        (" 60", "must be a whole number of seconds"),
        ("٣", "must be a whole number of seconds"),  # an Arabic-Indic digit
        (True, "must be a whole number of seconds"),
        (60.0, "must be a whole number of seconds"),
    ],
)
def test_ttl_outside_1_second_to_7_days_is_refused(ttl: object, rule: str) -> None:
    assert refused({**BASE, "ttl": ttl}).rule == rule


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Charset.UTF8),
        ("utf-8", Charset.UTF8),
        ("UTF-8", Charset.UTF8),
        ("utf8", Charset.UTF8),
        ("1", Charset.UTF8),
        ("euc-kr", Charset.EUC_KR),
        ("EUC-KR", Charset.EUC_KR),
        ("euc_kr", Charset.EUC_KR),
        ("2", Charset.EUC_KR),
    ],
)
def test_charsets_are_read_by_name_or_provider_code(value: str | None, expected: Charset) -> None:
    assert parse_charset(value) is expected


def test_an_absent_charset_is_utf8() -> None:
    assert valid().charset is Charset.UTF8
    assert valid(charset="").charset is Charset.UTF8


@pytest.mark.parametrize("field", ["payment_code", "client_sub_id"])
@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("a" * 20, True),
        ("a" * 21, False),
        (HANGUL * 6 + "ab", True),  # 18 + 2 bytes in UTF-8
        (HANGUL * 7, False),  # 21 bytes
        ("dept 7/a", True),
        ("dept\n7", False),
        ("dept\x007", False),
    ],
)
def test_billing_and_signature_codes_are_at_most_20_printable_bytes(field: str, value: str, ok: bool) -> None:
    if ok:
        assert getattr(valid(**{field: value}), field) == value
    else:
        assert refused({**BASE, field: value}).field == field


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("123456789", True),
        ("12345678", False),
        ("1234567890", False),
        ("12345678a", False),
        ("１２３４５６７８９", False),
    ],
)
def test_origin_cid_is_exactly_9_digits(value: str, ok: bool) -> None:
    if ok:
        assert valid(origin_cid=value).origin_cid == value
    else:
        assert refused({**BASE, "origin_cid": value}).rule.startswith("must be exactly 9 digits")


@pytest.mark.parametrize(
    ("title", "ok"), [("a" * 40, True), (HANGUL * 20, True), ("a" * 41, False), (HANGUL * 20 + "a", False)]
)
def test_title_is_at_most_40_euc_kr_bytes(title: str, ok: bool) -> None:
    if ok:
        assert valid(title=title, message="a" * 100).title == title
    else:
        assert refused({**BASE, "title": title}).field == "title"


@pytest.mark.parametrize(("message", "kind"), [("a" * 90, MessageKind.SMS), ("a" * 91, MessageKind.LMS)])
def test_a_valid_message_can_be_measured(message: str, kind: MessageKind) -> None:
    assert measure_message(valid(message=message)).kind is kind


def test_euc_kr_refuses_a_syllable_outside_ks_x_1001_that_utf8_carries_to_korea() -> None:
    assert valid(message="똠").text == "똠"
    assert (
        refused({**BASE, "message": "똠", "charset": "euc-kr"}).rule
        == "character '똠' cannot be sent in euc-kr"
    )


@pytest.mark.parametrize("field", ["title", "ref", "ttl", "payment_code", "client_sub_id", "origin_cid"])
@pytest.mark.parametrize("empty", [None, ""])
def test_optional_fields_given_empty_are_absent(field: str, empty: object) -> None:
    assert getattr(valid(**{field: empty}), field if field != "ttl" else "ttl_s") is None


def test_an_id_is_accepted_and_left_to_the_caller() -> None:
    assert valid(id="anything at all") == valid()


@pytest.mark.parametrize(
    ("value", "ok"), [("A", True), ("a1" * 10, True), ("a" * 21, False), ("", False), ("a-b", False)]
)
def test_message_ids_fit_the_providers_ref(value: str, ok: bool) -> None:
    if ok:
        assert validate_message_id(value) == value
    else:
        with pytest.raises(InvalidMessage, match=r"^id: must be 1-20 ASCII letters or digits$"):
            validate_message_id(value)


def test_a_message_id_must_be_a_string() -> None:
    with pytest.raises(InvalidMessage, match=r"^id: must be a string$"):
        validate_message_id(12345)


def test_a_message_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        valid().text = "changed"  # type: ignore[misc]


def test_as_fields_omits_what_is_not_set() -> None:
    assert valid().as_fields() == {
        "to": "1093446280",
        "to_country": "82",
        "from": "01029652189",
        "message": "안녕하세요",
        "charset": "utf-8",
    }


ROUND_TRIP_TABLE = [
    {**BASE},
    {**BASE, "from": "+82 10-2965-2189", "to": "+1 202 555 0123", "message": "Hello 😀"},
    {**BASE, "from": "1588-1234", "charset": "2", "title": "공지", "message": "가" * 100, "ttl": "60"},
    {
        **BASE,
        "to": "06 1234 5678",
        "to_country": "IT",
        "ref": "R1",
        "payment_code": "p",
        "client_sub_id": "c",
    },
    {**BASE, "origin_cid": "123456789", "ttl": 604800, "from": "0505-1234-5678"},
]


@pytest.mark.parametrize("fields", ROUND_TRIP_TABLE)
def test_as_fields_reads_back_to_the_same_message(fields: dict[str, object]) -> None:
    message = validate_message(fields)
    assert validate_message(message.as_fields()) == message


RECIPIENTS = ["010-9344-6280", "+82 10 9344 6280", "02-123-4567", "+1 202-555-0123", "+44 7400 123456"]
SENDERS = ["01029652189", "02-123-4567", "1588-1234", "+82 10-2965-2189", "+1 202-555-0123"]
KSX1001_TEXT = "가나다라마바사아자차카타파하안녕하세요감사합니다①Ⅱ★ abcXYZ0129.,!?-\n"
SHORT_CODE = st.text(st.characters(codec="ascii", categories=["L", "N", "P", "Zs"]), max_size=20)


@st.composite
def task_fields(draw: st.DrawFn) -> dict[str, object]:
    charset = draw(st.sampled_from(["utf-8", "euc-kr", "1", "2", "UTF-8", "euc_kr"]))
    alphabet = KSX1001_TEXT + ("똠" if charset in ("utf-8", "1", "UTF-8") else "")
    fields: dict[str, object] = {
        "to": draw(st.sampled_from(RECIPIENTS)),
        "from": draw(st.sampled_from(SENDERS)),
        "message": draw(st.text(alphabet, min_size=1, max_size=300).filter(str.strip)),
        "charset": charset,
    }
    optional = {
        # 13 characters of at most 3 UTF-8 bytes fit the 40-byte title limit whatever the route.
        "title": st.text(KSX1001_TEXT, max_size=13),
        "ref": st.text("abcXYZ0189", min_size=1, max_size=20),
        "ttl": st.one_of(st.integers(1, TTL_MAX_S), st.integers(1, TTL_MAX_S).map(str)),
        "payment_code": SHORT_CODE,
        "client_sub_id": SHORT_CODE,
        "origin_cid": st.text("0123456789", min_size=9, max_size=9),
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)))):
        fields[name] = draw(optional[name])
    return fields


@settings(max_examples=150, deadline=None)
@given(task_fields())
def test_any_valid_message_survives_the_round_trip_through_task_fields(fields: dict[str, object]) -> None:
    message = validate_message(fields)
    assert validate_message(message.as_fields()) == message
