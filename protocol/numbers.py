"""Phone numbers as people write them, turned into the provider's form.

The provider wants a recipient as a calling code (``to_country``, 1-3 digits) and a national number without
the national prefix (``to``, at most 13 digits: Korea's ``010-9344-6280`` becomes ``82`` / ``1093446280``),
and a sender (``from``) as digits only: Korean national form with its leading 0, or the country code in front
when the number is not Korean. Recipients are checked against libphonenumber's numbering plans; senders
against the Korean sender-number rules, since the provider refuses a malformed sender anyway (R004).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import CountryCodeSource, NumberParseException, PhoneNumber

from supersms.errors import InvalidMessage

KOREA = "82"
"""Calling code of the Republic of Korea, the provider's home country."""

TO_MAX_DIGITS = 13
SENDER_MAX_DIGITS = 16

_SEPARATORS = re.compile(r"[\s\-.()]")
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_CALLING_CODE = re.compile(r"\+?([0-9]{1,3})", re.ASCII)
_REGION = re.compile(r"[A-Za-z]{2}", re.ASCII)
# 02-123-4567 (9) ... 010-1234-5678 (11); 0504-1234-5678 (12) for the 050X personal numbers.
_KOREAN_NATIONAL = re.compile(r"0[1-9][0-9]{7,9}|050[0-9]{9}", re.ASCII)
# Representative numbers: 1588-1234, 1644-xxxx, 1800-xxxx ...
_KOREAN_REPRESENTATIVE = re.compile(r"1[568][0-9]{6}", re.ASCII)
# How most recipients are written: a Korean mobile number, nationally (010..., 10...) or with +82 / 0082
# (then an optional 0). Group 1 is the +82 / 0082, group 2 the national significant number to check.
_KOREAN_MOBILE_FORM = re.compile(r"(\+82|0082)?0?(1[0-9]{8,9})", re.ASCII)


@dataclass(frozen=True)
class Recipient:
    """A destination in the provider's form: ``country`` ``"82"``, ``national`` ``"1093446280"``."""

    country: str
    national: str


def strip_separators(text: str) -> str:
    """``text`` without the spaces, dashes, dots and parentheses people put in phone numbers."""
    return _SEPARATORS.sub("", text)


@lru_cache(maxsize=256)
def parse_country(value: str, *, field: str = "to_country") -> str:
    """A calling code (``"82"``, ``"+82"``) or an ISO region (``"KR"``) as the provider's 1-3 digit code.

    Cached: a campaign names the same few countries for every message.
    """
    text = value.strip()
    if _REGION.fullmatch(text):
        code = phonenumbers.country_code_for_region(text.upper())
        if code == 0:
            raise InvalidMessage(field, f"unknown region {text!r}")
        return str(code)
    match = _CALLING_CODE.fullmatch(text)
    if match is None:
        raise InvalidMessage(field, "must be 1-3 digits (a calling code such as 82) or a region such as KR")
    code_text = match.group(1)
    if phonenumbers.region_code_for_country_code(int(code_text)) == phonenumbers.UNKNOWN_REGION:
        raise InvalidMessage(field, f"unknown country calling code {code_text}")
    return str(int(code_text))


def parse_recipient(
    text: str, *, country: str | None = None, field: str = "to", default_country: str = KOREA
) -> Recipient:
    """Read a recipient number as people write it.

    ``+82 10-9344-6280`` and ``0082 10 9344 6280`` carry their country; ``010-9344-6280`` and the provider's
    own ``1093446280`` are national numbers of ``country`` (a calling code or ISO region), or of
    ``default_country`` when ``country`` is None. A country given alongside a ``+CC`` number must agree with
    it. A national number with its country code glued on but no ``+`` (``821093446280``) is refused.
    Raises :class:`InvalidMessage` naming ``field`` (or ``<field>_country`` for the country) and the rule.
    """
    country_field = f"{field}_country"
    digits = strip_separators(text)
    if not digits:
        raise InvalidMessage(field, "required")
    code = parse_country(country, field=country_field) if country is not None else None
    korean_mobile = _korean_mobile(digits, code, default_country=default_country, country_field=country_field)
    if korean_mobile is not None:
        return korean_mobile
    international = _international_digits(digits)
    if international is not None:
        number = _parse_international(international, field=field)
        if code is not None and str(number.country_code) != code:
            raise InvalidMessage(
                field, f"country code +{number.country_code} does not match {country_field} {code}"
            )
    else:
        code = code or parse_country(default_country, field=country_field)
        number = _parse_national(digits, code, field=field)
    return _recipient(number, field=field)


def _korean_mobile(
    digits: str, code: str | None, *, default_country: str, country_field: str
) -> Recipient | None:
    """The recipient if ``digits`` are plainly a valid Korean mobile number, else None (ask phonenumbers).

    A shortcut for the common case that decides as phonenumbers does (the tests compare both on many numbers):
    the number must be Korean (``+82`` and no other ``code`` given, or national with ``code`` or else
    ``default_country`` 82) and its national significant number must fit Korea's mobile numbering plan.
    """
    form = _KOREAN_MOBILE_FORM.fullmatch(digits)
    if form is None:
        return None
    written_country, national = form.groups()
    country = code or (KOREA if written_country else parse_country(default_country, field=country_field))
    if country != KOREA or not _is_korean_mobile(national):
        return None
    return Recipient(KOREA, national)


_Description = tuple[re.Pattern[str], frozenset[int]]
"""A phonenumbers number description: the pattern national numbers match, and the lengths they may have."""


