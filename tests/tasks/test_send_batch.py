"""The campaign task ``supersms.send_batch``: many recorded messages in one task, each sent on its own terms."""

from __future__ import annotations

import ast
import collections
import re
from datetime import UTC, datetime

import pytest

from supersms.tasks.app import app
from supersms.tasks.producer import validate_one
from supersms.tasks.queues import waiting_tasks
from supersms.workers.intake import queued_record
from tests.support.processes import wait_until
from tests.tasks.test_sending import KOREAN, wait_for_status


def recorded(store, count: int, text: str = "campaign") -> list[str]:
    """Record ``count`` queued messages, publishing no task for them."""
    accepted = [validate_one({"to": KOREAN, "message": f"{text} {n}"}) for n in range(count)]
    now = datetime.now(UTC)
    store.create_many([queued_record(i, message, default_ttl_s=3600, now=now) for i, message in accepted])
    return [message_id for message_id, _ in accepted]


def enqueue_batch(ids: list[str]) -> None:
    # Imported here, not at the top: pytest's collection would bind the task, configuring the app before the
    # test environment points it at the private Redis.
    from supersms.tasks.send import send_batch

    send_batch.apply_async(kwargs={"ids": ids})


def sends_by_ref(sandbox):
    return collections.Counter(entry.fields.get("ref") for entry in sandbox.log.sends())


BATCH_RECEIVED = re.compile(r"Task supersms\.send_batch\[[\w-]+\] received")
BATCH_RESULT = re.compile(r"Task supersms\.send_batch\[[\w-]+\] succeeded in [\d.]+s: (\{.*\})")


def batches_done(worker) -> bool:
    """No batch waits in the queue and every batch the worker received has finished."""
    output = worker.output()
    received = len(BATCH_RECEIVED.findall(output))
    return waiting_tasks(app) == 0 and received == len(BATCH_RESULT.findall(output))


def batch_totals(output: str) -> collections.Counter[str]:
    """The counts every finished batch returned (attempted, handed_on, held_back, dropped), added up."""
    totals: collections.Counter[str] = collections.Counter()
    for result in BATCH_RESULT.findall(output):
        totals.update(ast.literal_eval(result))
    return totals


def test_a_batch_sends_each_message_once_and_retries_each_on_its_own(sandbox, start, store):
    sandbox.set_faults(script=("R001", "R009"))
    start()
    ids = recorded(store, 30)
    enqueue_batch(ids)
    wait_for_status(store, ids, ["submitted"])
    sends = sends_by_ref(sandbox)
    assert set(sends) == set(ids)
    assert sorted(sends.values()) == [1] * 28 + [2, 2], "two refusals, each retried once by a task of its own"
    assert all(store.load(i)["attempts"] == str(sends[i]) for i in ids)


def test_a_batch_past_its_time_budget_hands_the_rest_on(sandbox, start, store):
    sandbox.set_faults(latency_s=0.5)
    worker = start(concurrency=1)  # SUPERSMS_VISIBILITY_TIMEOUT 20: a batch spends at most 5 s
    ids = recorded(store, 16)
    enqueue_batch(ids)
    wait_for_status(store, ids, ["submitted"], timeout_s=60)
    assert set(sends_by_ref(sandbox).values()) == {1}
    wait_until(
        lambda: batch_totals(worker.output())["attempted"] == 16, timeout_s=10, what="every batch's end"
    )
    totals = batch_totals(worker.output())
    assert totals["handed_on"] > 0, "the first batch ran out of time"
    assert totals["attempted"] == 16, "each message attempted by exactly one batch, none past its budget"
    assert "Task supersms.send[" not in worker.output(), "nothing lost to be found by the sweep"


def test_messages_already_finished_or_unknown_are_skipped(sandbox, start, store):
    worker = start()
    ids = recorded(store, 3)
    enqueue_batch([ids[0], "nosuchmessage1", *ids[1:]])
    wait_for_status(store, ids, ["submitted"])
    wait_until(lambda: batches_done(worker), timeout_s=10, what="the batch's end")
    assert batch_totals(worker.output()) == {"attempted": 3, "dropped": 1}, "the rest of the batch went on"
    enqueue_batch(ids)
    wait_until(lambda: worker.output().count("supersms.send_batch") >= 4, timeout_s=10, what="both batches")
    assert set(sends_by_ref(sandbox).values()) == {1}, "the second batch found them finished"
    assert "message nosuchmessage1 dropped: unknown message id" in worker.output()


@pytest.mark.parametrize(
    ("count", "size"), [(1, 1), (511, 1), (512, 2), (2560, 10), (25_600, 100), (1_000_000, 100)]
)
def test_a_call_is_batched_only_while_every_worker_thread_still_gets_a_task(count, size):
    from supersms.tasks.producer import campaign_batch_size

    assert campaign_batch_size(count) == size


def test_a_large_send_many_enqueues_batches_that_send_each_message_once(sandbox, start, store):
    from supersms.tasks import send_many

    ids = send_many({"to": KOREAN, "message": f"campaign {n}"} for n in range(600))
    assert waiting_tasks(app) == 300, "600 messages in batches of 2"
    worker = start()
    wait_for_status(store, ids, ["submitted"], timeout_s=60)
    assert set(sends_by_ref(sandbox)) == set(ids) and set(sends_by_ref(sandbox).values()) == {1}
    wait_until(lambda: batches_done(worker), timeout_s=10, what="every batch's end")
    assert batch_totals(worker.output())["attempted"] == 600, "every message travelled in a batch"


def test_batch_size_one_keeps_a_task_per_message(sandbox, store):
    from supersms.tasks import send_many

    send_many(({"to": KOREAN, "message": f"one {n}"} for n in range(600)), batch_size=1)
    assert waiting_tasks(app) == 600


def test_a_batch_held_by_the_rate_limit_waits_whole_instead_of_scattering(sandbox, start, store):
    # A slot every 250 ms, booked at most 1 s ahead: six batches at once want more than the next second holds.
    worker = start(SUPERSMS_RATE_LIMIT="4", SUPERSMS_RATE_BURST="1")
    ids = recorded(store, 24)
    for first in range(0, 24, 4):
        enqueue_batch(ids[first : first + 4])
    wait_for_status(store, ids, ["submitted"], timeout_s=40)
    assert set(sends_by_ref(sandbox)) == set(ids) and set(sends_by_ref(sandbox).values()) == {1}
    output = worker.output()
    assert "'held_back':" in output, "the limit held the batch back at least once"
    assert "Task supersms.send[" not in output, "no message left its batch for a task of its own"
