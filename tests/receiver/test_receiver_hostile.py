"""Hostile input is harmless: whatever the query, never a 500 and never a stream entry that does not re-parse."""

from __future__ import annotations

from urllib.parse import quote

import redis
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from supersms.protocol.reports import MANDATORY, render_report_response
from supersms.receiver.app import ReceiverApp
from supersms.receiver.delivery import parse_query
from supersms.workers import keys
from tests.receiver.wsgi_client import GOOD_QUERY, PROVIDER_IP, call

FIELDS = [*MANDATORY, "sent_date", "ref", "rslt_type", "id", "pwd", "msgid[]", "", "MSGID"]
GOOD_VALUES = {pair.split("=")[0]: pair.split("=")[1] for pair in GOOD_QUERY.split("&")}


def _latin1(data: bytes) -> str:
    """Bytes as a WSGI server hands them over: one character per byte."""
    return data.decode("latin-1")


values = st.one_of(
    st.sampled_from(
        [*GOOD_VALUES.values(), "", "0", "3", "99", "100", "%FF", "%ff%fe", "%00", "%", "%2", "+", "%26"]
    ),
    st.text(alphabet="0123456789", min_size=0, max_size=30),
    st.text(max_size=20).map(lambda text: quote(text, safe="")),
    st.binary(max_size=20).map(_latin1),
    st.just("9" * 70),
)
pairs = st.tuples(st.one_of(st.sampled_from(FIELDS), st.binary(max_size=8).map(_latin1)), values)


@st.composite
def queries(draw: st.DrawFn) -> str:
    """Mostly report-shaped queries (so many pass), each spoiled in some way or not at all."""
    if draw(st.integers(0, 9)) == 0:
        return _latin1(draw(st.binary(max_size=300)))
    base = [f"{name}={value}" for name, value in GOOD_VALUES.items() if draw(st.integers(0, 7))]
    extra = [f"{name}={value}" for name, value in draw(st.lists(pairs, max_size=6))]
    repeated = draw(st.lists(st.sampled_from(base or ["msgid=1"]), max_size=3))
    parts = draw(st.permutations(base + extra + repeated))
    separator = draw(st.sampled_from(["&", "&", "&", ";", "&&"]))
    return separator.join(parts)


forwarded_fors = st.one_of(
    st.none(), st.sampled_from([PROVIDER_IP, f"{PROVIDER_IP}, 10.0.0.2"]), st.binary(max_size=40).map(_latin1)
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries(), forwarded_for=forwarded_fors)
def test_no_query_makes_a_500_or_a_stream_entry_that_does_not_reparse(
    app: ReceiverApp, redis_client: redis.Redis, query: str, forwarded_for: str | None
) -> None:
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    before = redis_client.xlen(keys.REPORTS)

    answer = call(app, query=query, remote_addr="10.0.0.1" if forwarded_for else PROVIDER_IP, headers=headers)

    event(f"answered {answer.code}")
    assert answer.code in (200, 400, 403, 414), answer
    added = redis_client.xrange(keys.REPORTS)[before:]
    for _, fields in added:
        assert set(fields) == {"query", "received_ms", "source"}
        assert fields["query"] == query
        parse_query(fields["query"])  # raises if the entry were garbage
    if answer.code == 200:
        report = parse_query(query)
        assert answer.body == render_report_response(
            msgid=report.msgid, to_country=report.to_country, to=report.to
        )
        assert redis_client.exists(keys.report_received(report.dedup_key()))
    else:
        assert added == []