@lru_cache(maxsize=1)
def _korean_mobile_plan() -> tuple[_Description, _Description]:
    """Korea's general and mobile number descriptions from phonenumbers: each a pattern and its lengths."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("KR")
    assert metadata is not None, "phonenumbers knows Korea"
    general, mobile = metadata.general_desc, metadata.mobile
    assert general is not None and mobile is not None, "and its general and mobile numbers"
    return _description(general), _description(mobile)


def _description(desc: phonenumbers.PhoneNumberDesc) -> _Description:
    return re.compile(desc.national_number_pattern or "", re.ASCII), frozenset(desc.possible_length or ())


def _is_korean_mobile(national: str) -> bool:
    """What ``phonenumbers.is_valid_number`` says of a Korean number that fits the mobile plan.

    phonenumbers calls a number valid when it fits the general description and one type's; the mobile one is
    the type checked here (a number of another type is left to phonenumbers).
    """
    (general, general_lengths), (mobile, mobile_lengths) = _korean_mobile_plan()
    return _fits(national, general, general_lengths) and _fits(national, mobile, mobile_lengths)


def _fits(national: str, pattern: re.Pattern[str], lengths: frozenset[int]) -> bool:
    """phonenumbers' test of a number against a description: its length if it lists any, then its pattern."""
    return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None


def _international_digits(digits: str) -> str | None:
    """The digits after ``+`` or ``00`` (ITU's international prefix), or None for a national number."""
    if digits.startswith("+"):
        return digits[1:]
    if digits.startswith("00"):
        return digits[2:]
    return None


def _parse_international(digits: str, *, field: str) -> PhoneNumber:
    if not _DIGITS.fullmatch(digits):
        raise InvalidMessage(field, "must be digits after + (e.g. +82 10-1234-5678)")
    try:
        return phonenumbers.parse(f"+{digits}", None)
    except NumberParseException as e:
        raise InvalidMessage(field, "not a valid international phone number") from e


def _parse_national(digits: str, code: str, *, field: str) -> PhoneNumber:
    if not _DIGITS.fullmatch(digits):
        raise InvalidMessage(field, "must be a phone number: digits, optionally + and separators")
    region = phonenumbers.region_code_for_country_code(int(code))
    if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return _parse_international(code + digits, field=field)
    try:
        number = phonenumbers.parse(digits, region, keep_raw_input=True)
    except NumberParseException as e:
        raise InvalidMessage(field, f"not a valid phone number for country {code}") from e
    if number.country_code_source != CountryCodeSource.FROM_DEFAULT_COUNTRY:
        raise InvalidMessage(
            field,
            f"looks like it starts with a country code; write it as +{number.country_code} ... or without it",
        )
    return number


def _recipient(number: PhoneNumber, *, field: str) -> Recipient:
    country = str(number.country_code)
    if not phonenumbers.is_valid_number(number):
        raise InvalidMessage(field, f"not a valid phone number for country {country}")
    national = phonenumbers.national_significant_number(number)
    if len(national) > TO_MAX_DIGITS:
        raise InvalidMessage(field, f"must be at most {TO_MAX_DIGITS} digits without the country code")
    return Recipient(country=country, national=national)


@lru_cache(maxsize=256)
def parse_sender(text: str, *, field: str = "from") -> str:
    """A sender number in the provider's form: digits only (cached: a campaign has one or a few senders).

    Korean numbers keep their leading 0 (``02-123-4567``, ``010-1234-5678``; 9-11 digits, 12 for ``050X``
    numbers); representative numbers are 8 digits starting 15, 16 or 18 (``1588-1234``); any other number is
    written ``+<country code><number>`` (or ``00...``) and becomes its digits with the country code
    (``+82 10-2965-2189`` → ``821029652189``), at most 16 digits.
    """
    digits = strip_separators(text)
    international = _international_digits(digits)
    if international is not None:
        return _international_sender(international, field=field)
    if _KOREAN_NATIONAL.fullmatch(digits) or _KOREAN_REPRESENTATIVE.fullmatch(digits):
        return digits
    raise InvalidMessage(
        field,
        "must be a Korean number with its leading 0 (9-11 digits, e.g. 010-1234-5678), "
        "a 15YY/16YY/18YY number of 8 digits (e.g. 1588-1234), or +<country code><number>",
    )


def _international_sender(digits: str, *, field: str) -> str:
    number = _parse_international(digits, field=field)
    if not phonenumbers.is_possible_number(number):
        raise InvalidMessage(field, f"not a possible phone number for country {number.country_code}")
    provider_form = f"{number.country_code}{phonenumbers.national_significant_number(number)}"
    if len(provider_form) > SENDER_MAX_DIGITS:
        raise InvalidMessage(field, f"must be at most {SENDER_MAX_DIGITS} digits with the country code")
    return provider_form


def sender_for(sender: str, *, to_country: str) -> str:
    """``sender`` (from :func:`parse_sender`) as the provider's page writes it for a message to ``to_country``:
    a Korean number in its national form (``01029652189``) to Korea, with the country code
    (``821029652189``) to any other country. Other countries' numbers, and Korean representative numbers
    (``15881234``), have one form only."""
    if to_country == KOREA:
        return f"0{sender.removeprefix(KOREA)}" if sender.startswith(KOREA) else sender
    return f"{KOREA}{sender.removeprefix('0')}" if sender.startswith("0") else sender


@lru_cache(maxsize=256)
def sender_as_input(sender: str) -> str:
    """Write a sender from :func:`parse_sender` so that :func:`parse_sender` reads it back unchanged.

    Korean national and representative numbers are their digits; any other is international: it gets a ``+``.
    """
    if _KOREAN_NATIONAL.fullmatch(sender) or _KOREAN_REPRESENTATIVE.fullmatch(sender):
        return sender
    return f"+{sender}"
