"""The whole loop over real sockets: sandbox → send → report GET → receiver (gunicorn) → stream → correlation."""

from __future__ import annotations

import collections
import time
from pathlib import Path

import pytest

from supersms.embedded import free_port
from supersms.tasks import app, send_many, send_message
from supersms.tasks.queues import waiting_tasks
from supersms.workers import keys
from supersms.workers.redis_io import connect
from tests.support import broker
from tests.support.processes import Process, start_receiver, wait_until
from tests.tasks.test_sending import KOREAN, status_of, wait_for_status


@pytest.fixture
def receiver(worker_env: dict[str, str], sandbox, tmp_path: Path):
    port = free_port()
    env = {**worker_env, "SUPERSMS_REPORT_ALLOW": "127.0.0.1", "SUPERSMS_SPOOL_DIR": str(tmp_path / "spool")}
    process = start_receiver(env=env, tmp_path=tmp_path, port=port)
    sandbox.report_url = f"http://127.0.0.1:{port}/"
    sandbox.set_faults(report_delay_s=0.05, report_retry_delay_s=0.2)
    yield process
    sandbox.stop()  # its report sessions' idle keep-alive connections would hold gunicorn's graceful stop
    process.stop()


def events_by_id(redis_url: str) -> collections.Counter[str]:
    client = connect(redis_url)
    return collections.Counter(fields["id"] for _, fields in client.xrange(keys.EVENTS))


def test_a_message_is_delivered_and_its_report_is_shown(receiver, sandbox, start, store, redis_url):
    start()
    message_id = send_message(KOREAN, "배달 확인")
    wait_for_status(store, [message_id], ["delivered"])
    record = store.load(message_id)
    assert '"err_code": "1000"' in record["report"] and '"rslt_type": "0"' in record["report"]
    assert all(entry.delivered for entry in sandbox.log.reports())
    assert events_by_id(redis_url) == {message_id: 1}


def test_a_thousand_messages_each_get_their_report(receiver, sandbox, start, store, redis_url):
    sandbox.set_faults(report_codes={"1000": 0.9, "3001": 0.1})
    start(concurrency=16)
    ids = send_many({"to": KOREAN, "message": f"batch {n}"} for n in range(1000))
    wait_for_status(store, ids, ["delivered", "undelivered"], timeout_s=120)
    assert events_by_id(redis_url) == dict.fromkeys(ids, 1)
    statuses = collections.Counter(status_of(store, i) for i in ids)
    assert statuses["undelivered"] > 0 and statuses["delivered"] > 0


@pytest.mark.parametrize(
    "fault",
    [
        {"report_before_reply": True},
        {"duplicate_reports": True},
        {"intermediate_reports": True},
    ],
    ids=lambda fault: next(iter(fault)),
)
def test_reports_out_of_order_or_repeated_end_each_message_once(
    receiver, sandbox, start, store, redis_url, fault
):
    sandbox.set_faults(**fault)
    start()
    ids = send_many({"to": KOREAN, "message": f"order {n}"} for n in range(20))
    wait_for_status(store, ids, ["delivered"], timeout_s=60)
    assert events_by_id(redis_url) == dict.fromkeys(ids, 1)
    if fault.get("intermediate_reports"):
        assert all(store.load(i).get("intermediate") for i in ids)
    assert all(store.load(i)["msgid"] for i in ids)


def test_a_lost_reply_ends_unknown_then_its_report_settles_it(receiver, sandbox, start, store, redis_url):
    sandbox.set_faults(drop_after_read=True, report_delay_s=1.0)
    start()
    message_id = send_message(KOREAN, "reply lost")
    wait_for_status(store, [message_id], ["failed"])
    assert store.load(message_id)["reason"].startswith("outcome_unknown")
    wait_for_status(store, [message_id], ["delivered"])
    assert len(sandbox.log.sends()) == 1
    assert [fields["status"] for _, fields in connect(redis_url).xrange(keys.EVENTS)] == [
        "failed",
        "delivered",
    ]


def test_a_killed_correlation_worker_loses_no_report_and_applies_none_twice(
    receiver, sandbox, start, store, redis_url
):
    start("sender", concurrency=16, queues="sms.send")
    doomed: Process = start("correlator", concurrency=4, queues="sms.reports")
    ids = send_many({"to": KOREAN, "message": f"kill {n}"} for n in range(400))
    wait_for_status(store, ids[:50], ["submitted", "delivered"], timeout_s=60)
    doomed.kill()
    start("survivor", concurrency=4, queues="sms.reports")
    wait_for_status(store, ids, ["delivered"], timeout_s=120)
    assert events_by_id(redis_url) == dict.fromkeys(ids, 1)


def test_a_producers_signature_is_called_once_with_the_final_record(receiver, sandbox, start, store):
    from celery import signature

    broker.take_all(app, "producer.outcomes")  # a broker kept from another run may hold some
    sandbox.set_faults(duplicate_reports=True)
    start()
    callback = signature("producer.outcome", queue="producer.outcomes")
    message_id = send_message(KOREAN, "tell me", on_final=callback)
    wait_for_status(store, [message_id], ["delivered"])
    wait_until(lambda: waiting_tasks(app, "producer.outcomes") >= 1, timeout_s=10, what="the callback task")
    time.sleep(0.5)
    published = broker.take_all(app, "producer.outcomes")
    assert len(published) == 1
    args, _kwargs = broker.call_of(published[0])
    assert args[0]["id"] == message_id and args[0]["status"] == "delivered"
    assert args[0]["report"]["err_code"] == "1000"
