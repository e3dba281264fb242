"""``supersms send --jsonl``: many messages in one pass, ids in input order; one bad line enqueues nothing."""

from __future__ import annotations

import json
import time

import pytest

from tests.cli.helpers import assert_nothing_enqueued, enqueued_message_ids, queue_length, record_keys

BULK = 10_000


def lines(messages):
    return "".join(json.dumps(message, ensure_ascii=False) + "\n" for message in messages)


def numbered(count):
    """``count`` messages to distinct numbers 010-9344-0000, -0001, ...: the n-th line goes to ``109344nnnn``."""
    return [{"to": f"010-9344-{n:04d}", "message": f"알림 {n}"} for n in range(count)]


def test_ten_thousand_lines_are_enqueued_in_one_pass_with_ids_in_input_order(
    supersms, redis_client, tmp_path, capsys
):
    path = tmp_path / "bulk.jsonl"
    path.write_text(lines(numbered(BULK)), encoding="utf-8")
    started = time.perf_counter()
    result = supersms("send", "--jsonl", str(path))
    elapsed_s = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nsupersms send --jsonl: {BULK} messages in {elapsed_s:.2f} s = {BULK / elapsed_s:.0f} messages/s"
        )
    assert (result.returncode, result.stderr) == (0, "")
    ids = result.stdout_lines
    assert len(ids) == len(set(ids)) == BULK
    pipe = redis_client.pipeline(transaction=False)
    for message_id in ids:
        pipe.hget(f"supersms:msg:{{{message_id}}}", "to")
    assert pipe.execute() == [f"109344{n:04d}" for n in range(BULK)]
    assert len(record_keys(redis_client)) == BULK
    assert sorted(enqueued_message_ids(redis_client)) == sorted(ids), "every message in one task"
    assert queue_length(redis_client) < BULK / 10, "a campaign goes in batch tasks"


def test_stdin_is_read_with_a_dash_and_blank_lines_are_skipped(supersms, store, redis_client):
    result = supersms(
        "send",
        "--jsonl",
        "-",
        stdin=lines(numbered(2)) + "\n" + lines([{"to": "+82 10-1234-5678", "message": "x", "id": "third3"}]),
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout_lines) == 3 and result.stdout_lines[2] == "third3"
    assert [store.load(i)["to"] for i in result.stdout_lines] == ["1093440000", "1093440001", "1012345678"]
    assert queue_length(redis_client) == 3


@pytest.mark.parametrize(
    ("bad_line", "names"),
    [
        ('{"to": "01093446280", "message": ', "line 4: "),
        ("[1, 2]", "line 4: "),
        ('{"to": "abc", "message": "x"}', "line 4: to: "),
        ('{"to": "01093446280", "message": "x", "colour": "red"}', "line 4: colour: "),
    ],
    ids=["bad JSON", "not an object", "bad number", "unknown field"],
)
def test_an_invalid_line_is_named_by_its_number_and_nothing_from_the_file_is_enqueued(
    supersms, redis_client, bad_line, names
):
    text = lines(numbered(2)) + "\n" + bad_line + "\n" + lines(numbered(2))  # the bad line is line 4
    result = supersms("send", "--jsonl", "-", stdin=text)
    assert (result.returncode, result.stdout) == (2, "")
    line = result.only_error_line()
    assert line.startswith(f"supersms send: {names}"), line
    assert_nothing_enqueued(redis_client)


def test_a_line_repeating_the_id_of_an_earlier_one_is_refused_and_nothing_is_enqueued(supersms, redis_client):
    first = {"to": "01093446280", "message": "one", "id": "DUP1x"}
    again = {"to": "01011112222", "message": "another", "id": "DUP1x"}
    result = supersms("send", "--jsonl", "-", stdin=lines([first, *numbered(2), again]))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.only_error_line() == "supersms send: line 4: id: repeats the id of line 1 (DUP1x)"
    assert_nothing_enqueued(redis_client)


def test_a_line_that_is_not_utf8_is_named_and_nothing_is_enqueued(supersms, redis_client):
    result = supersms("send", "--jsonl", "-", stdin=lines(numbered(1)).encode() + b'{"message": "\xff"}\n')
    assert result.returncode == 2
    assert result.only_error_line() == "supersms send: line 2: not valid UTF-8"
    assert_nothing_enqueued(redis_client)


def test_an_empty_file_enqueues_nothing_and_succeeds(supersms, redis_client):
    result = supersms("send", "--jsonl", "-", stdin="")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert_nothing_enqueued(redis_client)
