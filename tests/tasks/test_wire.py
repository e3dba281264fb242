"""Templates of stored messages: rendered once, filled per message (pure)."""

from __future__ import annotations

import json
import uuid

import pytest

from supersms.tasks.bulk import uuid4_strings
from supersms.tasks.wire import Template, encode_body, envelope


def test_a_template_fills_every_occurrence_of_each_placeholder_and_keeps_the_rest():
    text = json.dumps({"id": "ID", "root": "ID", "share": "100% {x}", "tag": "TAG"})
    template = Template.of(text, {"task_id": "ID", "delivery_tag": "TAG"})
    filled = template.fill(task_id="abc", delivery_tag="t-1")
    assert json.loads(filled) == {"id": "abc", "root": "abc", "share": "100% {x}", "tag": "t-1"}


def test_a_hole_can_take_a_whole_json_value():
    template = Template.of(json.dumps({"clock": "CLOCK"}), {"clock": '"CLOCK"'})
    assert json.loads(template.fill(clock="17")) == {"clock": 17}


def test_a_placeholder_missing_from_the_text_is_refused():
    with pytest.raises(ValueError, match="placeholder for 'task_id'"):
        Template.of('{"id": "other"}', {"task_id": "ID"})


def test_an_envelope_is_kombus_message_with_its_keys_in_kombus_order():
    message = envelope(
        encoded_body=encode_body('[[], {"id": "m1"}, {}]'),
        content_type="application/json",
        content_encoding="utf-8",
        headers={"task": "supersms.send"},
        properties={"correlation_id": "c"},
        delivery_mode=2,
        exchange="",
        routing_key="sms.send",
        priority=0,
        delivery_tag="d",
    )
    assert list(message) == ["body", "content-encoding", "content-type", "headers", "properties"]
    assert list(message["properties"]) == [
        "correlation_id",
        "delivery_mode",
        "delivery_info",
        "priority",
        "body_encoding",
        "delivery_tag",
    ]
    assert message["body"] == "W1tdLCB7ImlkIjogIm0xIn0sIHt9XQ=="


def test_uuids_made_at_once_are_distinct_version_4_uuids_written_as_kombu_writes_them():
    made = uuid4_strings(2000)
    assert len(set(made)) == 2000
    for text in made:
        value = uuid.UUID(text)
        assert (value.version, value.variant, str(value)) == (4, uuid.RFC_4122, text)
