"""The Lua scripts beside these modules, registered with a Redis client.

A script may use shared functions from library files (``uses=``), whose text is prepended to it:
- ``announce``: scripts that can finish a record publish the final status to the events stream in the same
  atomic step as the change that made it final, so a process dying between the two cannot lose the event;
- ``gcra``: the global rate limiter's slot reservation, used alone and inside the claim of an attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import redis
from redis.commands.core import Script
from redis.exceptions import NoScriptError
from redis.typing import EncodableT

from supersms.workers.held_connections import HeldConnections

LUA_DIR = Path(__file__).parent


@cache
def source(name: str, uses: tuple[str, ...] = ()) -> str:
    """The text of ``<name>.lua`` after the text of each library it uses."""
    parts = [(LUA_DIR / f"{part}.lua").read_text(encoding="utf-8") for part in (*uses, name)]
    return "\n".join(parts)


def register(client: redis.Redis, name: str, *, uses: tuple[str, ...] = ()) -> Script:
    """``<name>.lua`` as a callable script (computes the SHA only; nothing connects here)."""
    return client.register_script(source(name, uses))


class HeldScript:
    """A registered script run on :class:`HeldConnections`: one ``EVALSHA`` per call, and ``EVAL`` (which
    caches it again) when Redis no longer knows it, after a restart or ``SCRIPT FLUSH``.

    Every script so run must be safe to run twice (see :meth:`HeldConnections.execute`).
    """

    def __init__(self, script: Script, connections: HeldConnections) -> None:
        self._script = script
        self._connections = connections

    def __call__(self, *, keys: Sequence[EncodableT], args: Sequence[EncodableT]) -> Any:
        numkeys_keys_args = (len(keys), *keys, *args)
        try:
            return self._connections.execute("EVALSHA", self._script.sha, *numkeys_keys_args)
        except NoScriptError:
            return self._connections.execute("EVAL", self._script.script, *numkeys_keys_args)
