"""The provider's checks of a send request, each at its boundary: exactly at the limit passes, one over fails."""

from __future__ import annotations

import pytest

from supersms.sandbox.rules import Accepted, Account, Refusal, billed_parts, check, msg_type
from tests.sandbox.helpers import EXAMPLE

HANGUL = "가"
GSM_PART = 153


def fields(**changes: str | bytes | None) -> dict[str, bytes]:
    """The provider's example request as raw fields, with ``changes`` (``None`` removes a field)."""
    merged: dict[str, str | bytes | None] = {**EXAMPLE, **changes}
    return {
        name: value if isinstance(value, bytes) else value.encode("utf-8")
        for name, value in merged.items()
        if value is not None
    }


def verdict(**changes: str | bytes | None) -> Accepted | Refusal:
    return check(fields(**changes), Account())


def code_of(**changes: str | bytes | None) -> str:
    result = verdict(**changes)
    return result.err_code if isinstance(result, Refusal) else "R000"


def test_the_providers_own_example_is_accepted() -> None:
    assert verdict() == Accepted(
        sender="01029652189", to_country="82", to="1093446280", message="Hello Infobank", report_req=True
    )


@pytest.mark.parametrize(
    ("changes", "err_code"),
    [
        ({"pwd": "wrong"}, "R002"),
        ({"id": "someone"}, "R002"),
        ({"pwd": None}, "R002"),
        ({"from": "1" * 16}, "R000"),
        ({"from": "1" * 17}, "R004"),
        ({"from": "010-2965-2189"}, "R004"),
        ({"from": ""}, "R004"),
        ({"from": None}, "R004"),
        ({"to_country": "852"}, "R000"),
        ({"to_country": "8520"}, "R003"),
        ({"to_country": "+82"}, "R003"),
        ({"to_country": None}, "R003"),
        ({"to": "1" * 13}, "R000"),
        ({"to": "1" * 14}, "R003"),
        ({"to": "10 9344 6280"}, "R003"),
        ({"to": None}, "R003"),
        ({"report_req": "0"}, "R000"),
        ({"report_req": "2"}, "R007"),
        ({"report_req": None}, "R007"),
        ({"charset": "1"}, "R000"),
        ({"charset": "2"}, "R000"),
        ({"charset": "3"}, "R007"),
        ({"charset": "utf-8"}, "R007"),
        ({"message": ""}, "R005"),
        ({"message": None}, "R005"),
        ({"message": "a" * 2000}, "R000"),
        ({"message": "a" * 2001}, "R005"),
        ({"message": HANGUL * 1000}, "R000"),
        ({"message": HANGUL * 1000 + "a"}, "R005"),
        ({"to_country": "1", "message": "a" * GSM_PART * 10}, "R000"),
        ({"to_country": "1", "message": "a" * (GSM_PART * 10 + 1)}, "R005"),
        ({"title": "t" * 40}, "R000"),
        ({"title": "t" * 41}, "R007"),
        ({"title": HANGUL * 20}, "R000"),
        ({"title": HANGUL * 21}, "R007"),
        ({"ttl": "1"}, "R000"),
        ({"ttl": "86400"}, "R000"),
        ({"ttl": "0"}, "R006"),
        ({"ttl": "-1"}, "R006"),
        ({"ttl": "1.5"}, "R006"),
        ({"ttl": "9" * 11}, "R006"),
        ({"ttl": ""}, "R000"),
        ({"ref": "A" * 20}, "R000"),
        ({"ref": "A" * 21}, "R007"),
        ({"ref": "AA-123"}, "R007"),
        ({"payment_code": "p" * 20}, "R000"),
        ({"payment_code": "p" * 21}, "R007"),
        ({"client_sub_id": "c" * 20}, "R000"),
        ({"client_sub_id": "c" * 21}, "R007"),
        ({"client_sub_id": "가" * 6 + "c" * 2}, "R000"),  # 20 bytes in UTF-8
        ({"client_sub_id": "가" * 7}, "R007"),  # 7 characters, 21 bytes
        ({"origin_cid": "1" * 9}, "R000"),
        ({"origin_cid": "1" * 8}, "R007"),
        ({"origin_cid": "1" * 10}, "R007"),
        ({"origin_cid": "12345678a"}, "R007"),
    ],
)
def test_each_rule_answers_its_err_code_at_the_boundary(
    changes: dict[str, str | None], err_code: str
) -> None:
    assert code_of(**changes) == err_code


@pytest.mark.parametrize(
    ("changes", "err_code"),
    [
        ({"pwd": "wrong", "from": "x"}, "R002"),
        ({"from": "x", "to": "x"}, "R004"),
        ({"to": "x", "message": ""}, "R003"),
        ({"message": "", "ttl": "0"}, "R005"),
        ({"ttl": "0", "ref": "-"}, "R006"),
    ],
)
def test_the_first_broken_rule_decides(changes: dict[str, str], err_code: str) -> None:
    assert code_of(**changes) == err_code


def test_a_refusal_says_which_rule_was_broken() -> None:
    assert verdict(ref="A" * 21) == Refusal("R007", "ref: must be 1-20 letters and digits")


def test_an_euc_kr_message_is_decoded_with_charset_2() -> None:
    accepted = verdict(charset="2", message="안녕하세요".encode("euc_kr"), title="제목".encode("euc_kr"))
    assert isinstance(accepted, Accepted)
    assert (accepted.message, accepted.title) == ("안녕하세요", "제목")


@pytest.mark.parametrize(
    ("charset", "raw"),
    [("1", "안녕".encode("euc_kr")), ("2", b"\xff\xfe"), ("2", "😀".encode())],
)
def test_a_message_that_does_not_decode_in_its_charset_is_r005(charset: str, raw: bytes) -> None:
    assert code_of(charset=charset, message=raw) == "R005"


@pytest.mark.parametrize(
    ("to_country", "text", "expected"),
    [
        ("82", "a" * 90, 1),
        ("82", "a" * 91, 2),
        ("82", HANGUL * 45, 1),
        ("82", HANGUL * 45 + "a", 2),
        ("1", "a" * 500, 1),
    ],
)
def test_a_korean_message_over_90_bytes_becomes_an_lms(to_country: str, text: str, expected: int) -> None:
    accepted = verdict(to_country=to_country, message=text)
    assert isinstance(accepted, Accepted)
    assert msg_type(accepted) == expected


@pytest.mark.parametrize(
    ("to_country", "text", "parts"),
    [
        ("82", "a" * 2000, 1),
        ("1", "a" * 160, 1),
        ("1", "a" * 161, 2),
        ("1", "a" * 350, 3),
        ("1", HANGUL * 70, 1),
        ("1", HANGUL * 71, 2),
    ],
)
def test_billed_parts_are_one_in_korea_and_concatenated_parts_abroad(
    to_country: str, text: str, parts: int
) -> None:
    accepted = verdict(to_country=to_country, message=text)
    assert isinstance(accepted, Accepted)
    assert billed_parts(accepted) == parts


@pytest.mark.parametrize(("to_country", "convertible"), [("82", False), ("1", True)])
def test_an_emoji_to_korea_is_accepted_but_marked_unconvertible(to_country: str, convertible: bool) -> None:
    accepted = verdict(to_country=to_country, message="hi 😀")
    assert isinstance(accepted, Accepted)
    assert accepted.convertible is convertible


def test_the_account_is_configurable() -> None:
    account = Account(id="mine", password="secret")
    assert isinstance(check(fields(id="mine", pwd="secret"), account), Accepted)
    assert check(fields(), account) == Refusal("R002", "id/pwd: not the sandbox's account")
