"""The end-to-end flow with RabbitMQ as the broker (Redis still the store): send → submitted → report →
delivered for 200 messages. Skipped, saying so, when nothing answers on 127.0.0.1:5672."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

from drills.observe import Observer
from drills.producer import Producer
from drills.result import DrillResult
from drills.settle import settle
from drills.stack import QUICK_REPORTS, SENDER, running_stack
from drills.timeline import Timeline

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
COUNT = 200


def rabbitmq_answers(url: str = AMQP_URL) -> bool:
    """True when something accepts a TCP connection at the URL's host and port (5672 when none is given)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or 5672), timeout=0.5):
            return True
    except OSError:
        return False


def end_to_end_over_rabbitmq(workdir: Path, timeline: Timeline, result: DrillResult) -> None:
    if not rabbitmq_answers():
        result.skipped = "nothing answers on 127.0.0.1:5672"
        timeline.note(f"skipped: {result.skipped}")
        return
    with running_stack(workdir, timeline, env={"SUPERSMS_BROKER_URL": AMQP_URL}) as stack:
        stack.start_receiver()
        stack.start_provider(**QUICK_REPORTS)
        producer = Producer(redis_url=stack.redis_url, broker_url=AMQP_URL, sender=SENDER)
        try:
            purged = producer.app.control.purge()
            timeline.say(f"RabbitMQ at {AMQP_URL}: {purged} stale tasks purged from sms.send")
            stack.start_worker("w1", concurrency=16)
            started_at_s = timeline.elapsed_s()
            ids = producer.enqueue(COUNT, label="rabbitmq")
            stack.task_ids.update(producer.task_ids)
            timeline.say(f"enqueued {COUNT} messages over AMQP")
        finally:
            producer.close()
        observer = Observer(stack, ids)
        try:
            settle(
                observer,
                result,
                since_s=started_at_s,
                since_what="the enqueue",
                unknown_means="read timeouts on a loaded machine",
                redis_broker=False,
            )
        finally:
            observer.close()
