"""Bytes, SMS or LMS, GSM-7 or UCS-2 parts: what a text costs and whether it can reach the handset."""

from __future__ import annotations

import pytest

from supersms.errors import InvalidMessage
from supersms.protocol.measure import (
    GSM_BASIC,
    GSM_EXTENSION,
    LMS_MAX_BYTES,
    MAX_PARTS,
    SMS_MAX_BYTES,
    TITLE_MAX_BYTES,
    Charset,
    Encoding,
    Measure,
    MessageKind,
    gsm_parts,
    korean_bytes,
    measure,
    require_carriable,
)

HANGUL = "가"
EMOJI = "😀"  # outside the BMP: a surrogate pair in UTF-16


def korea(text: str, title: str | None = None, charset: Charset = Charset.UTF8) -> Measure:
    return measure(text, title=title, country="82", charset=charset)


def abroad(text: str, title: str | None = None, charset: Charset = Charset.UTF8) -> Measure:
    return measure(text, title=title, country="1", charset=charset)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0), ("a", 1), ("안", 2), ("안녕 hi", 7), ("똠", 2), ("①", 2)],
)
def test_korean_bytes_count_hangul_as_two_and_ascii_as_one(text: str, expected: int) -> None:
    assert korean_bytes(text) == expected


@pytest.mark.parametrize(
    ("text", "kind", "size"),
    [
        ("a" * SMS_MAX_BYTES, MessageKind.SMS, 90),
        ("a" * (SMS_MAX_BYTES + 1), MessageKind.LMS, 91),
        (HANGUL * 45, MessageKind.SMS, 90),
        (HANGUL * 45 + "a", MessageKind.LMS, 91),
        (HANGUL * 46, MessageKind.LMS, 92),
        ("a" * LMS_MAX_BYTES, MessageKind.LMS, 2000),
        (HANGUL * 1000, MessageKind.LMS, 2000),
    ],
)
def test_to_korea_up_to_90_bytes_is_an_sms_and_more_an_lms(text: str, kind: MessageKind, size: int) -> None:
    assert korea(text) == Measure(kind=kind, encoding=None, bytes=size, parts=1)


@pytest.mark.parametrize("text", ["a" * (LMS_MAX_BYTES + 1), HANGUL * 1000 + "a"])
def test_to_korea_a_body_over_2000_bytes_is_refused(text: str) -> None:
    with pytest.raises(InvalidMessage, match=r"^message: 2001 bytes is over the 2000-byte LMS limit"):
        korea(text)


@pytest.mark.parametrize("charset", list(Charset))
def test_a_euc_kr_body_is_counted_the_same_as_a_utf8_one(charset: Charset) -> None:
    assert korea(HANGUL * 45, charset=charset).kind is MessageKind.SMS
    assert korea(HANGUL * 45 + "a", charset=charset).kind is MessageKind.LMS


@pytest.mark.parametrize("title", ["a" * TITLE_MAX_BYTES, HANGUL * 20, HANGUL * 19 + "ab", "똠" * 20])
def test_a_title_of_40_bytes_is_taken(title: str) -> None:
    assert korea("a" * 100, title=title).kind is MessageKind.LMS


@pytest.mark.parametrize("title", ["a" * (TITLE_MAX_BYTES + 1), HANGUL * 20 + "a", HANGUL * 21])
def test_a_title_over_40_bytes_is_refused(title: str) -> None:
    with pytest.raises(InvalidMessage, match=r"^title: 4[12] bytes is over the 40-byte limit \(EUC-KR"):
        korea("a" * 100, title=title)


def test_a_title_does_not_make_a_short_message_an_lms() -> None:
    assert korea("hello", title="news").kind is MessageKind.SMS


def test_an_euc_kr_title_abroad_is_counted_in_euc_kr() -> None:
    """Sent as EUC-KR, 20 Hangul are 40 bytes, though 60 in UTF-8."""
    assert abroad("hello", title=HANGUL * 20, charset=Charset.EUC_KR).parts == 1
    with pytest.raises(InvalidMessage, match=r"^title: 42 bytes is over the 40-byte limit \(EUC-KR"):
        abroad("hello", title=HANGUL * 21, charset=Charset.EUC_KR)


def test_an_international_title_is_counted_in_utf8() -> None:
    assert abroad("hello", title="é" * 20).parts == 1
    with pytest.raises(InvalidMessage, match=r"^title: 42 bytes is over the 40-byte limit \(UTF-8\)"):
        abroad("hello", title="é" * 21)


