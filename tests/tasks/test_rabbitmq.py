"""The same sending path with RabbitMQ as the broker (Redis still the store); skipped where none answers."""

from __future__ import annotations

import pytest

from drills.rabbitmq import AMQP_URL, rabbitmq_answers
from supersms.tasks.queues import waiting_tasks
from tests.support.processes import wait_until
from tests.tasks.test_sending import KOREAN, accepted_refs, wait_for_status

pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(not rabbitmq_answers(), reason="no RabbitMQ on 127.0.0.1:5672"),
]


@pytest.fixture
def amqp_app(redis_url):
    """A producer app bound to RabbitMQ, with a queue of this test's own (nothing left from other runs)."""
    from celery import Celery

    from supersms.settings import Settings
    from supersms.workers.celery_config import celery_config

    settings = Settings.from_env({"SUPERSMS_REDIS_URL": redis_url, "SUPERSMS_BROKER_URL": AMQP_URL})
    app = Celery("supersms-rabbitmq-test", set_as_current=False)
    app.conf.update(celery_config(settings))
    app.control.purge()
    yield app
    app.control.purge()


def test_messages_are_sent_with_rabbitmq_as_the_broker(amqp_app, sandbox, start, store):
    from datetime import UTC, datetime

    from supersms.tasks.producer import validate_one
    from supersms.workers.intake import queued_record

    start(SUPERSMS_BROKER_URL=AMQP_URL, queues="sms.send")
    ids = []
    for n in range(20):
        message_id, message = validate_one({"to": KOREAN, "message": f"over amqp {n}"})
        store.create_many([queued_record(message_id, message, default_ttl_s=3600, now=datetime.now(UTC))])
        amqp_app.send_task("supersms.send", kwargs={"id": message_id}, queue="sms.send")
        ids.append(message_id)
    wait_for_status(store, ids, ["submitted"], timeout_s=60)
    assert accepted_refs(sandbox) == dict.fromkeys(ids, 1)


def test_the_sweep_counts_the_tasks_waiting_in_a_rabbitmq_queue(amqp_app):
    assert waiting_tasks(amqp_app, queue="sms.never-declared") == 0
    assert waiting_tasks(amqp_app) == 0
    for n in range(3):
        amqp_app.send_task("supersms.send", kwargs={"id": f"waiting{n}"}, queue="sms.send")
    wait_until(lambda: waiting_tasks(amqp_app) == 3, timeout_s=5, what="three tasks counted as waiting")
    amqp_app.control.purge()
    assert waiting_tasks(amqp_app) == 0
