"""When a drill loses something: what each lost message's record says, where its task went, and which known
fault explains it (so a drill can tell a known open bug from a new one)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import redis

from drills.stack import Stack
from supersms.workers import keys
from supersms.workers.redis_io import connect

SHOWN = 5
FIELDS = ("status", "attempts", "claim", "reason", "msgid", "next_attempt_ms", "updated_at")
OPEN = frozenset({"queued", "retrying"})
SWEEPER_DIED = re.compile(r"Exception in thread\s*\n.*supersms-sweeper")
THREAD_DIED = re.compile(r"Exception in thread\s*\n.*(supersms-[a-z-]+)")

TASK_VANISHED = "task-vanished"
TASK_REJECTED = "task-rejected"
SWEEPER_DEAD = "sweeper-dead"
CAUSES = {
    TASK_VANISHED: "its task left the queue but no worker logged receiving it: kombu's Redis transport loses a "
    "task BRPOPed by a worker SIGKILLed before it recorded it as unacknowledged; the record stays queued",
    TASK_REJECTED: "its task was dropped (Reject requeue=False): the send task's autoretry could not publish "
    "the retry while the broker (the same Redis) was down; the record stays queued",
    SWEEPER_DEAD: "the surviving worker's sweeper thread died on a raw redis ConnectionError while Redis was "
    "down: stale claims are never expired and correlation is no longer woken every few seconds",
}


def lost_lines(stack: Stack, lost: Iterable[str]) -> list[str]:
    """A line per lost message (a few): its record, which workers logged receiving its first task, its cause."""
    chosen = sorted(lost)
    if not chosen:
        return []
    records = _records(stack, chosen[:SHOWN])
    causes = known_causes(stack, chosen)
    lines = [_task_census(stack)]
    for message_id in chosen[:SHOWN]:
        lines.append(f"{message_id}: {records[message_id]}; {_trail(stack, message_id)}")
    for cause in sorted({c for c in causes.values() if c}):
        count = sum(c == cause for c in causes.values())
        lines.append(f"known cause of {count}: {cause}: {CAUSES[cause]}")
    unexplained = sum(c is None for c in causes.values())
    if unexplained:
        lines.append(f"no known cause for {unexplained}")
    return lines


def known_causes(stack: Stack, lost: Iterable[str]) -> dict[str, str | None]:
    """message id → the known fault that explains its loss, or None."""
    logs = _worker_logs(stack)
    sweeper_dead = any(SWEEPER_DIED.search(text) for name, text in logs.items() if name not in stack.killed)
    found: dict[str, str | None] = {}
    client = connect(stack.redis_url, max_connections=1)
    try:
        for message_id in lost:
            status, claim = client.hmget(keys.message(message_id), ["status", "claim"])
            task_id = stack.task_ids.get(message_id, "")
            received = any(f"supersms.send[{task_id}] received" in text for text in logs.values())
            rejected = any(f"supersms.send[{task_id}] reject requeue=False" in text for text in logs.values())
            if status in OPEN and not claim and task_id and not received:
                found[message_id] = TASK_VANISHED
            elif status in OPEN and not claim and rejected:
                found[message_id] = TASK_REJECTED
            elif sweeper_dead and (claim or status not in OPEN):
                found[message_id] = SWEEPER_DEAD
            else:
                found[message_id] = None
    finally:
        client.close()
    return found


def unhealthy_workers(stack: Stack) -> list[str]:
    """What went wrong in workers the drill did not kill: exited by themselves, or lost a background thread."""
    found = []
    for name, worker in stack.workers.items():
        if name in stack.killed:
            continue
        code = worker.popen.poll()
        if code is not None:
            found.append(f"worker {name} exited by itself (status {code}); {_last_error(worker.output())}")
        for thread in sorted(set(THREAD_DIED.findall(worker.output()))):
            found.append(f"worker {name}: its {thread} thread died for good (see its log)")
    return found


def _last_error(text: str) -> str:
    errors = [line for line in text.splitlines() if "CRITICAL" in line or "Unrecoverable" in line]
    return f"its log says: {errors[-1].strip()}" if errors else "no CRITICAL line in its log"


def _worker_logs(stack: Stack) -> dict[str, str]:
    return {name: worker.output() for name, worker in stack.workers.items()}


def _task_census(stack: Stack) -> str:
    texts = _worker_logs(stack).values()
    received = sum(
        any(f"supersms.send[{task_id}] received" in text for text in texts)
        for task_id in stack.task_ids.values()
    )
    return (
        f"tasks published {len(stack.task_ids)}, received by some worker {received}, "
        f"never received by any {len(stack.task_ids) - received}"
    )


def _records(stack: Stack, ids: list[str]) -> dict[str, str]:
    client = connect(stack.redis_url, max_connections=1)
    try:
        return {message_id: _record(client, message_id) for message_id in ids}
    finally:
        client.close()


def _record(client: redis.Redis, message_id: str) -> str:
    try:
        values = client.hmget(keys.message(message_id), list(FIELDS))
    except redis.RedisError as error:
        return f"record unreadable ({error})"
    shown = [f"{name}={value}" for name, value in zip(FIELDS, values, strict=True) if value is not None]
    return "record " + (" ".join(shown) if shown else "missing")


def _trail(stack: Stack, message_id: str) -> str:
    task_id = stack.task_ids.get(message_id)
    if task_id is None:
        return "no task published by the drill"
    logs = _worker_logs(stack)
    seen = [
        name + (" (killed)" if name in stack.killed else "")
        for name, text in logs.items()
        if f"supersms.send[{task_id}] received" in text
    ]
    return f"its task {task_id} received by " + (", ".join(seen) if seen else "no worker")
