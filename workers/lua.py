"""The Lua scripts beside these modules, registered with a Redis client.

A script may use shared functions from library files (``uses=``), whose text is prepended to it:
- ``announce``: scripts that can finish a record publish the final status to the events stream in the same
  atomic step as the change that made it final, so a process dying between the two cannot lose the event;
- ``gcra``: the global rate limiter's slot reservation, used alone and inside the claim of an attempt.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import redis
from redis.commands.core import Script

LUA_DIR = Path(__file__).parent


@cache
def source(name: str, uses: tuple[str, ...] = ()) -> str:
    """The text of ``<name>.lua`` after the text of each library it uses."""
    parts = [(LUA_DIR / f"{part}.lua").read_text(encoding="utf-8") for part in (*uses, name)]
    return "\n".join(parts)


def register(client: redis.Redis, name: str, *, uses: tuple[str, ...] = ()) -> Script:
    """``<name>.lua`` as a callable script (computes the SHA only; nothing connects here)."""
    return client.register_script(source(name, uses))
