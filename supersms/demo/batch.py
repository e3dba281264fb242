"""The demo's batch: what a Korean sender really sends, and what the sandbox does to some of it.

Pure: :func:`build_batch` gives the same messages and faults for the same count. The mix, per 20 messages:
9 Korean SMS, 4 Korean LMS (over 90 EUC-KR bytes, with a title), 4 in English to Korean handsets and 3
international (+1, +81, +44). Two Korean recipients are refused by the sandbox (R003 bad recipient, R010
sender not registered); about one send in 15 meets R001 or R009 first and is retried; final reports are
mostly ``1000`` with some ``2003`` (handset off) and ``3001`` (no such subscriber).
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from supersms.sandbox.faults import Faults

MAX_COUNT = 10_000
SENDER = "0212345678"
"""The demo's sender number (a Seoul landline), as a worker's ``SUPERSMS_FROM``."""
REFUSED = {"010-9999-0003": "R003", "010-9999-0010": "R010"}
"""Korean recipients the sandbox refuses, and the err_code it answers for each."""
REFUSED_FROM_COUNT = 10
"""Batches this small or smaller have no refused message."""
RETRY_EVERY = 15
"""One send request in this many is answered R001 or R009 (alternately) before being retried."""
REPORT_CODES = {"1000": 0.9, "2003": 0.06, "3001": 0.04}
REPORT_DELAY_S = 0.3
LATENCY_S = 0.02


class Kind(StrEnum):
    """The kinds of message in the batch."""

    KOREAN_SMS = "Korean SMS"
    KOREAN_LMS = "Korean LMS"
    ENGLISH = "English to Korea"
    INTERNATIONAL = "international"
    REFUSED = "refused by the provider"


_S, _L, _E, _I = Kind.KOREAN_SMS, Kind.KOREAN_LMS, Kind.ENGLISH, Kind.INTERNATIONAL
CYCLE = (_S, _L, _S, _E, _S, _I, _S, _L, _E, _S, _S, _I, _E, _S, _L, _S, _E, _I, _S, _L)

KOREAN_SMS = (
    "[인증번호] {code}을 입력해 주세요. 타인에게 알려주지 마세요.",
    "주문하신 상품이 오늘 출발했습니다. 송장번호 6012-{code}",
    "내일 오후 2시 진료 예약이 있습니다. 변경은 1588-1234로 연락 주세요.",
    "[공지] 오늘 밤 12시부터 2시간 동안 서비스 점검이 있습니다.",
)
KOREAN_LMS = (
    (
        "[정기 점검 안내]",
        "안녕하세요, 고객님. 더 나은 서비스를 위해 아래와 같이 정기 점검을 진행합니다.\n"
        "일시: 11월 28일(토) 02:00~06:00\n점검 중에는 앱과 홈페이지 이용이 제한됩니다.\n"
        "이용에 불편을 드려 죄송합니다. 문의 {code}",
    ),
    (
        "[배송 안내]",
        "주문하신 상품이 배송을 시작했습니다.\n상품: 겨울용 패딩 점퍼 외 2건\n"
        "도착 예정: 내일 오후\n부재 시 문 앞에 두고 가겠습니다. 주문번호 {code}",
    ),
)
ENGLISH = (
    "Your verification code is {code}. It expires in 3 minutes.",
    "Your order {code} has shipped and arrives tomorrow.",
)
INTERNATIONAL = (
    ("+1 415 555 2671", "Your booking {code} is confirmed for Nov 28, 7:00 PM."),
    ("+81 90-1234-5678", "ご予約ありがとうございます。確認番号 {code}"),
    ("+44 20 7946 0958", "Your parcel {code} is out for delivery today."),
)


@dataclass(frozen=True)
class DemoMessage:
    """One message of the batch: its kind, and the fields ``send_many`` takes."""

    kind: Kind
    fields: Mapping[str, str]


@dataclass(frozen=True)
class DemoBatch:
    """The messages to send and the faults the sandbox is to answer them with."""

    messages: tuple[DemoMessage, ...]
    faults: Faults

    def kinds(self) -> dict[Kind, int]:
        """How many messages of each kind, in :class:`Kind` order."""
        counts = collections.Counter(message.kind for message in self.messages)
        return {kind: counts[kind] for kind in Kind if counts[kind]}

    def retried_sends(self) -> int:
        """How many send requests the sandbox answers R001 or R009 before behaving."""
        return sum(code != "R000" for code in self.faults.script)

    def describe(self) -> str:
        """One line: the count and the mix."""
        kinds = ", ".join(f"{count} {kind}" for kind, count in self.kinds().items())
        return f"{len(self.messages)} messages ({kinds}); {self.retried_sends()} sends meet R001/R009 first"


def build_batch(count: int) -> DemoBatch:
    """``count`` messages (1 to :data:`MAX_COUNT`) in the demo's mix, with the sandbox faults they meet."""
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count must be 1-{MAX_COUNT}, got {count}")
    messages = [_message(index) for index in range(count)]
    refused_at = _refused_positions(count)
    for position, number in zip(refused_at, REFUSED, strict=False):
        messages[position] = DemoMessage(Kind.REFUSED, {"to": number, "message": "결제가 완료되었습니다."})
    return DemoBatch(messages=tuple(messages), faults=demo_faults(count))


def demo_faults(count: int) -> Faults:
    """The sandbox's behaviour for a batch of ``count``: refusals, busy answers, report mix and timing."""
    script = tuple(_scripted_code(index) for index in range(count))
    return Faults(
        script=script,
        code_for_to={_national(number): code for number, code in REFUSED.items()},
        latency_s=LATENCY_S,
        report_delay_s=REPORT_DELAY_S,
        report_codes=REPORT_CODES,
    )


def _message(index: int) -> DemoMessage:
    kind = CYCLE[index % len(CYCLE)]
    code = f"{(index * 7919) % 1_000_000:06d}"  # varied, repeatable digits for codes and order numbers
    if kind is Kind.KOREAN_LMS:
        title, text = KOREAN_LMS[index % len(KOREAN_LMS)]
        return DemoMessage(kind, {"to": _korean(index), "title": title, "message": text.format(code=code)})
    if kind is Kind.INTERNATIONAL:
        number, text = INTERNATIONAL[index % len(INTERNATIONAL)]
        return DemoMessage(kind, {"to": number, "message": text.format(code=code)})
    texts = KOREAN_SMS if kind is Kind.KOREAN_SMS else ENGLISH
    return DemoMessage(kind, {"to": _korean(index), "message": texts[index % len(texts)].format(code=code)})


def _korean(index: int) -> str:
    """A distinct Korean mobile number per index: 010-3000-0000, 010-3000-0001, ..."""
    return f"010-{3000 + index // 10_000}-{index % 10_000:04d}"


def _national(number: str) -> str:
    """``010-9999-0003`` as the provider's ``to``: ``1099990003``."""
    return number.replace("-", "")[1:]


def _refused_positions(count: int) -> list[int]:
    if count <= REFUSED_FROM_COUNT:
        return []
    return [count // 3, (2 * count) // 3]


def _scripted_code(index: int) -> str:
    if index % RETRY_EVERY != RETRY_EVERY // 2:
        return "R000"
    return "R001" if (index // RETRY_EVERY) % 2 == 0 else "R009"
