import itertools
import json
import time

import pytest

from supersms.errors import StoreUnavailable, UnknownMessage
from supersms.workers import keys
from supersms.workers.records import MessageStore, Status, public_view
from supersms.workers.redis_io import connect


@pytest.fixture
def store(redis_url):
    return MessageStore(redis_client=connect(redis_url), record_ttl_s=3600)


NO_RATE_LIMIT = [0, 0, 0]


def claim(store, message_id, token):
    return store.begin(message_id, token, rate_args=NO_RATE_LIMIT)


def record(message_id, **extra):
    return {
        "id": message_id,
        "status": "queued",
        "to_country": "82",
        "to": "1093446280",
        "attempts": "0",
        "expires_ms": str(int((time.time() + 3600) * 1000)),
        **extra,
    }


def test_create_refuses_a_taken_id_and_leaves_the_first_record(store):
    assert store.create_many([record("a1"), record("a2")]) == [True, True]
    assert store.create_many([record("a1", to="1000000000")]) == [False]
    assert store.load("a1")["to"] == "1093446280"


def test_records_expire_after_their_ttl(store, redis_client):
    store.create_many([record("a1")])
    assert 3500 < redis_client.ttl(keys.message("a1")) <= 3600


def test_create_many_pipelines_large_batches(store):
    created = store.create_many(record(f"m{i}") for i in range(2500))
    assert created == [True] * 2500


def test_only_one_of_two_claims_is_granted(store):
    store.create_many([record("a1")])
    first, second = claim(store, "a1", "t1"), claim(store, "a1", "t2")
    assert first.step == "claimed" and first.attempts == 1
    assert second.step == "held"


def test_a_begin_run_again_with_its_own_token_finds_its_claim_once(store):
    """A begin whose reply was lost is sent again on a new connection: it is still the one attempt."""
    store.create_many([record("a1", payload='{"to": "01093446280"}')])
    first, again = claim(store, "a1", "t1"), claim(store, "a1", "t1")
    assert again == first
    assert (again.step, again.attempts, again.payload) == ("claimed", 1, '{"to": "01093446280"}')
    assert claim(store, "a1", "t2").step == "held"


def test_a_finished_message_cannot_be_claimed_again(store):
    store.create_many([record("a1")])
    claim(store, "a1", "t1")
    store.settle("a1", "t1", Status.SUBMITTED, {"msgid": "00000001"}, msgid="00000001")
    assert claim(store, "a1", "t2").step == "submitted"


def test_a_message_not_yet_due_is_not_claimed(store):
    store.create_many([record("a1", next_attempt_ms=str(int((time.time() + 60) * 1000)))])
    assert claim(store, "a1", "t1").step == "early"


def test_settle_indexes_the_msgid(store):
    store.create_many([record("a1")])
    claim(store, "a1", "t1")
    assert (
        store.settle("a1", "t1", Status.SUBMITTED, {"msgid": "00000001"}, msgid="00000001").status
        == "submitted"
    )
    assert store.message_for_msgid("00000001") == "a1"


def test_a_message_that_waited_loses_its_reason_once_submitted(store):
    store.create_many([record("a1")])
    store.defer("a1", Status.RETRYING, {"reason": "paused:R002"})
    claim(store, "a1", "t1")
    store.settle("a1", "t1", Status.SUBMITTED, {"msgid": "00000001"}, msgid="00000001")
    assert "reason" not in store.load("a1")


def test_a_retry_keeps_its_new_reason(store):
    store.create_many([record("a1")])
    store.defer("a1", Status.RETRYING, {"reason": "paused:R002"})
    claim(store, "a1", "t1")
    store.settle("a1", "t1", Status.RETRYING, {"reason": "R009"})
    assert store.load("a1")["reason"] == "R009"


def test_settle_with_a_lost_claim_changes_nothing(store):
    store.create_many([record("a1")])
    claim(store, "a1", "t1")
    assert store.settle("a1", "other", Status.SUBMITTED, {"msgid": "1"}).status == "lost"
    assert store.load("a1")["status"] == "queued"


def test_a_send_result_after_the_report_keeps_the_final_status(store, redis_client):
    store.create_many([record("a1")])
    claim(store, "a1", "t1")
    redis_client.hset(keys.message("a1"), "status", "delivered")
    assert store.settle("a1", "t1", Status.SUBMITTED, {"msgid": "7"}, msgid="7").status == "delivered"
    assert store.load("a1")["msgid"] == "7"


@pytest.mark.parametrize("final", ["delivered", "undelivered", "rejected", "failed", "submitted"])
def test_defer_never_moves_a_record_back(store, final):
    store.create_many([record("a1", status=final)])
    assert store.defer("a1", Status.RETRYING, {"reason": "paused:R002"}) == final
    assert store.load("a1")["status"] == final


