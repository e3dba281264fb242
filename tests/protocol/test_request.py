"""The send request's form fields, and how they look once URL-encoded for the provider."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from supersms.protocol.message import Charset, Message
from supersms.protocol.request import form_fields

URL = "https://rest.supersms.co/sms/xml"
HELLO = Message(to_country="82", to="1093446280", sender="01029652189", text="안녕")


def test_the_mandatory_fields_are_sent_with_reports_and_an_explicit_charset() -> None:
    assert form_fields(HELLO) == {
        "from": b"01029652189",
        "to_country": b"82",
        "to": b"1093446280",
        "message": "안녕".encode(),
        "report_req": b"1",
        "charset": b"1",
    }


def test_credentials_are_left_to_the_client() -> None:
    assert not {"id", "pwd"} & set(form_fields(HELLO))


LONG_KOREAN = "안녕하세요 " * 16  # 96 EUC-KR bytes: an LMS


def test_every_optional_field_is_sent_when_set() -> None:
    message = Message(
        to_country="82",
        to="1093446280",
        sender="01029652189",
        text=LONG_KOREAN,
        title="Hi",
        ref="AA123456789",
        ttl_s=86400,
        charset=Charset.UTF8,
        payment_code="dept-7",
        client_sub_id="brand 2",
        origin_cid="123456789",
    )
    fields = form_fields(message)
    assert {
        name: fields[name] for name in ("title", "ref", "ttl", "payment_code", "client_sub_id", "origin_cid")
    } == {
        "title": b"Hi",
        "ref": b"AA123456789",
        "ttl": b"86400",
        "payment_code": b"dept-7",
        "client_sub_id": b"brand 2",
        "origin_cid": b"123456789",
    }


@pytest.mark.parametrize(
    ("to_country", "to", "text"),
    [("82", "1093446280", "짧은 문자"), ("1", "2025550123", "Hello " * 30)],
    ids=["Korean SMS", "international"],
)
def test_a_title_goes_only_with_a_korean_lms(to_country: str, to: str, text: str) -> None:
    message = Message(to_country=to_country, to=to, sender="01029652189", text=text, title="제목")
    assert "title" not in form_fields(message)


@pytest.mark.parametrize(
    ("sender", "to_country", "sent"),
    [
        ("01029652189", "82", b"01029652189"),
        ("821029652189", "82", b"01029652189"),
        ("01029652189", "1", b"821029652189"),
        ("821029652189", "1", b"821029652189"),
        ("15881234", "1", b"15881234"),
        ("14155552671", "82", b"14155552671"),
    ],
)
def test_the_sender_is_written_as_the_page_asks_for_the_destination(
    sender: str, to_country: str, sent: bytes
) -> None:
    message = Message(to_country=to_country, to="2025550123", sender=sender, text="Hello")
    assert form_fields(message)["from"] == sent


def test_the_validity_left_is_sent_instead_of_the_messages_own_ttl() -> None:
    message = Message(to_country="82", to="1093446280", sender="01029652189", text="안녕", ttl_s=3600)
    assert form_fields(message)["ttl"] == b"3600"
    assert form_fields(message, ttl_s=1234)["ttl"] == b"1234"
    assert form_fields(HELLO, ttl_s=60)["ttl"] == b"60"


@pytest.mark.parametrize(
    ("charset", "code", "encoded"),
    [(Charset.EUC_KR, "2", "%BE%C8%B3%E7"), (Charset.UTF8, "1", "%EC%95%88%EB%85%95")],
)
def test_urlencode_writes_the_body_in_the_chosen_charset(charset: Charset, code: str, encoded: str) -> None:
    message = Message(to_country="82", to="1093446280", sender="01029652189", text="안녕", charset=charset)
    query = urlencode(form_fields(message))
    assert f"message={encoded}" in query
    assert f"charset={code}" in query


def test_a_euc_kr_title_is_encoded_like_the_body() -> None:
    message = Message(
        to_country="82",
        to="1093446280",
        sender="01029652189",
        text=LONG_KOREAN,
        title="안녕",
        charset=Charset.EUC_KR,
    )
    assert "title=%BE%C8%B3%E7" in urlencode(form_fields(message))


def test_requests_posts_the_same_bytes_as_a_form() -> None:
    message = Message(
        to_country="82", to="1093446280", sender="01029652189", text="안녕 hi", charset=Charset.EUC_KR
    )
    prepared = requests.Request("POST", URL, data=form_fields(message)).prepare()
    assert prepared.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert isinstance(prepared.body, str)
    assert "message=%BE%C8%B3%E7+hi" in prepared.body


def test_requests_puts_the_same_bytes_in_a_get_query() -> None:
    message = Message(
        to_country="82", to="1093446280", sender="01029652189", text="안녕", charset=Charset.EUC_KR
    )
    prepared = requests.Request("GET", URL, params=form_fields(message)).prepare()
    assert prepared.url is not None
    assert "message=%BE%C8%B3%E7" in urlsplit(prepared.url).query


@pytest.mark.parametrize("charset", list(Charset))
def test_the_provider_decodes_the_text_back_in_the_charset_it_is_told(charset: Charset) -> None:
    text = "[공지] 내일 10시 & 50% 할인 + 무료수신거부 080-000-0000\n"
    message = Message(to_country="82", to="1093446280", sender="01029652189", text=text, charset=charset)
    received = parse_qs(urlencode(form_fields(message)), encoding=charset.codec, keep_blank_values=True)
    assert received["message"] == [text]
    assert received["charset"] == [charset.provider_value]
