"""The Python producer API: ``send_message`` and ``send_many`` validate, record and enqueue, in process."""

from __future__ import annotations

import json
import re

import pytest
from celery import Signature

from supersms.errors import InvalidMessage
from supersms.protocol.message import TTL_MAX_S
from supersms.tasks import send_many, send_message
from supersms.tasks.app import app
from supersms.tasks.queues import waiting_tasks
from tests.support import broker

MESSAGE_ID = re.compile(r"[A-Za-z0-9]{20}")
KOREAN = "010-9344-6280"


def records(redis_client):
    return sorted(redis_client.scan_iter(match="supersms:msg:*", count=1000))


def assert_nothing_enqueued(redis_client):
    assert records(redis_client) == []
    assert waiting_tasks(app) == 0


@pytest.mark.parametrize("to", ["01093446280", "010-9344-6280", "+82 10-9344-6280", "0082 10 9344 6280"])
def test_send_message_returns_a_20_character_id_and_queues_a_normalised_record(store, redis_client, to):
    message_id = send_message(to, "안녕하세요")
    assert MESSAGE_ID.fullmatch(message_id)
    record = store.load(message_id)
    assert (record["status"], record["to_country"], record["to"]) == ("queued", "82", "1093446280")
    assert record["ref"] == message_id, "our id travels as the provider's ref"
    assert waiting_tasks(app) == 1


def test_a_national_number_of_another_country_is_read_with_to_country(store):
    record = store.load(send_message("090-1234-5678", "hello", to_country="81"))
    assert (record["to_country"], record["to"]) == ("81", "9012345678")


def test_every_keyword_is_kept_in_the_recorded_message(store):
    message_id = send_message(
        KOREAN,
        "주문이 접수되었습니다",
        sender="02-123-4567",
        title="주문",
        ref="order42",
        ttl=TTL_MAX_S,
        charset="euc-kr",
        payment_code="PAY1",
        client_sub_id="shop-7",
        origin_cid="123456789",
    )
    payload = json.loads(store.load(message_id)["payload"])
    assert payload == {
        "to": "1093446280",
        "to_country": "82",
        "from": "021234567",
        "message": "주문이 접수되었습니다",
        "title": "주문",
        "ref": "order42",
        "ttl": TTL_MAX_S,
        "charset": "euc-kr",
        "payment_code": "PAY1",
        "client_sub_id": "shop-7",
        "origin_cid": "123456789",
    }


def test_a_producer_given_id_is_kept_and_a_second_send_is_not_enqueued_again(store, redis_client):
    assert send_message(KOREAN, "first", id="order42") == "order42"
    assert send_message(KOREAN, "second", id="order42") == "order42"
    assert send_many([{"to": KOREAN, "message": "third", "id": "order42"}]) == ["order42"]
    assert waiting_tasks(app) == 1
    assert records(redis_client) == ["supersms:msg:{order42}"]
    assert json.loads(store.load("order42")["payload"])["message"] == "first"


def test_two_messages_of_one_call_with_the_same_id_are_refused_and_nothing_is_enqueued(redis_client):
    messages = [
        {"to": KOREAN, "message": "one", "id": "order42"},
        {"to": KOREAN, "message": "two"},
        {"to": KOREAN, "message": "three", "id": "order42"},
    ]
    with pytest.raises(InvalidMessage) as refused:
        send_many(messages)
    assert str(refused.value) == "[2].id: repeats the id of [0] (order42)"
    assert (waiting_tasks(app), records(redis_client)) == (0, [])


@pytest.mark.parametrize(
    ("keywords", "field"),
    [
        ({"to": "abc"}, "to"),
        ({"to": "821093446280"}, "to"),
        ({"to_country": "999"}, "to_country"),
        ({"message": "   "}, "message"),
        ({"sender": "12"}, "from"),
        ({"ttl": 0}, "ttl"),
        ({"ttl": TTL_MAX_S + 1}, "ttl"),
        ({"ref": "a" * 21}, "ref"),
        ({"ref": "with space"}, "ref"),
        ({"charset": "latin1"}, "charset"),
        ({"payment_code": "x" * 21}, "payment_code"),
        ({"origin_cid": "12345678"}, "origin_cid"),
        ({"id": "a" * 21}, "id"),
        ({"id": "not-an-id"}, "id"),
    ],
)
def test_invalid_input_raises_a_value_error_naming_the_field_and_enqueues_nothing(
    redis_client, keywords, field
):
    arguments = {"to": KOREAN, "message": "hi", **keywords}
    with pytest.raises(InvalidMessage) as raised:
        send_message(**arguments)
    assert isinstance(raised.value, ValueError)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ") and raised.value.rule
    assert_nothing_enqueued(redis_client)