def test_defer_leaves_a_claimed_record_alone(store):
    store.create_many([record("a1")])
    claim(store, "a1", "t1")
    assert store.defer("a1", Status.FAILED, {"reason": "ttl_expired"}) == "queued"


def test_stale_claims_end_as_outcome_unknown_and_fresh_ones_stay(store):
    store.create_many([record("old"), record("new")])
    claim(store, "old", "t1")
    time.sleep(0.05)
    claim(store, "new", "t2")
    assert store.expire_stale_claims(older_than_s=0.03) == ["old"]
    assert store.load("old")["status"] == "failed" and store.load("old")["reason"] == "outcome_unknown"
    assert store.load("new")["claim"] == "t2"
    assert store.settle("old", "t1", Status.SUBMITTED, {}).status == "lost"


def test_a_message_whose_outcome_is_unknown_is_never_claimed_again(store):
    """The task of a swept claim may be delivered again (acks_late, a lost worker): it must not send."""
    store.create_many([record("a1")])
    claim(store, "a1", "t1")
    assert store.expire_stale_claims(older_than_s=0) == ["a1"]
    assert claim(store, "a1", "t2").step == "final"
    assert store.load("a1")["attempts"] == "1" and "claim" not in store.load("a1")


def test_a_stale_claim_swept_after_the_report_keeps_the_reported_status(store, redis_client):
    """A report may finish a message while its claim is still held (the worker died after sending)."""
    store.create_many([record("a1")])
    claim(store, "a1", "t1")
    redis_client.hset(keys.message("a1"), mapping={"status": "delivered", "announced": "delivered"})
    store.expire_stale_claims(older_than_s=0)
    assert store.load("a1")["status"] == "delivered" and "claim" not in store.load("a1")
    assert redis_client.xlen(keys.EVENTS) == 0, "nothing announced: the report's own announcement stands"


def test_unknown_ids_raise(store):
    with pytest.raises(UnknownMessage, match="nope"):
        store.load("nope")


def test_public_view_has_the_contract_fields_and_hides_internals(store):
    store.create_many(
        [record("a1", payload=json.dumps({"message": "secret"}), report=json.dumps({"rescnt": 1}))]
    )
    view = public_view(store.load("a1"))
    assert list(view)[:10] == [
        "id",
        "status",
        "to_country",
        "to",
        "ref",
        "msgid",
        "msg_type",
        "err_code",
        "attempts",
        "report",
    ]
    assert view["report"] == {"rescnt": 1}
    assert "payload" not in view


def test_an_unreachable_redis_is_reported_as_store_unavailable():
    from supersms.embedded import free_port

    store = MessageStore(redis_client=connect(f"redis://127.0.0.1:{free_port()}/0"), record_ttl_s=60)
    with pytest.raises(StoreUnavailable, match="Redis failed to read a record"):
        store.load("a1")


def test_overdue_returns_unclaimed_open_messages_once_per_period_and_forgets_the_rest(store, redis_client):
    store.create_many(
        [
            record("lost"),
            record("lostretry", status="retrying"),
            record("claimed"),
            record("done", status="delivered"),
        ]
    )
    claim(store, "claimed", "t1")
    redis_client.zadd(keys.DUE, {"lost": 0, "lostretry": 0, "claimed": 0, "done": 0, "gone": 0})
    assert sorted(store.overdue(older_than_s=60, limit=100)) == ["lost", "lostretry"]
    assert store.overdue(older_than_s=60, limit=100) == [], "marked due again from now"
    assert sorted(redis_client.zrange(keys.DUE, 0, -1)) == ["lost", "lostretry"]


def test_a_new_queued_message_is_due_and_a_claim_takes_it_out(store, redis_client):
    store.create_many([record("a1"), record("r1", status="rejected")])
    assert redis_client.zrange(keys.DUE, 0, -1) == ["a1"]
    claim(store, "a1", "t1")
    assert redis_client.zcard(keys.DUE) == 0
    store.settle("a1", "t1", Status.RETRYING, {"next_attempt_ms": str(int(time.time() * 1000) + 5000)})
    assert redis_client.zrange(keys.DUE, 0, -1) == ["a1"]


# -- beginning an attempt: the checks before a claim, in one script ------------------------------------------


def rate_args(rate_per_s, burst=0, max_wait_s=0.0):
    interval_us = int(1_000_000 / rate_per_s)
    return [interval_us, burst * interval_us, int(max_wait_s * 1_000_000)]


