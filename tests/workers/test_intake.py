"""A message that arrives invalid from a producer is recorded ``rejected`` with what it carried, as text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supersms.errors import InvalidMessage
from supersms.workers.intake import rejected_record

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ERROR = InvalidMessage("to_country", "must be a string or an integer")


@pytest.mark.parametrize(
    ("to_country", "to", "kept"),
    [
        ("82", "1093446280", ("82", "1093446280")),
        (True, 1093446280, ("true", "1093446280")),
        (82.0, None, ("82.0", None)),
        ({"cc": 82}, ["01093446280"], ('{"cc": 82}', '["01093446280"]')),
        ("8" * 40, "9" * 40, ("8" * 32, "9" * 32)),
    ],
)
def test_the_fields_it_carried_are_kept_as_text_a_producer_in_any_language_can_read(to_country, to, kept):
    record = rejected_record("m1", {"to_country": to_country, "to": to}, ERROR, now=NOW)
    assert (record["to_country"], record["to"]) == kept
    assert (record["status"], record["reason"]) == ("rejected", f"invalid: {ERROR}")
