"""What one serving process needs, built inside that process: its Redis client, spool file and replayer.

gunicorn loads the app and then forks workers; sockets, locks on spool files and threads do not survive a
fork in a useful state, so each process builds its own on first use (or right after the fork, through the
server's ``post_worker_init`` hook) and a process that finds one built by another pid builds anew.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import redis

from supersms.receiver.replay import REPLAY_INTERVAL_S, Replayer, replay_directory
from supersms.receiver.sink import DurableSink
from supersms.receiver.spool import SpoolWriter
from supersms.receiver.store import ReportStore
from supersms.settings import Settings
from supersms.workers.redis_io import connect

REDIS_TIMEOUT_S = 1.0
"""How long a report (or ``/healthz``) waits for Redis. Redis answers in well under a millisecond; one that
takes a second hangs, and the report goes to the spool instead. ``/healthz`` so answers within the 3 s that
deploy/'s probes allow even while Redis hangs."""


@dataclass
class Runtime:
    """The per-process services of the receiver; ``pid`` is the process that built them."""

    redis: redis.Redis
    sink: DurableSink
    replayer: Replayer
    pid: int = field(default_factory=os.getpid)

    def close(self) -> None:
        """Stop the replayer, let go of the spool file (a later replay may take it) and close Redis."""
        self.replayer.stop()
        self.sink.spool.rotate()
        self.redis.close()


def build_runtime(settings: Settings, *, replay_interval_s: float = REPLAY_INTERVAL_S) -> Runtime:
    """Build this process's services and start its replayer (which first replays what is left spooled)."""
    client = connect(settings.redis_url, timeout_s=REDIS_TIMEOUT_S)
    store = ReportStore(redis=client)
    spool = SpoolWriter(directory=settings.spool_dir)
    replayer = Replayer(
        replay=lambda: replay_directory(settings.spool_dir, store, writer=spool), interval_s=replay_interval_s
    )
    sink = DurableSink(store=store, spool=spool, on_redis_back=replayer.nudge)
    return Runtime(redis=client, sink=sink, replayer=replayer.start())