def test_a_message_past_its_ttl_ends_failed_and_is_announced_in_the_same_step(store, redis_client):
    store.create_many([record("a1", expires_ms=str(int(time.time() * 1000) - 1))])
    begun = claim(store, "a1", "t1")
    assert (begun.step, begun.callback_due) == ("expired", False)
    assert store.load("a1")["status"] == "failed" and store.load("a1")["reason"] == "ttl_expired"
    assert [event["status"] for _, event in redis_client.xrange(keys.EVENTS)] == ["failed"]
    assert claim(store, "a1", "t2").step == "final"
    assert redis_client.xlen(keys.EVENTS) == 1, "announced once"


def test_a_final_record_left_unannounced_is_announced_by_the_next_begin(store, redis_client):
    store.create_many([record("a1", status="rejected", on_final="{}")])
    begun = claim(store, "a1", "t1")
    assert (begun.step, begun.callback_due) == ("final", True)
    assert [event["status"] for _, event in redis_client.xrange(keys.EVENTS)] == ["rejected"]


def test_the_pause_holds_before_any_claim(store, redis_client):
    store.create_many([record("a1")])
    redis_client.set(keys.PAUSE, json.dumps({"code": "R002", "reason": "auth"}), px=60_000)
    begun = claim(store, "a1", "t1")
    assert begun.step == "paused" and begun.pause.code == "R002" and 59 < begun.pause.remaining_s <= 60
    assert begun.status == "queued" and "claim" not in store.load("a1")


def test_a_rate_slot_is_booked_ahead_when_near_and_refused_when_far(store):
    store.create_many([record(f"m{n}") for n in range(4)])
    near = rate_args(10, max_wait_s=0.25)  # one slot every 100 ms; wait at most 250 ms
    assert claim(store, "m0", "t").step == "claimed"
    first = store.begin("m1", "t", rate_args=near)
    assert first.step == "claimed", "the first send of an idle limiter goes at once"
    second, third = store.begin("m2", "t", rate_args=near), store.begin("m3", "t", rate_args=near)
    assert second.step == "wait" and 0.05 < second.wait_s <= 0.1
    assert third.step == "wait" and 0.15 < third.wait_s <= 0.2, "booked behind the second, not beside it"
    assert "claim" not in store.load("m2"), "waiting holds no claim"
    assert store.begin("m2", "t", rate_args=near, slot_booked=True).step == "claimed"
    fourth = store.begin("m3", "t", rate_args=rate_args(10, max_wait_s=0.05))
    assert fourth.step == "limited" and fourth.wait_s > 0.05


def test_sends_given_back_by_the_rate_limiter_come_back_one_slot_apart(store, redis_client):
    store.create_many([record(f"m{n}") for n in range(8)])
    horizon = rate_args(10, max_wait_s=0.25)  # one slot every 100 ms; book at most 250 ms ahead
    booked = [store.begin(f"m{n}", "t", rate_args=horizon).step for n in range(3)]
    assert booked == ["claimed", "wait", "wait"]
    given_back = [store.begin(f"m{n}", "t", rate_args=horizon) for n in range(3, 8)]
    assert {begun.step for begun in given_back} == {"limited"}
    waits = [begun.wait_s for begun in given_back]
    gaps = [later - earlier for earlier, later in itertools.pairwise(waits)]
    assert all(0.05 < gap <= 0.1 for gap in gaps), f"each later in line by one slot: {waits}"
    assert 0.1 < waits[0] <= 0.3 - 0.125, (
        "the first comes back when the next free slot is half the horizon away"
    )
    assert 0 < redis_client.pttl(keys.RATE_LINE) <= 800, "the line is forgotten once its last turn has passed"


def test_an_attempt_begins_and_settles_after_redis_forgot_its_scripts(store, redis_client):
    store.create_many([record("a1")])
    redis_client.script_flush()
    assert claim(store, "a1", "t1").step == "claimed"
    redis_client.script_flush()
    assert store.settle("a1", "t1", Status.SUBMITTED, {"msgid": "00000001"}).status == "submitted"


def test_common_fields_go_to_every_record_and_a_records_own_field_wins(store, redis_client):
    own = record("a1", status=None, attempts=None, to="1000000000")
    created = store.create_many(
        [{k: v for k, v in own.items() if v is not None}, {"id": "a2", "to": "1093446281"}],
        common={"status": "queued", "attempts": "0", "to": "1099999999"},
    )
    assert created == [True, True]
    assert (store.load("a1")["status"], store.load("a1")["to"]) == ("queued", "1000000000")
    assert store.load("a2") == {"id": "a2", "status": "queued", "attempts": "0", "to": "1093446281"}
    assert {member for member, _ in redis_client.zrange(keys.DUE, 0, -1, withscores=True)} == {"a1", "a2"}
