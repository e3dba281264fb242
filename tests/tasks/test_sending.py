"""Sending end to end: real worker processes, the private Redis, the sandbox provider over HTTP."""

from __future__ import annotations

import collections
import itertools
import time

import pytest

from supersms.errors import UnknownMessage
from supersms.tasks import app, send_many, send_message
from supersms.tasks.queues import waiting_tasks
from supersms.workers.records import FINAL_STATUSES, Status
from tests.support.processes import wait_until

KOREAN = "01093446280"


def status_of(store, message_id):
    try:
        return store.load(message_id)["status"]
    except UnknownMessage:
        return None


def wait_for_status(store, ids, statuses, *, timeout_s=30.0):
    wanted = {Status(s) for s in statuses}
    wait_until(
        lambda: all(status_of(store, i) in wanted for i in ids),
        timeout_s=timeout_s,
        what=f"{len(ids)} messages to reach {sorted(wanted)}: "
        + str(collections.Counter(status_of(store, i) for i in ids)),
    )


def accepted_refs(sandbox):
    return collections.Counter(entry.fields.get("ref") for entry in sandbox.log.accepted())


def test_a_message_is_sent_once_and_submitted(sandbox, start, store):
    start()
    message_id = send_message(KOREAN, "안녕하세요")
    wait_for_status(store, [message_id], ["submitted"])
    record = store.load(message_id)
    assert record["attempts"] == "1" and record["err_code"] == "R000" and record["msgid"]
    assert store.message_for_msgid(record["msgid"]) == message_id
    assert accepted_refs(sandbox) == {message_id: 1}
    fields = sandbox.log.accepted()[0].fields
    assert (fields["to_country"], fields["to"], fields["message"]) == ("82", "1093446280", "안녕하세요")


def test_busy_replies_are_retried_with_growing_delays(sandbox, start, store):
    sandbox.set_faults(script=("R001", "R001"))
    start()
    message_id = send_message(KOREAN, "retry me")
    wait_for_status(store, [message_id], ["submitted"])
    assert store.load(message_id)["attempts"] == "3"
    times = [entry.monotonic_s for entry in sandbox.log.sends()]
    assert [entry.err_code for entry in sandbox.log.sends()] == ["R001", "R001", "R000"]
    first_gap, second_gap = times[1] - times[0], times[2] - times[1]
    assert 0.1 <= first_gap < second_gap


def test_capacity_refusals_lose_nothing(sandbox, start, store):
    sandbox.set_faults(capacity_per_s=10)
    start(concurrency=16)
    ids = send_many({"to": KOREAN, "message": f"burst {n}"} for n in range(40))
    wait_for_status(store, ids, ["submitted"], timeout_s=60)
    assert any(entry.err_code == "R009" for entry in sandbox.log.sends())
    assert accepted_refs(sandbox) == dict.fromkeys(ids, 1)


@pytest.mark.parametrize("code", ["R003", "R010"])
def test_a_permanent_refusal_rejects_after_one_attempt(sandbox, start, store, code):
    sandbox.set_faults(code_for_to={"1093446280": code})
    start()
    message_id = send_message(KOREAN, "no")
    wait_for_status(store, [message_id], ["rejected"])
    record = store.load(message_id)
    assert (record["attempts"], record["err_code"]) == ("1", code)
    assert len(sandbox.log.sends()) == 1


def test_an_auth_failure_pauses_every_worker_until_lifted(sandbox, start, workers, store, redis_client):
    from supersms.workers.pause import AccountPause

    sandbox.set_faults(force_code="R002")
    start("w1", concurrency=2)
    start("w2", concurrency=2)
    ids = send_many({"to": KOREAN, "message": f"paused {n}"} for n in range(40))
    pause = AccountPause(redis=redis_client, cooldown_s=30)
    wait_until(lambda: pause.current() is not None, timeout_s=20, what="the pause to open")
    time.sleep(2.5)
    refused = len(sandbox.log.sends())
    assert 1 <= refused <= 4, "at most one refusal per worker thread before the pause holds"
    waiting = {i: store.load(i) for i in ids}
    assert {r["status"] for r in waiting.values()} <= {"queued", "retrying"}
    assert all(
        r.get("reason", "").startswith("paused:R002") for r in waiting.values() if r["status"] == "retrying"
    )
    for worker in workers:
        assert "not taking messages from sms.send" in worker.output(), "each worker stops consuming"
    later = send_many(({"to": KOREAN, "message": f"during the pause {n}"} for n in range(10)), batch_size=1)
    time.sleep(1.5)
    assert len(sandbox.log.sends()) == refused, "nothing is sent while the pause holds"
    assert waiting_tasks(app) >= len(later), "what is enqueued meanwhile stays in the broker"
    sandbox.set_faults(force_code=None)
    pause.lift()
    wait_for_status(store, [*ids, *later], ["submitted"], timeout_s=40)
    assert accepted_refs(sandbox) == dict.fromkeys([*ids, *later], 1)
    for worker in workers:
        assert "taking messages from sms.send again" in worker.output(), "each worker consumes again"


def test_the_same_task_delivered_twice_is_sent_once(sandbox, start, store):
    sandbox.set_faults(latency_s=0.3)
    message_id = send_message(KOREAN, "once")
    for _ in range(3):
        app.send_task("supersms.send", kwargs={"id": message_id})
    start(concurrency=8)
    wait_for_status(store, [message_id], ["submitted"])
    wait_until(
        lambda: waiting_tasks(app) == 0,
        timeout_s=10,
        what="the queue to drain",
    )
    assert accepted_refs(sandbox) == {message_id: 1}


