"""Reports matched to messages through the real stream and consumer group, in any order, exactly once."""

import json
import time

import pytest

from supersms.tasks.correlate import run_until_drained
from supersms.workers import keys
from supersms.workers.correlation import Correlator
from supersms.workers.outcomes import Outcomes
from supersms.workers.records import MessageStore, Status
from supersms.workers.redis_io import connect

MSGID = "00000123"


@pytest.fixture
def client(redis_url):
    return connect(redis_url)


@pytest.fixture
def store(client):
    return MessageStore(redis_client=client, record_ttl_s=3600)


@pytest.fixture
def calls():
    return []


@pytest.fixture
def outcomes(client, store, calls):
    return Outcomes(
        redis_client=client, store=store, run_callback=lambda sig, record: calls.append((sig, record))
    )


def correlator(client, outcomes, *, consumer="c1", horizon_s=3600.0, reclaim_idle_s=0.05):
    return Correlator(
        redis_client=client,
        consumer=consumer,
        record_ttl_s=3600,
        horizon_s=horizon_s,
        reclaim_idle_s=reclaim_idle_s,
        call_back=outcomes.call_back,
    )


def message(store, message_id="m1", status="submitted", **extra):
    fields = {"id": message_id, "status": status, "to_country": "82", "to": "1093446280", "ref": message_id}
    store.create_many([{**fields, **extra}])


def report(client, *, ref="m1", msgid=MSGID, err_code="1000", rslt_type="0", received_ms=None):
    query = f"msgid={msgid}&to=1093446280&to_country=82&err_code={err_code}&network=45008&rescnt=1"
    if err_code == "1000":
        query += "&sent_date=20150322140641"
    if ref:
        query += f"&ref={ref}"
    if rslt_type != "0":
        query += f"&rslt_type={rslt_type}"
    received_ms = received_ms if received_ms is not None else time.time() * 1000
    client.xadd(keys.REPORTS, {"query": query, "received_ms": str(received_ms), "source": "127.0.0.1"})


def test_a_report_matched_by_ref_delivers_the_message(client, store, outcomes):
    message(store)
    report(client)
    done = correlator(client, outcomes).run(budget_s=1)
    assert done.outcomes == {"delivered": 1}
    record = store.load("m1")
    assert record["status"] == "delivered"
    assert json.loads(record["report"]) == {
        "err_code": "1000",
        "network": "45008",
        "rescnt": 1,
        "sent_date": "2015-03-22T14:06:41+09:00",
        "rslt_type": "0",
    }
    assert client.xlen(keys.REPORTS) == 0, "handled entries leave the stream"


def test_a_report_with_a_producers_ref_is_matched_by_msgid(client, store, outcomes):
    message(store, ref="THEIRS1", msgid=MSGID)
    client.set(keys.msgid(MSGID), "m1")
    report(client, ref="THEIRS1", err_code="3001")
    correlator(client, outcomes).run(budget_s=1)
    assert store.load("m1")["status"] == "undelivered"


def test_a_report_whose_ref_is_another_messages_id_goes_to_its_own_message(client, store, outcomes):
    """m1 took its id as its ref; m2's producer chose the ref "m1". m2's report must not finish m1."""
    message(store, "m1", msgid="00000111")
    message(store, "m2", ref="m1", msgid=MSGID)
    client.set(keys.msgid(MSGID), "m2")
    report(client, ref="m1", msgid=MSGID, err_code="3001")
    done = correlator(client, outcomes).run(budget_s=1)
    assert done.outcomes == {"undelivered": 1}
    assert (store.load("m1")["status"], store.load("m2")["status"]) == ("submitted", "undelivered")


def test_the_same_report_twice_changes_the_record_once(client, store, outcomes):
    message(store)
    report(client)
    report(client)
    done = correlator(client, outcomes).run(budget_s=1)
    assert done.outcomes == {"delivered": 1, "duplicate": 1}
    assert client.xlen(keys.EVENTS) == 1


def test_an_intermediate_report_is_kept_and_does_not_end_the_message(client, store, outcomes):
    message(store)
    report(client, rslt_type="3", err_code="2003")
    correlator(client, outcomes).run(budget_s=1)
    record = store.load("m1")
    assert record["status"] == "submitted"
    assert [r["err_code"] for r in json.loads(record["intermediate"])] == ["2003"]
    report(client)
    correlator(client, outcomes).run(budget_s=1)
    assert store.load("m1")["status"] == "delivered"


