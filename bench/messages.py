"""The messages the benchmarks send: realistic Korean SMS to distinct handsets (pure)."""

from __future__ import annotations

from typing import Any

from supersms.demo.batch import SENDER
from supersms.protocol.message import validate_message
from supersms.protocol.request import form_fields
from supersms.workers.intake import new_message_id, with_ref

TEXTS = (
    "[인증번호] {n}을 입력해 주세요. 타인에게 알려주지 마세요.",
    "주문하신 상품이 오늘 출발했습니다. 송장번호 6012-{n}",
    "내일 오후 2시 진료 예약이 있습니다. 변경은 1588-1234로 연락 주세요. ({n})",
    "[공지] 오늘 밤 12시부터 2시간 동안 서비스 점검이 있습니다. {n}",
)


def campaign(count: int, *, start: int = 0) -> list[dict[str, Any]]:
    """``count`` messages as a producer passes them to ``send_many``."""
    return [
        {"to": f"010{n % 10**8:08d}", "message": TEXTS[n % len(TEXTS)].format(n=f"{n % 10**6:06d}")}
        for n in range(start, start + count)
    ]


def bare_fields(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The provider's form fields of each message (with a ``ref``), as text: what a bare task POSTs."""
    fields = []
    for raw in messages:
        message = with_ref(
            validate_message(raw, default_sender=SENDER, default_country="82"), new_message_id()
        )
        fields.append({name: value.decode("utf-8") for name, value in form_fields(message).items()})
    return fields
