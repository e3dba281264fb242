"""``supersms pause [--lift]``: show the account-wide pause, or lift it early."""

from __future__ import annotations

import json
import math

from supersms.cli.main import CommandParser
from supersms.settings import Settings
from supersms.workers.pause import AccountPause, PauseState
from supersms.workers.redis_io import connect


def main(argv: list[str]) -> int:
    """Print the pause as one JSON object, or lift it with ``--lift`` (printing whether one held)."""
    p = CommandParser(prog="supersms pause", description="Show or lift the account-wide pause.")
    p.add_argument("--lift", action="store_true", help="end the pause now (after fixing its cause)")
    args = p.parse_args(argv)
    settings = Settings.from_env()
    pause = AccountPause(redis=connect(settings.redis_url), cooldown_s=settings.pause_s)
    if args.lift:
        print(json.dumps({"lifted": pause.lift()}))
        return 0
    print(json.dumps(_view(pause.current())))
    return 0


def _view(state: PauseState | None) -> dict[str, object]:
    """The pause as one JSON object; a pause set by hand without an expiry has no ``until`` (null)."""
    if state is None:
        return {"paused": False}
    ends = math.isfinite(state.remaining_s)  # JSON has no Infinity
    return {
        "paused": True,
        "code": state.code,
        "reason": state.reason,
        "until": state.until.isoformat() if ends else None,
        "remaining_s": round(state.remaining_s, 1) if ends else None,
    }