def test_a_report_before_the_message_is_known_is_parked_then_applied(client, store, outcomes):
    report(client, ref=None)
    first = correlator(client, outcomes).run(budget_s=1)
    assert first.outcomes == {"missing": 1}
    assert client.xpending(keys.REPORTS, keys.REPORTS_GROUP)["pending"] == 1
    message(store)
    client.set(keys.msgid(MSGID), "m1")
    time.sleep(0.1)
    second = correlator(client, outcomes).run(budget_s=1)
    assert second.outcomes == {"delivered": 1}
    assert client.xpending(keys.REPORTS, keys.REPORTS_GROUP)["pending"] == 0


def test_a_report_that_never_matches_ends_in_the_dead_letter_stream(client, store, outcomes):
    report(client, ref=None, received_ms=time.time() * 1000 - 10_000)
    done = correlator(client, outcomes, horizon_s=5).run(budget_s=1)
    assert done.outcomes == {"dead": 1}
    dead = client.xrange(keys.REPORTS_DEAD)
    assert len(dead) == 1 and dead[0][1]["reason"] == "no matching message within the horizon"
    assert client.xpending(keys.REPORTS, keys.REPORTS_GROUP)["pending"] == 0


def test_a_report_settles_a_message_whose_outcome_was_unknown(client, store, outcomes):
    message(store, status="failed", reason="outcome_unknown")
    report(client)
    correlator(client, outcomes).run(budget_s=1)
    assert store.load("m1")["status"] == "delivered"
    assert store.load("m1")["reason"] == "outcome_unknown; report received"


def test_a_report_that_finishes_a_retrying_message_takes_its_reason_away(client, store, outcomes):
    """The provider took an attempt whose reply never came; the message waited for a retry meanwhile."""
    message(store, status="retrying", reason="paused:R002")
    report(client)
    correlator(client, outcomes).run(budget_s=1)
    assert store.load("m1")["status"] == "delivered"
    assert "reason" not in store.load("m1")


def test_a_report_teaches_the_msgid_of_a_message_whose_send_reply_was_lost(client, store, outcomes):
    """The reply carrying the msgid never came; a first report matched by ref indexes it for later ones."""
    message(store, status="failed", reason="outcome_unknown")
    report(client, rslt_type="3")
    correlator(client, outcomes).run(budget_s=1)
    assert store.load("m1")["msgid"] == MSGID and client.get(keys.msgid(MSGID)) == "m1"
    report(client, ref=None)
    done = correlator(client, outcomes).run(budget_s=1)
    assert done.outcomes == {"delivered": 1}
    assert store.load("m1")["status"] == "delivered"


@pytest.mark.parametrize("final", ["rejected", "delivered", "undelivered"])
def test_a_report_never_moves_a_finished_record(client, store, outcomes, final):
    message(store, status=final)
    report(client, err_code="3001")
    done = correlator(client, outcomes).run(budget_s=1)
    assert done.outcomes == {"ignored": 1}
    assert store.load("m1")["status"] == final


def test_entries_left_pending_by_a_dead_consumer_are_reclaimed_and_applied_once(client, store, outcomes):
    for n in range(5):
        message(store, f"m{n}")
        report(client, ref=f"m{n}", msgid=f"0000000{n}")
    dead = correlator(client, outcomes, consumer="dead")
    dead.ensure_group()
    taken = client.xreadgroup(keys.REPORTS_GROUP, "dead", {keys.REPORTS: ">"}, count=3)
    assert len(taken[0][1]) == 3, "the dead consumer took three entries and never acknowledged them"
    time.sleep(0.1)
    done = correlator(client, outcomes, consumer="alive").run(budget_s=1)
    assert done.outcomes == {"delivered": 5}
    assert all(store.load(f"m{n}")["status"] == Status.DELIVERED for n in range(5))
    assert client.xpending(keys.REPORTS, keys.REPORTS_GROUP)["pending"] == 0


