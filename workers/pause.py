"""The account-wide pause: a systemic provider code holds all sending for a cool-down instead of failing it.

Codes such as R002 (authentication failed), R012 (no permission) and R013 (quota exceeded) would fail every
message alike. The first worker to see one opens the pause, a flag in Redis that expires by itself after the
cool-down; every worker checks it before sending, and queued messages wait instead of being burnt.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from supersms.errors import StoreUnavailable
from supersms.workers import keys

logger = logging.getLogger(__name__)

_OPEN_SCRIPT = (Path(__file__).parent / "pause.lua").read_text(encoding="utf-8")
_NO_END_MS = -1  # PTTL of a pause set by hand without an expiry


@dataclass(frozen=True)
class PauseState:
    """A pause that holds: the provider ``code`` that opened it, why, and when it ends (UTC)."""

    code: str
    reason: str
    until: datetime
    remaining_s: float


class AccountPause:
    """Open, read and lift the one pause shared by every worker (the key :data:`keys.PAUSE`)."""

    def __init__(self, *, redis: Redis, cooldown_s: float, key: str = keys.PAUSE) -> None:
        if not (math.isfinite(cooldown_s) and cooldown_s > 0):
            raise ValueError(f"cooldown_s must be a finite number > 0, got {cooldown_s!r}")
        self.cooldown_s = cooldown_s
        self._redis = redis
        self._key = key
        self._open = redis.register_script(_OPEN_SCRIPT)  # computes the SHA only; nothing connects here

    def open(self, code: str, reason: str) -> PauseState:
        """Hold sending for the cool-down, and return the pause that now holds.

        If a pause already holds, it keeps its code and reason and is extended only when this end is later;
        it is never shortened. Only the call that opens the pause logs it, at ERROR.
        """
        value = json.dumps({"code": code, "reason": reason, "opened_at": datetime.now(UTC).isoformat()})
        cooldown_ms = math.ceil(self.cooldown_s * 1000)
        try:
            opened, remaining_ms, held = self._open(keys=[self._key], args=[value, cooldown_ms])
        except RedisError as e:
            raise StoreUnavailable(f"account pause: Redis failed: {e}") from e
        state = pause_state(held, int(remaining_ms))
        if opened:
            logger.error(
                "account-wide pause opened by provider code %s (%s): nothing is sent for %.1f s, until %s; "
                "queued messages wait",
                state.code,
                state.reason,
                state.remaining_s,
                state.until.isoformat(timespec="seconds"),
            )
        else:
            logger.debug("account-wide pause already holds (%s); code %s seen again", state.code, code)
        return state

    def current(self) -> PauseState | None:
        """The pause that holds now, or None when sending may go on."""
        try:
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(self._key)
                pipe.pttl(self._key)
                held, remaining_ms = pipe.execute()
        except RedisError as e:
            raise StoreUnavailable(f"account pause: Redis failed: {e}") from e
        if held is None or remaining_ms == -2:  # -2 (key gone) cannot follow a value in one MULTI; kept safe
            return None
        return pause_state(held, int(remaining_ms))

    def lift(self) -> bool:
        """End the pause early (an operator's decision); returns whether one held."""
        try:
            lifted = bool(self._redis.delete(self._key))
        except RedisError as e:
            raise StoreUnavailable(f"account pause: Redis failed: {e}") from e
        if lifted:
            logger.warning("account-wide pause lifted early; sending resumes")
        return lifted


def pause_state(held: bytes | str, remaining_ms: int) -> PauseState:
    """The :class:`PauseState` of a stored value with ``remaining_ms`` to go (-1: no end)."""
    code, reason = _parse(held.decode() if isinstance(held, bytes) else held)
    if remaining_ms == _NO_END_MS:
        return PauseState(code, reason, until=datetime.max.replace(tzinfo=UTC), remaining_s=math.inf)
    remaining_s = remaining_ms / 1000
    return PauseState(
        code, reason, until=datetime.now(UTC) + timedelta(seconds=remaining_s), remaining_s=remaining_s
    )


def _parse(text: str) -> tuple[str, str]:
    """Code and reason of a stored value; a value set by hand that is not our JSON is taken as the code."""
    try:
        fields = json.loads(text)
    except ValueError:
        return text, ""
    if not isinstance(fields, dict):
        return text, ""
    return str(fields.get("code", "")), str(fields.get("reason", ""))
