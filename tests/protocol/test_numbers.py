"""Phone numbers as people write them become the provider's to_country / to / from."""

from __future__ import annotations

import itertools

import phonenumbers
import pytest

from supersms.errors import InvalidMessage
from supersms.protocol import numbers
from supersms.protocol.numbers import (
    Recipient,
    parse_country,
    parse_recipient,
    parse_sender,
    sender_as_input,
    strip_separators,
)

KOREAN_MOBILE = Recipient(country="82", national="1093446280")


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("01093446280", None, KOREAN_MOBILE),
        ("010-9344-6280", None, KOREAN_MOBILE),
        ("010 9344 6280", None, KOREAN_MOBILE),
        ("010.9344.6280", None, KOREAN_MOBILE),
        ("(010) 9344-6280", None, KOREAN_MOBILE),
        ("+82 10-9344-6280", None, KOREAN_MOBILE),
        ("+82 10 9344 6280", None, KOREAN_MOBILE),
        ("+82 010-9344-6280", None, KOREAN_MOBILE),
        ("+821093446280", None, KOREAN_MOBILE),
        ("0082 10 9344 6280", None, KOREAN_MOBILE),
        ("1093446280", "82", KOREAN_MOBILE),
        ("1093446280", None, KOREAN_MOBILE),
        ("01093446280", "KR", KOREAN_MOBILE),
        ("01093446280", "kr", KOREAN_MOBILE),
        ("01093446280", "+82", KOREAN_MOBILE),
        ("+82 10-9344-6280", "82", KOREAN_MOBILE),
        ("02-123-4567", None, Recipient("82", "21234567")),
        ("2025550123", "1", Recipient("1", "2025550123")),
        ("(202) 555-0123", "US", Recipient("1", "2025550123")),
        ("+1 202-555-0123", None, Recipient("1", "2025550123")),
        ("07400 123456", "44", Recipient("44", "7400123456")),
        ("06 1234 5678", "39", Recipient("39", "0612345678")),
        ("+800 1234 5678", None, Recipient("800", "12345678")),
        ("12345678", "800", Recipient("800", "12345678")),
    ],
)
def test_recipients_are_read_in_every_common_form(
    text: str, country: str | None, expected: Recipient
) -> None:
    assert parse_recipient(text, country=country) == expected


def test_a_national_number_belongs_to_the_default_country_when_none_is_given() -> None:
    assert parse_recipient("2025550123", default_country="1") == Recipient("1", "2025550123")
    assert parse_recipient("+82 10-9344-6280", default_country="1") == KOREAN_MOBILE