def test_a_final_status_is_announced_once_with_the_producers_signature(client, store, outcomes, calls):
    message(store, on_final=json.dumps({"task": "producer.done", "args": [], "kwargs": {}}))
    report(client)
    report(client)
    correlator(client, outcomes).run(budget_s=1)
    outcomes.settled("m1")
    assert len(calls) == 1
    signature, record = calls[0]
    assert signature["task"] == "producer.done" and record["status"] == "delivered"
    events = client.xrange(keys.EVENTS)
    assert [event["status"] for _, event in events] == ["delivered"]
    assert events[0][1]["id"] == "m1"


def test_an_unknown_outcome_is_announced_again_when_its_report_settles_it(client, store, outcomes):
    message(store, status="failed", reason="outcome_unknown")
    outcomes.settled("m1")
    report(client)
    correlator(client, outcomes).run(budget_s=1)
    assert [event["status"] for _, event in client.xrange(keys.EVENTS)] == ["failed", "delivered"]


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way out handles it."""


def test_a_report_redelivered_after_a_crash_announces_once_and_still_calls_back(
    client, store, outcomes, calls
):
    message(store, on_final=json.dumps({"task": "producer.done", "args": [], "kwargs": {}}))
    report(client)

    def crash(message_id):
        raise Crash(message_id)

    doomed = Correlator(
        redis_client=client, consumer="doomed", record_ttl_s=3600, horizon_s=3600.0, call_back=crash
    )
    with pytest.raises(Crash):
        doomed.run(budget_s=1)
    assert client.xpending(keys.REPORTS, keys.REPORTS_GROUP)["pending"] == 1, (
        "the crash left the entry pending"
    )
    time.sleep(0.1)
    done = correlator(client, outcomes, consumer="survivor").run(budget_s=1)
    assert done.outcomes == {"duplicate": 1}
    assert [event["status"] for _, event in client.xrange(keys.EVENTS)] == ["delivered"]
    assert len(calls) == 1 and calls[0][1]["status"] == "delivered"
    assert store.load("m1")["called_back"] == "delivered"


def test_a_second_report_for_a_called_back_message_calls_nobody(client, store, outcomes, calls):
    message(store, on_final=json.dumps({"task": "producer.done", "args": [], "kwargs": {}}))
    report(client)
    correlator(client, outcomes).run(budget_s=1)
    report(client)
    correlator(client, outcomes).run(budget_s=1)
    assert len(calls) == 1


def test_a_message_without_a_signature_is_called_back_by_nobody(client, store, outcomes, calls, caplog):
    message(store)
    report(client)
    correlator(client, outcomes).run(budget_s=1)
    assert store.load("m1")["status"] == "delivered"
    assert calls == [] and "called_back" not in store.load("m1")
    assert "on_final" not in caplog.text


class ReportArrivesAfterFirstPass:
    """A real correlator; a report is stored just after its first pass has read the stream, while the
    trigger is still held (so that report's own trigger is refused and it waits for this run)."""

    def __init__(self, real, client, store):
        self.real, self.client, self.store, self.passes = real, client, store, 0

    def run(self, *, budget_s):
        done = self.real.run(budget_s=budget_s)
        self.passes += 1
        if self.passes == 1:
            message(self.store, "m2")
            report(self.client, ref="m2", msgid="00000124")
        return done


def test_a_correlation_run_releases_its_trigger_and_looks_once_more(client, store, outcomes):
    message(store)
    report(client)
    client.set(keys.CORRELATE_TRIGGER, "1")
    arriving = ReportArrivesAfterFirstPass(correlator(client, outcomes), client, store)
    done = run_until_drained(arriving, client)
    assert client.get(keys.CORRELATE_TRIGGER) is None  # the next report triggers a run of its own
    assert done.outcomes == {"delivered": 2}
    assert (store.load("m1")["status"], store.load("m2")["status"]) == ("delivered", "delivered")


def test_a_correlation_run_that_fails_still_releases_its_trigger(client):
    class Failing:
        def run(self, *, budget_s):
            raise ConnectionError("Redis went away")

    client.set(keys.CORRELATE_TRIGGER, "1")
    with pytest.raises(ConnectionError):
        run_until_drained(Failing(), client)
    assert client.get(keys.CORRELATE_TRIGGER) is None
