"""Bulk publishing: tasks rendered from a template and pushed in batches are the ones apply_async publishes,
and real workers send every message they carry exactly once; other brokers get one publish per task."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid

import pytest

from supersms.errors import StoreUnavailable
from supersms.tasks import app, bulk, producer, send_many, template
from supersms.tasks.send import enqueue_attempt
from tests.support import broker
from tests.tasks.conftest import redis_broker_only
from tests.tasks.test_rabbitmq import AMQP_URL, rabbitmq_answers
from tests.tasks.test_sending import KOREAN, accepted_refs, wait_for_status

EVENT_TOPICS = "/*.celeryev/*"
PRODUCE_30 = f"""
from supersms.tasks import send_many
print(*send_many({{"to": {KOREAN!r}, "message": f"over amqp {{n}}"}} for n in range(30)))
"""


def queued(redis_client) -> list[str]:
    """The raw task messages in ``sms.send``, oldest (first consumed) first."""
    return list(reversed(redis_client.lrange("sms.send", 0, -1)))


def normalised_task(raw: str) -> str:
    """A stored task with its message id, task id and delivery tag written as placeholders."""
    message = json.loads(raw)
    assert json.dumps(message) == raw, "written as kombu writes JSON"
    args, kwargs, embed = json.loads(base64.b64decode(message["body"]))
    message["body"] = [args, kwargs, embed]
    return (
        json.dumps(message)
        .replace(kwargs["id"], "<message id>")
        .replace(message["headers"]["id"], "<task id>")
        .replace(message["properties"]["delivery_tag"], "<delivery tag>")
    )


def normalised_event(raw: str) -> str:
    """A stored task-sent event with the values of its own (ids, clock, time, tag) written as placeholders."""
    message = json.loads(raw)
    assert json.dumps(message) == raw, "written as kombu writes JSON"
    event = json.loads(base64.b64decode(message["body"]))
    message_id = event["kwargs"].split("'")[3]
    message["body"] = {**event, "clock": "<clock>", "timestamp": "<timestamp>"}
    return (
        json.dumps(message)
        .replace(message_id, "<message id>")
        .replace(event["uuid"], "<task id>")
        .replace(message["properties"]["delivery_tag"], "<delivery tag>")
    )


@pytest.fixture
def events(redis_client):
    """Every task-sent event published from now on, as its raw message: call to read those so far."""
    subscription = redis_client.pubsub()
    subscription.psubscribe(EVENT_TOPICS)
    subscription.get_message(timeout=1)  # the subscription's confirmation
    received: list[str] = []

    def drain() -> list[str]:
        while (message := subscription.get_message(timeout=0.5)) is not None:
            received.append(message["data"])
        return received

    yield drain
    subscription.close()


def publish_in_bulk(message_ids):
    with app.producer_or_acquire() as producer:
        assert template.bulk_plan(producer) is not None, "a Redis broker takes tasks in bulk"
        bulk.publish_attempts(message_ids, producer=producer)


@redis_broker_only
def test_a_bulk_task_is_the_message_enqueue_attempt_publishes(redis_client, events):
    enqueue_attempt("one0by0one")
    publish_in_bulk([f"bulk{n}" for n in range(5)])
    single, *pushed = queued(redis_client)
    assert len(pushed) == 5
    assert {normalised_task(raw) for raw in pushed} == {normalised_task(single)}
    event_single, *event_pushed = events()
    assert len(event_pushed) == 5
    assert {normalised_event(raw) for raw in event_pushed} == {normalised_event(event_single)}


@redis_broker_only
def test_bulk_tasks_carry_their_own_ids_in_input_order(redis_client, events):
    ids = [f"order{n}" for n in range(12)]
    publish_in_bulk(ids)
    tasks = [json.loads(raw) for raw in queued(redis_client)]
    assert [json.loads(base64.b64decode(task["body"]))[1] for task in tasks] == [{"id": i} for i in ids]
    assert [task["headers"]["kwargsrepr"] for task in tasks] == [repr({"id": i}) for i in ids]
    task_ids = [task["headers"]["id"] for task in tasks]
    tags = [task["properties"]["delivery_tag"] for task in tasks]
    assert len(set(task_ids + tags)) == 2 * len(ids)
    assert all(uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value for value in task_ids + tags)
    for task, task_id in zip(tasks, task_ids, strict=True):
        assert task["headers"]["root_id"] == task["properties"]["correlation_id"] == task_id
    sent = [json.loads(base64.b64decode(json.loads(raw)["body"])) for raw in events()]
    assert [event["uuid"] for event in sent] == task_ids
    clocks = [event["clock"] for event in sent]
    assert clocks == sorted(clocks) and len(set(clocks)) == len(clocks), "each event ticks the clock"


def test_send_many_records_and_publishes_batch_by_batch_in_order_and_skips_taken_ids(
    store, redis_client, monkeypatch
):
    monkeypatch.setattr(producer, "ENQUEUE_BATCH", 4)
    send_many([{"to": KOREAN, "message": f"first {n}", "id": f"taken{n}"} for n in (1, 2)])
    messages = [{"to": KOREAN, "message": f"m{n}", "id": f"bulk{n}"} for n in range(10)]
    messages[2]["id"] = "taken1"  # recorded before: found taken in the first batch
    messages[7]["id"] = "taken2"  # and in a later one
    ids = send_many(messages)
    assert ids == [message["id"] for message in messages]
    new = ["taken1", "taken2", "bulk0", "bulk1", "bulk3", "bulk4", "bulk5", "bulk6", "bulk8", "bulk9"]
    assert [broker.call_of(task)[1]["id"] for task in broker.take_all(app)] == new
    assert json.loads(store.load("bulk1")["payload"])["message"] == "m1"
    assert json.loads(store.load("taken2")["payload"])["message"] == "first 2"


def test_a_batch_that_cannot_be_recorded_stops_the_batches_after_it(store, redis_client, monkeypatch):
    monkeypatch.setattr(producer, "ENQUEUE_BATCH", 4)
    real_store = producer._store()
    create_many = real_store.create_many
    calls = []

    def second_batch_fails(records, **options):
        calls.append(1)
        if len(calls) == 2:
            raise StoreUnavailable("Redis went away")
        return create_many(records, **options)

    monkeypatch.setattr(real_store, "create_many", second_batch_fails)
    messages = [{"to": KOREAN, "message": f"m{n}", "id": f"partial{n}"} for n in range(12)]
    with pytest.raises(StoreUnavailable):
        send_many(messages)
    assert len(calls) == 2, "the third batch is never recorded"
    assert [broker.call_of(task)[1]["id"] for task in broker.take_all(app)] == [
        f"partial{n}" for n in range(4)
    ]
    assert sorted(redis_client.scan_iter(match="supersms:msg:*")) == [
        f"supersms:msg:{{partial{n}}}" for n in range(4)
    ]


@redis_broker_only
def test_a_worker_sends_every_bulk_pushed_message_once(sandbox, start, store, redis_client, monkeypatch):
    def not_one_by_one(*args, **kwargs):
        raise AssertionError("published one by one")

    monkeypatch.setattr(bulk, "_publish_one_by_one", not_one_by_one)
    monkeypatch.setattr(producer, "ENQUEUE_BATCH", 15)  # several batches recorded
    monkeypatch.setattr(bulk, "PUSH_BATCH", 7)  # and pushed
    ids = send_many({"to": KOREAN, "message": f"bulk {n}"} for n in range(40))
    assert redis_client.llen("sms.send") == 40
    start()
    wait_for_status(store, ids, ["submitted"], timeout_s=60)
    assert accepted_refs(sandbox) == dict.fromkeys(ids, 1)
    assert redis_client.llen("sms.send") == 0


def test_a_worker_sends_every_message_published_one_by_one_once(sandbox, start, store, monkeypatch):
    monkeypatch.setattr(bulk, "bulk_plan", lambda producer: None)
    start()
    ids = send_many({"to": KOREAN, "message": f"one by one {n}"} for n in range(20))
    wait_for_status(store, ids, ["submitted"], timeout_s=60)
    assert accepted_refs(sandbox) == dict.fromkeys(ids, 1)


def test_a_broker_other_than_redis_gets_no_bulk_plan():
    from kombu import Connection

    with Connection("memory://") as connection, connection.Producer() as producer:
        assert template.bulk_plan(producer) is None


@pytest.mark.rabbitmq
@pytest.mark.skipif(not rabbitmq_answers(), reason="no RabbitMQ on 127.0.0.1:5672")
def test_with_rabbitmq_as_the_broker_send_many_publishes_one_by_one_and_loses_nothing(
    sandbox, start, store, redis_url
):
    from celery import Celery

    purger = Celery("supersms-purge", broker=AMQP_URL, set_as_current=False)
    purger.control.purge()
    start(SUPERSMS_BROKER_URL=AMQP_URL, queues="sms.send")
    producer = subprocess.run(
        [sys.executable, "-c", PRODUCE_30],
        env={**os.environ, "SUPERSMS_REDIS_URL": redis_url, "SUPERSMS_BROKER_URL": AMQP_URL},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    ids = producer.stdout.split()
    assert len(ids) == 30
    wait_for_status(store, ids, ["submitted"], timeout_s=60)
    assert accepted_refs(sandbox) == dict.fromkeys(ids, 1)
    purger.control.purge()
