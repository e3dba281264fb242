"""What task arguments look like in Flower and logs: numbers and text masked (invariant 7).

Used both when publishing (``kwargsrepr``) and by the worker's task requests, so arguments of tasks that
other producers enqueued unmasked are masked in the worker's own events too.
"""

from __future__ import annotations

from collections.abc import Mapping

NUMBER_FIELDS = frozenset({"to", "from"})
TEXT_FIELDS = frozenset({"message", "title"})
VISIBLE_HEAD = 4
VISIBLE_TAIL = 2


def mask_number(number: str) -> str:
    """``1093446280`` → ``1093****80``: enough to tell numbers apart, not enough to dial."""
    if len(number) <= VISIBLE_HEAD + VISIBLE_TAIL:
        return "*" * len(number)
    hidden = len(number) - VISIBLE_HEAD - VISIBLE_TAIL
    return number[:VISIBLE_HEAD] + "*" * hidden + number[-VISIBLE_TAIL:]


def mask_fields(fields: Mapping[str, object]) -> dict[str, object]:
    """Task kwargs with numbers masked and message text replaced by its length."""
    masked: dict[str, object] = {}
    for name, value in fields.items():
        if name in NUMBER_FIELDS:
            masked[name] = mask_number(str(value))
        elif name in TEXT_FIELDS:
            masked[name] = f"<{len(str(value))} chars>"
        else:
            masked[name] = value
    return masked


def masked_repr(fields: Mapping[str, object]) -> str:
    """The ``kwargsrepr`` of a send task."""
    return repr(mask_fields(fields))
