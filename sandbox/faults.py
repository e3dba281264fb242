"""What the sandbox does wrong on purpose, and how it is told to.

:class:`Faults` is one frozen value: set when the sandbox starts and replaced, field by field, while it
runs (``POST /_sandbox/faults`` with a JSON object). :meth:`Faults.merged` validates every change and names
the field it refuses, so a typo in a drill fails loudly instead of being ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

SUBMIT_CODE = re.compile(r"R\d{3}")
REPORT_CODE = re.compile(r"\d{4}")
DEFAULT_REPORT_DELAY_S = 0.5
DEFAULT_REPORT_RETRY_DELAY_S = 1.0


class FaultError(ValueError):
    """A fault setting is malformed; ``str()`` names the field and the rule."""

    def __init__(self, name: str, rule: str) -> None:
        super().__init__(f"{name}: {rule}")
        self.name = name
        self.rule = rule


@dataclass(frozen=True)
class Faults:
    """Every fault and timing knob of the sandbox; the defaults are a healthy provider.

    - ``script``: err_codes answered one per send request, in order, before any normal processing
      (``("R001", "R001")`` answers busy twice, then behaves).
    - ``force_code``: answered to every send request until cleared (``None``).
    - ``code_for_to``: recipient number → err_code answered for it once the request is otherwise valid.
    - ``capacity_per_s``: sends admitted in any sliding second; those above answer R009 (``None``: no limit).
    - ``latency_s``: wait before answering a send request (its reports are already on their way).
    - ``report_delay_s``: wait between accepting a message and calling its report back.
    - ``report_retry_delay_s``: wait before each of the 3 retries of a report the client did not acknowledge.
    - ``report_codes``: final report err_code → weight (``{"1000": 0.9, "2003": 0.1}``).
    - ``report_before_reply``: deliver the reports before answering the send request.
    - ``duplicate_reports``: deliver every report twice.
    - ``intermediate_reports``: precede the final report by a ``rslt_type=3`` (DLR information) one.
    - ``typographic_quotes``: write ``cnt=”1”`` in replies, as the provider's page prints it.
    - ``drop_after_read``: read a send request, accept it, then close the connection without answering.
    """

    script: tuple[str, ...] = ()
    force_code: str | None = None
    code_for_to: Mapping[str, str] = field(default_factory=dict)
    capacity_per_s: int | None = None
    latency_s: float = 0.0
    report_delay_s: float = DEFAULT_REPORT_DELAY_S
    report_retry_delay_s: float = DEFAULT_REPORT_RETRY_DELAY_S
    report_codes: Mapping[str, float] = field(default_factory=lambda: {"1000": 1.0})
    report_before_reply: bool = False
    duplicate_reports: bool = False
    intermediate_reports: bool = False
    typographic_quotes: bool = False
    drop_after_read: bool = False

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            object.__setattr__(self, item.name, _CHECKS[item.name](item.name, value))

    def merged(self, changes: Mapping[str, Any]) -> Faults:
        """A copy with ``changes`` applied; raise :class:`FaultError` on an unknown field or a bad value."""
        unknown = sorted(set(changes) - set(_CHECKS))
        if unknown:
            raise FaultError(unknown[0], "no such fault")
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (the shape ``merged`` accepts)."""
        data = asdict(self)
        data["script"] = list(self.script)
        data["code_for_to"] = dict(self.code_for_to)
        data["report_codes"] = dict(self.report_codes)
        return data


def _bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise FaultError(name, "must be true or false")
    return value


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3600:
        raise FaultError(name, "must be a number of seconds from 0 to 3600")
    return float(value)


def _capacity(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FaultError(name, "must be a whole number of sends per second, or null for no limit")
    return value


def _submit_code(name: str, value: object) -> str:
    if not isinstance(value, str) or not SUBMIT_CODE.fullmatch(value):
        raise FaultError(name, "must be an err_code such as R001")
    return value


def _optional_code(name: str, value: object) -> str | None:
    return None if value is None else _submit_code(name, value)


def _script(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise FaultError(name, "must be a list of err_codes such as R001")
    return tuple(_submit_code(name, code) for code in value)


def _code_for_to(name: str, value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise FaultError(name, "must map recipient numbers to err_codes")
    for number, code in value.items():
        if not isinstance(number, str) or not number.isdigit():
            raise FaultError(name, "recipient numbers must be digits")
        _submit_code(name, code)
    return dict(value)


def _report_codes(name: str, value: object) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise FaultError(name, "must map report err_codes to weights")
    for code, weight in value.items():
        if not isinstance(code, str) or not REPORT_CODE.fullmatch(code):
            raise FaultError(name, "report err_codes are 4 digits such as 1000")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise FaultError(name, "weights must be numbers of at least 0")
    if sum(value.values()) <= 0:
        raise FaultError(name, "at least one weight must be above 0")
    return {code: float(weight) for code, weight in value.items()}


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "script": _script,
    "force_code": _optional_code,
    "code_for_to": _code_for_to,
    "capacity_per_s": _capacity,
    "latency_s": _seconds,
    "report_delay_s": _seconds,
    "report_retry_delay_s": _seconds,
    "report_codes": _report_codes,
    "report_before_reply": _bool,
    "duplicate_reports": _bool,
    "intermediate_reports": _bool,
    "typographic_quotes": _bool,
    "drop_after_read": _bool,
}


def parse_report_codes(text: str) -> dict[str, float]:
    """Read a mix written ``1000=0.9,2003=0.1`` (a bare code weighs 1); raise :class:`FaultError`."""
    mix: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        code, _, weight = item.partition("=")
        try:
            mix[code.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise FaultError("report_codes", f"bad weight in {item!r}") from None
    return _report_codes("report_codes", mix)
