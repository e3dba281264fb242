"""Redis shut down and restarted mid-run (AOF), and Redis SIGKILLed mid-run (AOF, ``appendfsync everysec``).

While Redis is away the workers cannot claim, record or take tasks, and the receiver spools reports. What must
happen once it is back: every message ends final, none is sent twice, every report the receiver acknowledged
is applied; attempts whose result could not be recorded end ``outcome_unknown`` and their reports settle them.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from drills.observe import Observer, wait_for
from drills.producer import enqueue
from drills.result import DrillResult
from drills.settle import settle
from drills.stack import QUICK_REPORTS, Stack, redis_pid, running_stack
from drills.timeline import Timeline
from drills.worker_kill import accepted

COUNT = 300
LATENCY_S = 0.1
STOP_AT_ACCEPTED = 100
DOWN_S = 5.0
PROBE_KEY = "drills:probe"
WAIT_S = 60.0

EVERYSEC = (
    "What appendfsync everysec may cost: Redis write(2)s every command to the AOF before it answers, and "
    "fsyncs the file once a second in the background. A SIGKILL of redis-server alone therefore loses nothing "
    "it acknowledged: the kernel still holds every byte written. What everysec puts at risk is the last ~1 s "
    "of acknowledged writes (up to 2 s when a slow disk makes Redis postpone its write; INFO counts those in "
    "aof_delayed_fsync) if the machine itself goes down (power loss, kernel crash) before that fsync."
)
LAST_SECOND = (
    "Losing that second would cost: tasks published in it (their records stay queued with no task left), "
    "claims and results recorded in it (a redelivered task finds the message queued again and may send it a "
    "second time), and reports stored in it (acknowledged to the provider, which does not send them again)."
)


class WriteProbe:
    """INCRs a counter as fast as Redis answers, remembering the last value Redis acknowledged."""

    def __init__(self, url: str) -> None:
        # No retries: a retried INCR could land on the restarted server and blur the count.
        self._client = redis.Redis.from_url(url, socket_timeout=1, retry=Retry(NoBackoff(), 0))
        self.last_acknowledged = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drill-write-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> int:
        """Stop writing; the last value acknowledged."""
        self._stopped.set()
        self._thread.join(timeout=5)
        self._client.close()
        return self.last_acknowledged

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.last_acknowledged = int(self._client.incr(PROBE_KEY))
            except redis.RedisError:
                return
            time.sleep(0.001)


def redis_restarted(workdir: Path, timeline: Timeline, result: DrillResult) -> None:
    _outage(workdir, timeline, result, kill=False)


def redis_killed(workdir: Path, timeline: Timeline, result: DrillResult) -> None:
    _outage(workdir, timeline, result, kill=True)


def _outage(workdir: Path, timeline: Timeline, result: DrillResult, *, kill: bool) -> None:
    with running_stack(workdir, timeline, appendonly=True) as stack:
        stack.start_receiver()
        stack.start_provider(latency_s=LATENCY_S, **QUICK_REPORTS)
        stack.start_worker("w1", concurrency=8)
        ids = enqueue(stack, COUNT, label="redis-kill" if kill else "redis-restart")
        observer = Observer(stack, ids)
        probe = WriteProbe(stack.redis_url)
        probe.start()
        try:
            if not wait_for(lambda: accepted(stack) >= STOP_AT_ACCEPTED, timeout_s=WAIT_S, poll_s=0.05):
                raise TimeoutError(f"fewer than {STOP_AT_ACCEPTED} sends accepted after {WAIT_S:g} s")
            delayed_fsyncs = _info(stack, "aof_delayed_fsync")
            pid = redis_pid(stack.redis)
            stack.redis.stop(kill=kill)
            how = (
                "SIGKILLed"
                if kill
                else "shut down (SIGTERM: a clean shutdown, the AOF fsynced on the way out)"
            )
            timeline.say(
                f"redis pid {pid} {how}: {accepted(stack)} of {COUNT} accepted by the provider so far"
            )
            last_acknowledged = probe.stop()
            time.sleep(DOWN_S)  # the outage itself
            stack.redis.start()
            restarted_at_s = timeline.elapsed_s()
            timeline.say(
                f"redis restarted from its AOF after {DOWN_S:g} s: pid {redis_pid(stack.redis)}, same port"
            )
            if kill:
                _report_probe(stack, timeline, last_acknowledged, delayed_fsyncs)
            settle(
                observer,
                result,
                since_s=restarted_at_s,
                since_what="the restart",
                unknown_means="attempts whose result could not be recorded while Redis was away",
            )
            timeline.note(f"  the receiver replayed {spool_replayed(stack)} spooled reports into Redis")
            if kill and result.tally is not None:
                _consistency(timeline, result)
        finally:
            probe.stop()
            observer.close()


def _report_probe(stack: Stack, timeline: Timeline, last_acknowledged: int, delayed_fsyncs: str) -> None:
    client = redis.Redis.from_url(stack.redis_url)
    try:
        after = int(client.get(PROBE_KEY) or 0)
    finally:
        client.close()
    lost = last_acknowledged - after
    timeline.note(EVERYSEC)
    timeline.note(
        f"  measured: a counter INCRed until the kill was last acknowledged at {last_acknowledged}; the restarted "
        f"Redis holds {after}: {max(lost, 0)} acknowledged writes lost (aof_delayed_fsync before the kill: "
        f"{delayed_fsyncs})"
    )
    if lost > 0:
        timeline.note(f"  Redis lost its last {lost} acknowledged writes. " + LAST_SECOND)
    else:
        timeline.note("  " + LAST_SECOND + " A process kill, as here, costs none of it.")


def _consistency(timeline: Timeline, result: DrillResult) -> None:
    tally = result.tally
    assert tally is not None
    checks = [
        ("every record final", not tally.never_final),
        ("no message accepted twice by the provider", not tally.accepted_twice),
        ("every report the receiver acknowledged applied", not tally.unapplied_reports),
        ("no final status announced twice", not tally.applied_twice),
    ]
    for what, held in checks:
        timeline.note(f"  consistent end state: {what}: {'yes' if held else 'NO'}")


def _info(stack: Stack, field: str) -> str:
    client = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    try:
        return str(client.info("persistence").get(field, "?"))
    finally:
        client.close()


def spool_replayed(stack: Stack) -> int:
    """Reports the receiver moved from its spool into Redis, as its log says."""
    text = stack.receiver.output() if stack.receiver else ""
    return sum(int(n) for n in re.findall(r"replayed (\d+) spooled reports", text))
