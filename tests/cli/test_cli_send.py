"""``supersms send``: one message from options, validated, recorded and enqueued; invalid input enqueues nothing."""

from __future__ import annotations

import json
import re

import pytest

from tests.cli.helpers import assert_nothing_enqueued, queue_length, record_keys

MESSAGE_ID = re.compile(r"[A-Za-z0-9]{20}")


@pytest.mark.parametrize(
    ("to", "country", "to_country", "national"),
    [
        ("01093446280", None, "82", "1093446280"),
        ("010-9344-6280", None, "82", "1093446280"),
        ("+82 10-9344-6280", None, "82", "1093446280"),
        ("090-1234-5678", "81", "81", "9012345678"),
    ],
)
def test_send_reads_the_number_as_people_write_it_and_prints_the_new_id(
    supersms, store, redis_client, to, country, to_country, national
):
    result = supersms(
        "send", "--to", to, "--message", "안녕하세요", *(["--country", country] if country else [])
    )
    assert (result.returncode, result.stderr) == (0, "")
    [message_id] = result.stdout_lines
    assert MESSAGE_ID.fullmatch(message_id)
    record = store.load(message_id)
    assert (record["status"], record["to_country"], record["to"]) == ("queued", to_country, national)
    assert queue_length(redis_client) == 1


def test_send_carries_every_option_into_the_recorded_message(supersms, store, redis_client):
    result = supersms(
        "send",
        "--to", "010-9344-6280",
        "--message", "주문이 접수되었습니다",
        "--from", "02-123-4567",
        "--title", "주문",
        "--ref", "order42",
        "--ttl", "600",
        "--charset", "euc-kr",
        "--payment-code", "PAY1",
        "--client-sub-id", "shop-7",
        "--origin-cid", "123456789",
        "--id", "myid0001",
    )  # fmt: skip
    assert (result.returncode, result.stdout_lines) == (0, ["myid0001"])
    record = store.load("myid0001")
    assert json.loads(record["payload"]) == {
        "to": "1093446280",
        "to_country": "82",
        "from": "021234567",
        "message": "주문이 접수되었습니다",
        "title": "주문",
        "ref": "order42",
        "ttl": 600,
        "charset": "euc-kr",
        "payment_code": "PAY1",
        "client_sub_id": "shop-7",
        "origin_cid": "123456789",
    }
    assert record["ref"] == "order42"
    assert queue_length(redis_client) == 1


def test_sending_a_known_id_again_prints_it_and_enqueues_nothing_more(supersms, redis_client):
    for _ in range(2):
        result = supersms("send", "--to", "01093446280", "--message", "once", "--id", "again1")
        assert (result.returncode, result.stdout_lines) == (0, ["again1"])
    assert (len(record_keys(redis_client)), queue_length(redis_client)) == (1, 1)


VALID = ("--to", "01093446280", "--message", "hi")


def test_a_message_without_a_sender_says_where_one_comes_from(supersms, redis_client):
    result = supersms("send", *VALID, SUPERSMS_FROM="")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.only_error_line() == "supersms send: from: required: give one, or set SUPERSMS_FROM"
    assert_nothing_enqueued(redis_client)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("--to", "abc", "--message", "hi"), "to: "),
        (("--to", "01093446280"), "--message: "),
        (("--message", "hi"), "--to"),
        ((*VALID, "--from", "12"), "from: "),
        ((*VALID, "--ttl", "604801"), "ttl: "),
        ((*VALID, "--id", "not-an-id"), "id: "),
        ((*VALID, "--charset", "latin1"), "--charset: "),
        ((*VALID, "--colour", "red"), "--colour: "),
        (("--jsonl", "/nonexistent/messages.jsonl"), "--jsonl: "),
        (("--jsonl", "-", "--message", "hi"), "--message: "),
    ],
    ids=[
        "bad number",
        "no message",
        "no recipient",
        "bad sender",
        "ttl over 7 days",
        "bad id",
        "unknown charset",
        "unknown option",
        "missing file",
        "--message with --jsonl",
    ],
)
def test_invalid_input_exits_2_with_one_line_naming_the_field_and_enqueues_nothing(
    supersms, redis_client, args, names
):
    result = supersms("send", *args)
    assert (result.returncode, result.stdout) == (2, "")
    line = result.only_error_line()
    assert line.startswith(f"supersms send: {names}"), line
    assert len(line) > len(f"supersms send: {names}") + 3, "the line also says the rule"
    assert_nothing_enqueued(redis_client)