def test_the_longest_id_and_ref_are_accepted(store):
    message_id = send_message(KOREAN, "hi", id="a" * 20, ref="b" * 20)
    assert message_id == "a" * 20
    assert store.load(message_id)["ref"] == "b" * 20


def test_send_many_returns_ids_in_input_order(store, redis_client):
    ids = send_many({"to": f"010-9344-{n:04d}", "message": f"n{n}"} for n in range(50))
    assert len(set(ids)) == 50
    assert [store.load(i)["to"] for i in ids] == [f"109344{n:04d}" for n in range(50)]
    assert [broker.call_of(task) for task in broker.take_all(app)] == [([], {"id": i}) for i in ids]


def test_send_many_validates_every_message_before_recording_any(redis_client):
    messages = [{"to": KOREAN, "message": f"m{n}"} for n in range(5)]
    messages[2] = {"to": "010-93", "message": "m2"}
    with pytest.raises(InvalidMessage) as raised:
        send_many(messages)
    assert raised.value.field == "[2].to"
    assert_nothing_enqueued(redis_client)


@pytest.mark.parametrize(
    ("item", "kind"), [("01093446280", "str"), (["01093446280", "hi"], "list"), (None, "NoneType")]
)
def test_send_many_refuses_an_item_that_is_not_a_mapping_by_its_index(redis_client, item, kind):
    with pytest.raises(InvalidMessage) as raised:
        send_many([{"to": KOREAN, "message": "fine"}, item])
    assert str(raised.value) == f"[1]: must be a mapping of field names to values, not {kind}"
    assert_nothing_enqueued(redis_client)


@pytest.mark.parametrize("batch_size", [0, -5, "x", 2.5, True])
def test_send_many_refuses_a_batch_size_that_is_not_an_integer_of_1_or_more(redis_client, batch_size):
    with pytest.raises(InvalidMessage) as raised:
        send_many([{"to": KOREAN, "message": "fine"}], batch_size=batch_size)
    assert str(raised.value) == f"batch_size: must be an integer 1 or more, got {batch_size!r}"
    assert_nothing_enqueued(redis_client)


@pytest.mark.parametrize("on_final", ["notify.s()", {"task": "notify"}, print, Signature()])
def test_an_on_final_that_is_not_a_celery_signature_is_refused_and_nothing_is_enqueued(
    redis_client, on_final
):
    with pytest.raises(InvalidMessage) as raised:
        send_message(KOREAN, "fine", on_final=on_final)
    assert str(raised.value).startswith("on_final: must be a Celery signature such as some_task.s(), got ")
    with pytest.raises(InvalidMessage):
        send_many([{"to": KOREAN, "message": "fine"}], on_final=on_final)
    assert_nothing_enqueued(redis_client)


def test_send_many_of_nothing_enqueues_nothing(redis_client):
    assert send_many([]) == []
    assert_nothing_enqueued(redis_client)


def test_the_published_task_shows_neither_the_number_nor_the_text(redis_client):
    text = "비밀번호는 4821 입니다"
    message_id = send_message(KOREAN, text)
    [task] = broker.take_all(app)
    assert (task.headers["task"], task.delivery_info["routing_key"]) == ("supersms.send", "sms.send")
    for secret in ("1093446280", "01093446280", "9344-6280", text, "4821"):
        assert secret not in task.headers["kwargsrepr"]
        assert secret not in task.headers["argsrepr"]
    assert broker.call_of(task) == ([], {"id": message_id}), "only the id travels; the record holds the rest"
    body = task.body.decode() if isinstance(task.body, bytes) else task.body
    envelope = f"{body} {task.headers} {task.properties}"
    assert "1093446280" not in envelope and text not in envelope