@pytest.mark.parametrize(
    ("text", "country", "field", "rule"),
    [
        ("", None, "to", "required"),
        (" - ", None, "to", "required"),
        ("abc", None, "to", "must be a phone number"),
        ("010-9344-628O", None, "to", "must be a phone number"),
        ("+82 10 abc", None, "to", "must be digits after +"),
        ("010934462", None, "to", "not a valid phone number for country 82"),
        ("12345", None, "to", "not a valid phone number for country 82"),
        ("2025550123", None, "to", "not a valid phone number for country 82"),
        ("821093446280", None, "to", "starts with a country code; write it as +82"),
        ("821093446280", "82", "to", "starts with a country code"),
        ("+999 1234", None, "to", "not a valid international phone number"),
        ("+1 202-555-0123", "82", "to", "country code +1 does not match to_country 82"),
        ("1093446280", "1234", "to_country", "must be 1-3 digits"),
        ("1093446280", "8 2", "to_country", "must be 1-3 digits"),
        ("1093446280", "", "to_country", "must be 1-3 digits"),
        ("1093446280", "999", "to_country", "unknown country calling code 999"),
        ("1093446280", "0", "to_country", "unknown country calling code 0"),
        ("1093446280", "XX", "to_country", "unknown region 'XX'"),
    ],
)
def test_unusable_recipients_are_refused_with_the_field_and_rule(
    text: str, country: str | None, field: str, rule: str
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_recipient(text, country=country)
    assert caught.value.field == field
    assert rule in caught.value.rule


def test_the_country_field_is_named_after_the_number_field() -> None:
    with pytest.raises(InvalidMessage, match=r"^dest_country: "):
        parse_recipient("1093446280", country="1234", field="dest")


def test_a_recipient_of_13_digits_is_taken_and_one_of_14_refused() -> None:
    # Berlin's numbering plan allows long extensions; the provider takes at most 13 digits.
    assert parse_recipient("+49 30 12345678901") == Recipient("49", "3012345678901")
    with pytest.raises(InvalidMessage, match=r"^to: must be at most 13 digits"):
        parse_recipient("+49 30 123456789012")


def _example_recipients() -> list[Recipient]:
    recipients = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if number is not None:
            national = phonenumbers.national_significant_number(number)
            recipients.add(Recipient(str(number.country_code), national))
    return sorted(recipients, key=lambda r: (r.country, r.national))


@pytest.mark.parametrize("recipient", _example_recipients(), ids=lambda r: f"+{r.country}")
def test_every_country_reads_back_its_own_provider_form(recipient: Recipient) -> None:
    international = parse_recipient(f"+{recipient.country} {recipient.national}")
    assert international == recipient
    assert parse_recipient(recipient.national, country=recipient.country) == recipient


@pytest.mark.parametrize(
    ("value", "expected"),
    [("82", "82"), ("+82", "82"), (" 82 ", "82"), ("1", "1"), ("KR", "82"), ("us", "1"), ("001", "1")],
)
def test_countries_are_calling_codes_or_regions(value: str, expected: str) -> None:
    assert parse_country(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01029652189", "01029652189"),
        ("010-2965-2189", "01029652189"),
        ("(02) 123.4567", "021234567"),
        ("02-123-4567", "021234567"),
        ("031-123-4567", "0311234567"),
        ("0505-1234-5678", "050512345678"),
        ("1588-1234", "15881234"),
        ("1644 1234", "16441234"),
        ("1800-1234", "18001234"),
        ("+82 10-2965-2189", "821029652189"),
        ("0082 10 2965 2189", "821029652189"),
        ("+1 202-555-0123", "12025550123"),
        ("+44 20 7946 0958", "442079460958"),
    ],
)
def test_senders_become_the_providers_digits(text: str, expected: str) -> None:
    assert parse_sender(text) == expected


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "must be a Korean number"),
        ("02-123-456", "must be a Korean number"),  # 8 digits: one short of the shortest
        ("010-1234-56789", "must be a Korean number"),  # 12 digits outside 050X
        ("0501-1234-56789", "must be a Korean number"),  # 13 digits
        ("1588-123", "must be a Korean number"),  # representative numbers are exactly 8 digits
        ("1588-12345", "must be a Korean number"),
        ("1234-5678", "must be a Korean number"),  # 12YY is no representative number
        ("821029652189", "must be a Korean number"),  # a country code needs its +
        ("010-2965-218O", "must be a Korean number"),
        ("+82 10 abc", "must be digits after +"),
        ("+999", "not a valid international phone number"),
        ("+1 23", "not a possible phone number for country 1"),
    ],
)
def test_unusable_senders_are_refused_with_the_rule(text: str, rule: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_sender(text)
    assert caught.value.field == "from"
    assert rule in caught.value.rule


@pytest.mark.parametrize(
    ("digits", "ok"),
    [("021234567", True), ("02123456", False), ("01012345678", True), ("010123456789", False)],
)
def test_korean_sender_length_is_9_to_11_digits(digits: str, ok: bool) -> None:
    if ok:
        assert parse_sender(digits) == digits
    else:
        with pytest.raises(InvalidMessage):
            parse_sender(digits)


def test_an_international_sender_of_16_digits_is_taken_and_one_of_17_refused() -> None:
    # Indonesia's numbering plan allows numbers of up to 17 digits after the country code.
    assert parse_sender("+62 " + "8" * 14) == "62" + "8" * 14
    with pytest.raises(InvalidMessage, match=r"^from: must be at most 16 digits"):
        parse_sender("+62 " + "8" * 15)


@pytest.mark.parametrize(
    "text", ["01029652189", "021234567", "15881234", "050512345678", "+821029652189", "+12025550123"]
)
def test_a_parsed_sender_is_written_back_as_input_that_parses_the_same(text: str) -> None:
    sender = parse_sender(text)
    assert parse_sender(sender_as_input(sender)) == sender


def test_separators_are_spaces_dashes_dots_and_parentheses() -> None:
    assert strip_separators(" (010) 9344-6280.\t") == "01093446280"


def test_the_sender_field_name_can_be_chosen() -> None:
    with pytest.raises(InvalidMessage, match=r"^sender: "):
        parse_sender("12", field="sender")


def _korean_mobile_like_numbers() -> list[str]:
    """National significant numbers around Korea's mobile plan, 9 and 10 digits long.

    Every 1XY start, and every 105XY and 122XY start (where the plan looks at the fourth and fifth digits).
    """
    starts = ["1" + "".join(digits) for digits in itertools.product("0123456789", repeat=2)]
    starts += [
        prefix + "".join(digits)
        for prefix in ("105", "122")
        for digits in itertools.product("0123456789", repeat=2)
    ]
    return sorted({(start + "9344628051")[:length] for start in starts for length in (9, 10)})


def _written(national: str) -> list[str]:
    """``national`` written every way the Korean mobile shortcut reads, and some ways it does not."""
    dashed = f"{national[:2]}-{national[2:-4]}-{national[-4:]}"
    return [
        "0" + national,
        national,
        "0" + dashed,
        f"+82 {national}",
        f"+82 0{dashed}",
        f"0082{national}",
        f"0082 0{national}",
        "82" + national,
        "00" + national,
        "+1" + national,
    ]


def _reading(text: str, country: str | None, default_country: str) -> Recipient | tuple[str, str]:
    try:
        return parse_recipient(text, country=country, default_country=default_country)
    except InvalidMessage as error:
        return (error.field, error.rule)


def test_the_korean_mobile_shortcut_reads_every_number_as_phonenumbers_does(monkeypatch) -> None:
    cases = [
        (text, country, default)
        for national in _korean_mobile_like_numbers()
        for text in _written(national)
        for country, default in [(None, "82"), ("82", "82"), ("KR", "1"), ("1", "82"), (None, "1")]
    ]
    shortcut_readings = []

    def counted_shortcut(*args, **kwargs):
        reading = korean_mobile(*args, **kwargs)
        shortcut_readings.append(reading)
        return reading

    korean_mobile = numbers._korean_mobile
    monkeypatch.setattr(numbers, "_korean_mobile", counted_shortcut)
    shortcut = [_reading(*case) for case in cases]
    monkeypatch.setattr(numbers, "_korean_mobile", lambda *args, **kwargs: None)
    phonenumbers_only = [_reading(*case) for case in cases]
    differences = [
        (case, ours, theirs)
        for case, ours, theirs in zip(cases, shortcut, phonenumbers_only, strict=True)
        if ours != theirs
    ]
    assert differences == []
    valid = sum(isinstance(reading, Recipient) for reading in phonenumbers_only)
    taken = sum(reading is not None for reading in shortcut_readings)
    assert 0 < taken < valid < len(cases), (
        "the shortcut reads many numbers; the table also holds invalid ones"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("010-5960-1234", Recipient("82", "1059601234")),
        ("010-5970-1234", None),  # 1059[7-9] is outside the mobile plan
        ("011-123-4567", Recipient("82", "111234567")),
        ("016-1234-5678", Recipient("82", "1612345678")),
        ("015-1234-5678", None),  # 15XX is a pager number, not mobile
    ],
)
def test_tricky_korean_mobile_numbers_are_read_as_phonenumbers_reads_them(
    text: str, expected: Recipient | None
) -> None:
    if expected is None:
        assert (
            numbers._korean_mobile(text.replace("-", ""), None, default_country="82", country_field="to")
            is None
        )
    else:
        assert parse_recipient(text) == expected
