"""Every drill, in the order ``python -m drills`` runs them. ``ci=True``: it takes under a minute, so
``make test-drills`` (tests/drills/, which CI runs) runs it too; a longer one would run only through
``make drills``."""

from __future__ import annotations

from drills.provider_outage import provider_refusing_then_slow
from drills.rabbitmq import end_to_end_over_rabbitmq
from drills.receiver_outage import receiver_with_redis_down
from drills.redis_outage import redis_killed, redis_restarted
from drills.runner import Drill
from drills.worker_kill import correlation_worker_killed, send_worker_killed_twice

DRILLS = (
    Drill("worker-kill", "a send worker SIGKILLed mid-batch, twice", send_worker_killed_twice, ci=True),
    Drill("correlation-kill", "a correlation worker SIGKILLed mid-batch", correlation_worker_killed, ci=True),
    Drill("redis-restart", "Redis shut down and restarted mid-run (AOF)", redis_restarted, ci=True),
    Drill("redis-kill", "Redis SIGKILLed mid-run (AOF, appendfsync everysec)", redis_killed, ci=True),
    Drill(
        "receiver-outage",
        "the receiver with Redis down for 30 s while reports arrive",
        receiver_with_redis_down,
        ci=True,
    ),
    Drill(
        "provider-outage",
        "the provider refusing connections for 10 s, then slower than the read timeout",
        provider_refusing_then_slow,
        ci=True,
    ),
    Drill(
        "rabbitmq",
        "end to end with RabbitMQ as the broker (Redis still the store)",
        end_to_end_over_rabbitmq,
        ci=True,
    ),
)


def by_name() -> dict[str, Drill]:
    """The drills by their command-line name."""
    return {drill.name: drill for drill in DRILLS}
