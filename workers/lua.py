"""The Lua scripts beside these modules, registered with a Redis client.

Scripts that can finish a record are registered with ``announces=True``: the shared ``announce`` function
(``announce.lua``) is prepended, so the final status reaches the events stream in the same atomic step as
the change that made it final, and a process dying between the two cannot lose the event.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import redis
from redis.commands.core import Script

LUA_DIR = Path(__file__).parent


@cache
def source(name: str, *, announces: bool = False) -> str:
    """The text of ``<name>.lua``, after the announce function when ``announces``."""
    body = (LUA_DIR / f"{name}.lua").read_text(encoding="utf-8")
    if not announces:
        return body
    return (LUA_DIR / "announce.lua").read_text(encoding="utf-8") + "\n" + body


def register(client: redis.Redis, name: str, *, announces: bool = False) -> Script:
    """``<name>.lua`` as a callable script (computes the SHA only; nothing connects here)."""
    return client.register_script(source(name, announces=announces))
