"""The receiver's quick check of a report gives exactly the protocol's verdict, message and dedup key."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supersms.errors import InvalidReport
from supersms.protocol.reports import parse_report
from supersms.receiver.validation import Accepted, accept, accepted_report
from tests.receiver.wsgi_client import GOOD_QUERY

GOOD_FIELDS = dict(pair.split("=") for pair in GOOD_QUERY.split("&"))


def protocol_verdict(query: str) -> Accepted | str:
    """What the correlation side makes of ``query``: the report, or the message of its first broken rule."""
    try:
        return accepted_report(parse_report(parse_qs(query, keep_blank_values=True)))
    except InvalidReport as error:
        return str(error)


def receiver_verdict(query: str) -> Accepted | str:
    try:
        return accept(query)
    except InvalidReport as error:
        return str(error)


def with_fields(**changes: str | None) -> str:
    """GOOD_QUERY with fields replaced (or left out, for None), in the provider's order."""
    fields = {**GOOD_FIELDS, **changes}
    return "&".join(f"{name}={value}" for name, value in fields.items() if value is not None)


def test_a_plain_report_is_accepted_without_the_full_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def unused(params: object) -> None:
        raise AssertionError("the plain query should not need parse_report")

    monkeypatch.setattr("supersms.receiver.validation.parse_report", unused)

    assert accept(GOOD_QUERY) == Accepted(
        msgid="00000123", to_country="82", to="1093446280", dedup_key="00000123:0:1000:20150322140641:45008:1"
    )


@pytest.mark.parametrize(
    "query",
    [
        GOOD_QUERY,
        with_fields(sent_date=None),
        with_fields(sent_date=""),
        with_fields(sent_date="20240229235959"),  # a leap day
        with_fields(sent_date="20230229000000"),  # not one
        with_fields(sent_date="20261301000000"),  # month 13: strptime may still read something into it
        with_fields(sent_date="20261125240000"),
        with_fields(sent_date="20261125235960"),
        with_fields(sent_date="09991231235959"),  # a three-digit year prints back differently
        with_fields(sent_date="00000101000000"),
        with_fields(sent_date="2026112509000"),
        with_fields(rescnt="01"),
        with_fields(rescnt="100"),
        with_fields(rslt_type="3"),
        with_fields(rslt_type=""),
        with_fields(rslt_type="1"),
        with_fields(ref=None),
        with_fields(ref=""),
        with_fields(ref="A+B"),
        with_fields(msgid="%30%30%31"),
        with_fields(msgid="a" * 21),
        with_fields(msgid="9" * 70),
        with_fields(to=""),
        with_fields(err_code=None),
        GOOD_QUERY + "&msgid=00000123",  # repeated with the same value
        GOOD_QUERY + "&msgid=00000124",  # with another value
        GOOD_QUERY + "&msgid",  # a blank one
        GOOD_QUERY + "&%6Dsgid=00000124",  # another value under an escaped name
        GOOD_QUERY + "&ms+gid=00000124",
        GOOD_QUERY + "&&unknown=%FF&=x&junk",
        GOOD_QUERY.replace("&", ";"),
        "",
    ],
)
def test_the_verdict_is_the_protocols(query: str) -> None:
    assert receiver_verdict(query) == protocol_verdict(query)


digits = st.text(alphabet="0123456789", min_size=0, max_size=16)
moments = st.datetimes(min_value=datetime(1000, 1, 1)).map(lambda moment: moment.strftime("%Y%m%d%H%M%S"))


@settings(max_examples=500, deadline=None)
@given(sent_date=st.one_of(digits, moments, st.text(alphabet="0123456789+% ", max_size=16)))
def test_any_sent_date_gets_the_protocols_verdict(sent_date: str) -> None:
    query = with_fields(sent_date=sent_date)

    assert receiver_verdict(query) == protocol_verdict(query)


names = st.sampled_from([*GOOD_FIELDS, "rslt_type", "x", "", "MSGID"])
values = st.one_of(st.sampled_from([*GOOD_FIELDS.values(), "", "0", "3", "00", "%41", "+", "a=b"]), digits)


@settings(max_examples=500, deadline=None)
@given(
    kept=st.lists(st.sampled_from(list(GOOD_FIELDS)), unique=True),
    extra=st.lists(st.tuples(names, values), max_size=5),
    separator=st.sampled_from(["&", "&&", ";"]),
    bare_names=st.lists(names, max_size=2),
)
def test_any_report_shaped_query_gets_the_protocols_verdict(
    kept: list[str], extra: list[tuple[str, str]], separator: str, bare_names: list[str]
) -> None:
    pairs = [f"{name}={GOOD_FIELDS[name]}" for name in kept] + [f"{name}={value}" for name, value in extra]
    query = separator.join(pairs + bare_names)

    assert receiver_verdict(query) == protocol_verdict(query)
