"""Counting the tasks that wait in a queue, as the sweep of lost tasks does before it re-enqueues any."""

from __future__ import annotations

from supersms.tasks import app
from supersms.tasks.queues import waiting_tasks
from tests.tasks.conftest import redis_broker_only


def test_a_queue_never_declared_holds_no_task():
    assert waiting_tasks(app, queue="sms.never-declared") == 0


@redis_broker_only
def test_on_redis_tasks_of_every_priority_count(redis_client):
    for priority in (0, 5, 9):
        app.send_task(
            "supersms.send", kwargs={"id": f"priority{priority}"}, queue="sms.send", priority=priority
        )
    assert redis_client.llen("sms.send") == 1, "the others wait in the lists of their priorities"
    assert waiting_tasks(app) == 3