def test_the_body_is_checked_before_the_title() -> None:
    with pytest.raises(InvalidMessage, match=r"^message: "):
        korea("a" * 2001, title="a" * 41)


@pytest.mark.parametrize(
    ("text", "charset", "korea_bound"),
    [
        ("똠", Charset.EUC_KR, True),
        ("똠", Charset.EUC_KR, False),
        (EMOJI, Charset.EUC_KR, True),
        (EMOJI, Charset.UTF8, True),
        ("안녕 " + EMOJI, Charset.UTF8, True),
        ("é", Charset.EUC_KR, False),
        ("\ud800", Charset.UTF8, False),  # a lone surrogate cannot be written in UTF-8
    ],
)
def test_characters_the_route_cannot_carry_are_refused_by_name(
    text: str, charset: Charset, korea_bound: bool
) -> None:
    bad = text[-1]
    with pytest.raises(InvalidMessage) as caught:
        require_carriable(text, charset, korea=korea_bound, field="message")
    assert caught.value.field == "message"
    assert f"character {bad!r} cannot be sent" in caught.value.rule


@pytest.mark.parametrize(
    ("text", "charset", "korea_bound"),
    [
        ("똠", Charset.UTF8, True),  # beyond KS X 1001, but in cp949: carriers convert it
        ("안녕하세요 ①②", Charset.EUC_KR, True),
        ("hello", Charset.EUC_KR, False),
        (EMOJI, Charset.UTF8, False),
        ("é€", Charset.UTF8, False),
        ("", Charset.EUC_KR, True),
    ],
)
def test_characters_the_route_can_carry_pass(text: str, charset: Charset, korea_bound: bool) -> None:
    require_carriable(text, charset, korea=korea_bound, field="message")


def test_the_euc_kr_codec_does_not_raise_for_ttom_so_strictness_is_checked_apart() -> None:
    assert len("똠".encode("euc_kr")) == 8  # a jamo sequence the carriers would not read as 똠
    with pytest.raises(InvalidMessage, match=r"^message: character '똠' cannot be sent in euc-kr$"):
        korea("똠", charset=Charset.EUC_KR)
    assert korea("똠", charset=Charset.UTF8).bytes == 2


def test_an_emoji_to_korea_is_refused() -> None:
    with pytest.raises(InvalidMessage, match=f"^message: character '{EMOJI}' cannot be sent to Korea"):
        korea("hi " + EMOJI)


def test_an_uncarriable_title_is_refused_under_its_own_name() -> None:
    with pytest.raises(InvalidMessage, match=r"^title: character '똠'"):
        korea("hello", title="똠", charset=Charset.EUC_KR)


def test_the_field_named_in_errors_can_be_chosen() -> None:
    with pytest.raises(InvalidMessage, match=r"^body: "):
        measure(EMOJI, title=None, country="82", charset=Charset.UTF8, field="body")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 1),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 350, 3),  # the provider's own example: 153 + 153 + 44
        *[("a" * (153 * k), k) for k in range(2, MAX_PARTS + 1)],
        *[("a" * (153 * k + 1), k + 1) for k in range(2, MAX_PARTS + 1)],
    ],
)
def test_gsm_text_is_160_in_one_part_and_153_per_part_once_split(text: str, parts: int) -> None:
    assert gsm_parts(text) == (Encoding.GSM7, parts)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("€" * 80, 1),  # 160 septets
        ("€" * 80 + "a", 2),
        ("a" * 159 + "€", 2),  # 161 septets
        ("a" * 152 + "€" + "a" * 152, 3),  # 306 septets, but the escape pair cannot straddle parts 1 and 2
        ("a" * 153 + "€" + "a" * 151, 2),
    ],
)
def test_gsm_extension_characters_take_two_septets_and_stay_whole(text: str, parts: int) -> None:
    assert gsm_parts(text) == (Encoding.GSM7, parts)


@pytest.mark.parametrize("char", list(GSM_EXTENSION))
def test_every_extension_character_counts_two(char: str) -> None:
    assert gsm_parts(char * 80) == (Encoding.GSM7, 1)
    assert gsm_parts(char * 81) == (Encoding.GSM7, 2)


