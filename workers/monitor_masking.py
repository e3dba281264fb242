"""Masking what a monitor (Flower) takes in: task events and the workers' inspect replies (invariant 7).

The worker masks the arguments of the events it sends itself (:mod:`supersms.tasks.requests`), but a monitor
also hears other voices: a producer that publishes ``supersms.send`` with full keyword arguments sends a
``task-sent`` event carrying them, and a worker's ``inspect reserved``/``scheduled`` replies hold the raw
arguments. So the monitor masks everything once more as it arrives: phone numbers and message text under
their field names, at any depth; an argument text it cannot read is hidden whole.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from supersms.workers.masking import NUMBER_FIELDS, TEXT_FIELDS, mask_number

HIDDEN = "<hidden>"
MAX_REPR_CHARS = 65_536
SEND_TASK = "supersms.send"
ARGUMENT_FIELDS = ("args", "kwargs")
REQUEST_LISTS = frozenset({"active", "reserved", "scheduled"})
_MASKED_TEXT = re.compile(r"<\d+ chars>")


def mask_value(value: Any) -> Any:
    """``value`` with every number and text field masked, in dicts, lists and tuples at any depth."""
    if isinstance(value, Mapping):
        return {name: _mask_field(name, item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_value(item) for item in value)
    return value


def mask_repr(text: str) -> str:
    """A ``repr`` of arguments, masked; :data:`HIDDEN` when it is not a readable Python literal."""
    if len(text) > MAX_REPR_CHARS:
        return HIDDEN
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return HIDDEN
    return repr(mask_value(value))


def mask_arguments(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A task event or request info with ``args`` and ``kwargs`` masked, whether reprs or values.

    ``supersms.send`` takes keyword arguments only, so positional ones shown for it are hidden whole.
    """
    masked = dict(fields)
    for name in ARGUMENT_FIELDS:
        if name not in masked or masked[name] is None:
            continue
        value = masked[name]
        masked[name] = mask_repr(value) if isinstance(value, str) else mask_value(value)
    if masked.get("name") == SEND_TASK and masked.get("args") not in (None, "()", "[]", (), []):
        masked["args"] = HIDDEN
    return masked


def mask_event(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """A Celery event as a monitor may keep it: task events masked, other events as they are."""
    if not str(event.get("type", "")).startswith("task-"):
        return event
    return mask_arguments(event)


def mask_inspect_reply(method: str, reply: Any) -> Any:
    """A worker's reply to ``inspect <method>`` with the task arguments in it masked."""
    if method not in REQUEST_LISTS or not isinstance(reply, list):
        return reply
    return [_mask_listed_request(item) for item in reply]


def _mask_listed_request(item: Any) -> Any:
    if not isinstance(item, Mapping):
        return item
    if isinstance(item.get("request"), Mapping):  # ``scheduled`` wraps the request with its eta
        return {**item, "request": mask_arguments(item["request"])}
    return mask_arguments(item)


def _mask_field(name: Any, value: Any) -> Any:
    if name in NUMBER_FIELDS and isinstance(value, str | int):
        return mask_number(str(value))
    if name in TEXT_FIELDS and isinstance(value, str):
        return value if _MASKED_TEXT.fullmatch(value) else f"<{len(value)} chars>"
    return mask_value(value)
