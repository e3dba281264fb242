"""2. Campaign throughput: enqueueing a large batch through ``send_many`` against a plain ``apply_async`` loop.

Ours validates every message, records it in Redis (one script call per thousand) and pushes its task with
its task-sent event (rendered from what ``apply_async`` builds, one ``LPUSH`` per thousand:
:mod:`supersms.tasks.bulk`); the baseline publishes one bare task per message, already holding the
provider's form fields, with ``apply_async`` in a loop. Both are timed in this process, with no worker
running; CPU is this process's (``time.process_time``) and the private Redis's.

Three more steps say where ``send_many``'s time goes: recording alone (``create_many``), publishing alone
(``publish_attempts``), and a floor for publishing: the same task messages, built from one real message as a
template with ``json.dumps`` and pushed with one ``LPUSH`` per thousand, without task-sent events (these are
counted, not consumed).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench import bare
from bench.common import BARE_QUEUE, Lab
from bench.measure import cpu_s, load_average
from bench.messages import bare_fields, campaign
from bench.procs import BenchError
from bench.table import Figure, Result, Target, number, render
from supersms.protocol.message import Message
from supersms.workers.celery_config import SEND_QUEUE
from supersms.workers.intake import message_fields, queued_fields
from supersms.workers.masking import masked_repr
from supersms.workers.records import MessageStore

PUSH_BATCH = 1000
LABELS = {
    "validate": "send_many: validate",
    "record + publish": "send_many: record + publish",
    "record only": "  of which record (create_many)",
    "publish only": "  of which publish (publish_attempts)",
    "push pre-built": "floor: LPUSH pre-built messages",
    "apply_async loop": "baseline: apply_async loop",
}

AT_LEAST_10X = Target("≥ 10", min_ratio=10)


@dataclass(frozen=True)
class Timed:
    """How long a step took, and the CPU seconds it cost this process and Redis."""

    elapsed_s: float
    producer_cpu_s: float
    redis_cpu_s: float


def run(lab: Lab) -> Result:
    count = 10_000 if lab.quick else 100_000
    print(f"  campaign: {count} messages", flush=True)
    messages = campaign(count)
    lab.flush()
    from supersms.tasks.producer import enqueue_validated, validate_all

    accepted: list[tuple[str, Message]] = []
    steps = {"validate": timed(lab, lambda: accepted.extend(validate_all(messages)))}
    steps["record + publish"] = timed(lab, lambda: enqueue_validated(accepted))
    _check_queued(lab, SEND_QUEUE, count)
    lab.flush()
    steps["record only"] = timed(lab, lambda: _record(lab, accepted))
    ids = [message_id for message_id, _ in accepted]
    steps["publish only"] = timed(lab, lambda: _publish(ids))
    _check_queued(lab, SEND_QUEUE, count)
    lab.flush()
    template = _template_message(lab)
    steps["push pre-built"] = timed(lab, lambda: _push_prebuilt(lab, template, ids))
    _check_queued(lab, SEND_QUEUE, count)
    lab.flush()
    fields = bare_fields(messages)
    steps["apply_async loop"] = timed(lab, lambda: bare.enqueue(fields))
    _check_queued(lab, BARE_QUEUE, count)
    lab.flush()
    return _result(count, steps)


def _record(lab: Lab, accepted: list[tuple[str, Message]]) -> None:
    """What ``enqueue_validated`` does before publishing: build the records and create them, pipelined."""
    from supersms.tasks.app import settings

    store = MessageStore(redis_client=lab.client, record_ttl_s=settings().record_ttl_s)
    now = datetime.now(UTC)
    ttl_s = settings().default_ttl_s
    store.create_many(
        (message_fields(mid, message, default_ttl_s=ttl_s, now=now) for mid, message in accepted),
        common=queued_fields(now),
    )


def _publish(ids: list[str]) -> None:
    """What ``enqueue_validated`` does after recording: publish the tasks of the new records."""
    from supersms.tasks.app import app
    from supersms.tasks.bulk import publish_attempts

    with app.producer_or_acquire() as producer:
        publish_attempts(ids, producer=producer)


def _template_message(lab: Lab) -> dict[str, Any]:
    """One real ``supersms.send`` message as the broker holds it."""
    from supersms.tasks.send import enqueue_attempt

    enqueue_attempt("template")
    raw = lab.client.rpop(SEND_QUEUE)
    if not isinstance(raw, str):
        raise BenchError("publishing one task left nothing in the queue")
    template: dict[str, Any] = json.loads(raw)
    return template


def _push_prebuilt(lab: Lab, template: dict[str, Any], ids: list[str]) -> None:
    with lab.client.pipeline(transaction=False) as pipe:
        for start in range(0, len(ids), PUSH_BATCH):
            pipe.lpush(SEND_QUEUE, *(_message_for(template, mid) for mid in ids[start : start + PUSH_BATCH]))
        pipe.execute()


def _message_for(template: dict[str, Any], message_id: str) -> str:
    """The template with this message's id in its body and fresh task ids: what Celery would have built."""
    kwargs = {"id": message_id}
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    body = base64.b64encode(json.dumps([[], kwargs, embed]).encode()).decode()
    task_id = str(uuid.uuid4())
    shown = masked_repr(kwargs)
    headers = {**template["headers"], "id": task_id, "root_id": task_id, "kwargsrepr": shown}
    properties = {
        **template["properties"],
        "correlation_id": task_id,
        "kwargsrepr": shown,
        "delivery_tag": str(uuid.uuid4()),
    }
    return json.dumps({**template, "body": body, "headers": headers, "properties": properties})


def timed(lab: Lab, step: Callable[[], object]) -> Timed:
    redis_pid = lab.redis_process.pid
    started, cpu, redis_cpu = time.perf_counter(), time.process_time(), cpu_s(redis_pid)
    step()
    return Timed(time.perf_counter() - started, time.process_time() - cpu, cpu_s(redis_pid) - redis_cpu)


def _check_queued(lab: Lab, queue: str, count: int) -> None:
    queued = int(lab.client.llen(queue))
    if queued != count:
        raise BenchError(f"{queued} tasks in {queue} for {count} messages")


def _result(count: int, steps: dict[str, Timed]) -> Result:
    validate, publish, loop = steps["validate"], steps["record + publish"], steps["apply_async loop"]
    ours_s = validate.elapsed_s + publish.elapsed_s
    ours_cpu = validate.producer_cpu_s + publish.producer_cpu_s
    figures = [
        Figure(
            f"enqueue rate, {count:,} messages", count / ours_s, "msg/s", count / loop.elapsed_s, AT_LEAST_10X
        ),
        Figure("producer CPU per message", ours_cpu / count * 1e6, "µs", loop.producer_cpu_s / count * 1e6),
    ]
    rows = [_row(LABELS[name], step, count) for name, step in steps.items()]
    table = render(("step", "seconds", "msg/s", "producer µs/msg", "redis µs/msg"), rows)
    details = [
        "Where the time goes (send_many = validate + record + publish; the record, publish and floor rows "
        "are measured apart, to split it):\n" + table,
        f"{load_average()} at the end.",
    ]
    return Result("2. Campaign throughput (send_many)", figures, details)


def _row(label: str, step: Timed, count: int) -> list[str]:
    return [
        label,
        f"{step.elapsed_s:.2f}",
        number(count / step.elapsed_s),
        f"{step.producer_cpu_s / count * 1e6:.0f}",
        f"{step.redis_cpu_s / count * 1e6:.0f}",
    ]