def test_the_whole_basic_alphabet_is_gsm() -> None:
    assert gsm_parts(GSM_BASIC) == (Encoding.GSM7, 1)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (HANGUL * 70, 1),
        (HANGUL * 71, 2),
        ("a" * 69 + HANGUL, 1),  # one non-GSM character makes the whole message UCS-2
        ("a" * 70 + HANGUL, 2),
        ("ç" * 71, 2),  # ç is not in GSM-7 (only Ç is)
        *[(HANGUL * (67 * k), k) for k in range(2, MAX_PARTS + 1)],
        *[(HANGUL * (67 * k + 1), k + 1) for k in range(2, MAX_PARTS + 1)],
    ],
)
def test_ucs2_text_is_70_in_one_part_and_67_per_part_once_split(text: str, parts: int) -> None:
    assert gsm_parts(text) == (Encoding.UCS2, parts)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (EMOJI * 35, 1),  # 70 UTF-16 code units
        (EMOJI * 35 + "a", 2),
        (HANGUL * 69 + EMOJI, 2),  # 71 code units
        (HANGUL * 66 + EMOJI + HANGUL * 66, 3),  # 134 units, but the pair cannot straddle parts 1 and 2
        (HANGUL * 67 + EMOJI + HANGUL * 65, 2),
    ],
)
def test_a_surrogate_pair_counts_two_units_and_is_never_split(text: str, parts: int) -> None:
    assert gsm_parts(text) == (Encoding.UCS2, parts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, Measure(kind=None, encoding=Encoding.GSM7, bytes=140, parts=1)),
        ("a" * 350, Measure(kind=None, encoding=Encoding.GSM7, bytes=307, parts=3)),
        (HANGUL * 70, Measure(kind=None, encoding=Encoding.UCS2, bytes=140, parts=1)),
        (EMOJI, Measure(kind=None, encoding=Encoding.UCS2, bytes=4, parts=1)),
    ],
)
def test_international_messages_are_measured_in_parts_and_bytes_on_the_air(
    text: str, expected: Measure
) -> None:
    assert abroad(text) == expected


@pytest.mark.parametrize(
    ("text", "encoding"),
    [("a" * (153 * MAX_PARTS + 1), "gsm7"), (HANGUL * (67 * MAX_PARTS + 1), "ucs2")],
)
def test_an_international_message_over_the_part_cap_is_refused(text: str, encoding: str) -> None:
    with pytest.raises(
        InvalidMessage, match=rf"^message: needs 11 SMS parts \({encoding}\), over the limit of 10"
    ):
        abroad(text)


def test_an_international_message_at_the_part_cap_is_taken() -> None:
    assert abroad("a" * (153 * MAX_PARTS)).parts == MAX_PARTS
    assert abroad(HANGUL * (67 * MAX_PARTS)).parts == MAX_PARTS


@pytest.mark.parametrize(
    ("charset", "provider_value", "codec"),
    [(Charset.UTF8, "1", "utf-8"), (Charset.EUC_KR, "2", "euc_kr")],
)
def test_charsets_know_their_provider_code_and_codec(
    charset: Charset, provider_value: str, codec: str
) -> None:
    assert charset.provider_value == provider_value
    assert charset.codec == codec


def test_a_character_outside_ks_x_1001_always_takes_more_euc_kr_bytes_than_cp949() -> None:
    # Why a whole text can be checked for strict EUC-KR by encoding it at once: a character outside KS X 1001
    # makes the euc_kr bytes longer, never the same length with other bytes, so no difference can hide.
    differing = []
    for code_point in range(0x110000):
        char = chr(code_point)
        try:
            euc_kr, cp949 = char.encode("euc_kr"), char.encode("cp949")
        except UnicodeEncodeError:
            continue
        if euc_kr != cp949:
            differing.append(char)
            assert len(euc_kr) > len(cp949), char
    assert "똠" in differing


@pytest.mark.parametrize(
    ("text", "charset", "korea_bound", "bad"),
    [
        ("안녕 똠 ①", Charset.EUC_KR, True, "똠"),
        ("a" * 50 + EMOJI + "똠", Charset.UTF8, True, EMOJI),
        ("가나다 똠 뷁 " + EMOJI, Charset.EUC_KR, False, "똠"),
        ("ok \ud800 \udfff", Charset.UTF8, False, "\ud800"),
    ],
)
def test_the_first_character_that_cannot_be_carried_is_named(
    text: str, charset: Charset, korea_bound: bool, bad: str
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        require_carriable(text, charset, korea=korea_bound, field="title")
    assert caught.value.field == "title"
    assert caught.value.rule.startswith(f"character {bad!r} cannot be sent")
