"""``supersms status ID...``: one JSON object a line with the contract's fields; an unknown id exits 1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from supersms.protocol.message import validate_message
from supersms.workers.intake import queued_record, with_ref
from supersms.workers.records import Status
from tests.cli.helpers import SENDER

CONTRACT_FIELDS = {
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
    "created_at",
    "updated_at",
}


def record(store, message_id, to):
    message = with_ref(validate_message({"to": to, "message": "hi", "from": SENDER}), message_id)
    store.create_many([queued_record(message_id, message, default_ttl_s=600, now=datetime.now(UTC))])


def submitted(store, message_id, msgid):
    assert store.begin(message_id, "token1", rate_args=[0, 0, 0]).step == "claimed"
    fields = {"err_code": "R000", "msgid": msgid, "msg_type": "1"}
    store.settle(message_id, "token1", Status.SUBMITTED, fields, msgid=msgid)


@pytest.fixture
def two_messages(store):
    record(store, "first1", "010-9344-6280")
    record(store, "second2", "+1 202-555-0143")
    submitted(store, "second2", "00000123")


def strict_json(line):
    return json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))


def test_status_prints_each_record_as_one_json_line_in_the_order_asked(supersms, two_messages):
    result = supersms("status", "second2", "first1")
    assert (result.returncode, result.stderr) == (0, "")
    second, first = (strict_json(line) for line in result.stdout_lines)
    assert set(first) == set(second) == CONTRACT_FIELDS
    assert first | {"created_at": None, "updated_at": None} == {
        "id": "first1",
        "status": "queued",
        "to_country": "82",
        "to": "1093446280",
        "ref": "first1",
        "msgid": None,
        "msg_type": None,
        "err_code": None,
        "attempts": 0,
        "report": None,
        "created_at": None,
        "updated_at": None,
    }
    assert (second["status"], second["to_country"], second["to"]) == ("submitted", "1", "2025550143")
    assert (second["msgid"], second["msg_type"], second["err_code"], second["attempts"]) == (
        "00000123",
        1,
        "R000",
        1,
    )
    for stamp in ("created_at", "updated_at"):
        assert datetime.fromisoformat(first[stamp]).utcoffset().total_seconds() == 0


def test_an_unknown_id_exits_1_after_printing_the_known_ones(supersms, two_messages):
    result = supersms("status", "first1", "nosuch9", "second2")
    assert result.returncode == 1
    assert [strict_json(line)["id"] for line in result.stdout_lines] == ["first1", "second2"]
    line = result.only_error_line()
    assert line.startswith("supersms status: ") and "nosuch9" in line


def test_status_without_an_id_exits_2_naming_the_argument(supersms):
    result = supersms("status")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.only_error_line() == "supersms status: ID: required"


def test_a_malformed_id_exits_2_naming_it_before_printing_any_record(supersms, two_messages):
    result = supersms("status", "first1", "bad id!")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.only_error_line() == (
        "supersms status: ID: must be 1-20 ASCII letters or digits, got 'bad id!'"
    )
