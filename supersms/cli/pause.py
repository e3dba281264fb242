"""``supersms pause [--lift]``: show the account-wide pause, or lift it early."""

from __future__ import annotations

import argparse
import json

from supersms.settings import Settings
from supersms.workers.pause import AccountPause
from supersms.workers.redis_io import connect


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="supersms pause", description="Show or lift the account-wide pause.")
    p.add_argument("--lift", action="store_true", help="end the pause now (after fixing its cause)")
    args = p.parse_args(argv)
    settings = Settings.from_env()
    pause = AccountPause(redis=connect(settings.redis_url), cooldown_s=settings.pause_s)
    if args.lift:
        print(json.dumps({"lifted": pause.lift()}))
        return 0
    state = pause.current()
    if state is None:
        print(json.dumps({"paused": False}))
    else:
        print(
            json.dumps(
                {
                    "paused": True,
                    "code": state.code,
                    "reason": state.reason,
                    "until": state.until.isoformat(),
                    "remaining_s": round(state.remaining_s, 1),
                }
            )
        )
    return 0