def test_a_producer_in_another_language_enqueues_by_name(sandbox, start, store):
    start()
    app.send_task(
        "supersms.send",
        kwargs={
            "to": "1093446280",
            "to_country": "82",
            "from": "01029652189",
            "message": "from elsewhere",
            "id": "foreign1",
        },
        queue="sms.send",
    )
    app.send_task("supersms.send", kwargs={"to": "12", "message": "bad", "id": "foreign2"}, queue="sms.send")
    app.send_task("supersms.send", kwargs={"id": "foreign3"}, queue="sms.send")  # an id alone: no message
    wait_for_status(store, ["foreign1"], ["submitted"])
    wait_for_status(store, ["foreign2", "foreign3"], ["rejected"])
    assert store.load("foreign2")["reason"].startswith("invalid: to:")
    assert store.load("foreign3")["reason"] == "invalid: to: required"
    assert accepted_refs(sandbox) == {"foreign1": 1}


def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(sandbox, start, store):
    sandbox.set_faults(latency_s=1.5)
    doomed = start("doomed", concurrency=4)
    ids = send_many({"to": KOREAN, "message": f"kill {n}"} for n in range(12))
    wait_until(lambda: len(sandbox.log.sends()) >= 2, timeout_s=10, what="requests in flight")
    doomed.kill()
    sandbox.set_faults(latency_s=0)
    start("survivor", concurrency=8)
    wait_for_status(store, ids, FINAL_STATUSES | {Status.SUBMITTED}, timeout_s=90)
    refs = collections.Counter(entry.fields.get("ref") for entry in sandbox.log.sends())
    assert max(refs.values()) == 1, "no message reached the provider twice"
    unknown = [i for i in ids if store.load(i).get("reason") == "outcome_unknown"]
    assert 1 <= len(unknown) <= 4, "only the killed worker's in-flight attempts (4 threads) are unknowable"
    submitted = [i for i in ids if status_of(store, i) == "submitted"]
    assert sorted(submitted + unknown) == sorted(ids)


def test_the_rate_limit_holds_across_worker_processes(sandbox, start, store):
    env = {"SUPERSMS_RATE_LIMIT": "20", "SUPERSMS_RATE_BURST": "5"}
    start("w1", **env)
    start("w2", **env)
    ids = send_many({"to": KOREAN, "message": f"paced {n}"} for n in range(90))
    wait_for_status(store, ids, ["submitted"], timeout_s=60)
    times = sorted(entry.monotonic_s for entry in sandbox.log.sends())
    busiest = max(sum(1 for t in times[i:] if t < start_s + 1.0) for i, start_s in enumerate(times))
    # The limiter grants slots; the sandbox stamps arrivals. A send that leaves its slot late (a busy CPU)
    # lands nearer the next ones, so the window measured here gets up to 10 % of a second of slack.
    assert busiest <= int(20 * 1.1) + 5
    span_s = times[-1] - times[0]
    assert span_s >= (90 - 5) / 20 * 0.9


def test_nothing_unclaimed_stays_behind(sandbox, start, store, redis_client):
    start()
    ids = send_many({"to": KOREAN, "message": f"m{n}"} for n in itertools.islice(itertools.count(), 25))
    wait_for_status(store, ids, ["submitted"])
    assert redis_client.zcard("supersms:inflight") == 0


def test_a_retry_held_by_a_killed_worker_comes_back_after_the_visibility_timeout(sandbox, start, store):
    sandbox.set_faults(script=("R001",))
    doomed = start("doomed", SUPERSMS_BACKOFF_BASE="8", SUPERSMS_BACKOFF_MAX="8")
    message_id = send_message(KOREAN, "come back")
    wait_for_status(store, [message_id], ["retrying"])
    doomed.kill()
    start("survivor")
    wait_for_status(store, [message_id], ["submitted"], timeout_s=60)
    assert [entry.err_code for entry in sandbox.log.sends()] == ["R001", "R000"]


def test_a_task_carrying_only_an_unknown_id_ends_rejected_and_the_worker_goes_on(sandbox, start, store):
    """No record has that id, so it is no re-enqueue of ours: a producer published a message without fields."""
    worker = start()
    app.send_task("supersms.send", kwargs={"id": "nosuchmessage1"})
    message_id = send_message(KOREAN, "still works")
    wait_for_status(store, [message_id], ["submitted"])
    wait_for_status(store, ["nosuchmessage1"], ["rejected"])
    assert store.load("nosuchmessage1")["reason"] == "invalid: to: required"
    assert "Traceback" not in worker.output()


def test_a_message_whose_task_was_lost_is_sent_by_the_sweep(sandbox, start, store, redis_client):
    from datetime import UTC, datetime

    from supersms.tasks.producer import validate_one
    from supersms.workers import keys
    from supersms.workers.intake import queued_record

    message_id, message = validate_one({"to": KOREAN, "message": "task lost"})
    store.create_many([queued_record(message_id, message, default_ttl_s=3600, now=datetime.now(UTC))])
    redis_client.zadd(keys.DUE, {message_id: 0})  # due long ago, and no task anywhere
    start()
    wait_for_status(store, [message_id], ["submitted"], timeout_s=30)
    assert accepted_refs(sandbox) == {message_id: 1}
