"""Reports called back to a real receiver: fields, acknowledgement, 3 retries, and the report faults."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from supersms.embedded import free_port
from supersms.protocol.replies import parse_submit_reply
from supersms.protocol.reports import KST, parse_report
from supersms.sandbox import Sandbox
from supersms.sandbox.delivery import target
from supersms.sandbox.planning import final_report
from supersms.sandbox.rules import Accepted
from tests.sandbox.helpers import QUICK, Receiver, send

ATTEMPTS = 4  # the first delivery and the provider's 3 retries
KOREAN = Accepted(sender="01029652189", to_country="82", to="1093446280", message="hi", report_req=True)


def test_a_report_reaches_the_receiver_with_the_documented_fields(
    sandbox: Sandbox, receiver: Receiver, session: requests.Session
) -> None:
    msgid = parse_submit_reply(send(session, sandbox, ref="AA123456789").content).first.msgid
    [received] = receiver.wait_for(1)
    assert list(received.fields) == [
        "msgid", "to", "to_country", "ref", "network", "rescnt", "err_code", "sent_date",
    ]  # fmt: skip
    report = parse_report({name: [value] for name, value in received.fields.items()})
    assert (report.msgid, report.to, report.to_country, report.ref) == (
        msgid,
        "1093446280",
        "82",
        "AA123456789",
    )
    assert (report.err_code, report.rescnt, report.network[:3]) == ("1000", 1, "450")
    assert report.sent_date is not None
    assert sandbox.log.wait_for(lambda log: bool(log.reports()), timeout_s=2)
    [attempt] = sandbox.log.reports()
    assert (attempt.msgid, attempt.attempt, attempt.outcome, attempt.gave_up) == (msgid, 1, "ok", False)


def test_an_undelivered_report_has_no_sent_date(
    sandbox: Sandbox, receiver: Receiver, session: requests.Session
) -> None:
    sandbox.set_faults(report_codes={"3001": 1})
    send(session, sandbox)
    [received] = receiver.wait_for(1)
    assert (received.fields["err_code"], received.fields["rescnt"]) == ("3001", "0")
    assert "sent_date" not in received.fields


def test_an_emoji_to_korea_is_accepted_then_fails_with_a_charset_conversion_error(
    sandbox: Sandbox, receiver: Receiver, session: requests.Session
) -> None:
    assert parse_submit_reply(send(session, sandbox, message="hi 😀").content).first.err_code == "R000"
    assert receiver.wait_for(1)[0].fields["err_code"] == "3022"


def test_no_report_is_sent_when_none_was_requested(
    sandbox: Sandbox, receiver: Receiver, session: requests.Session
) -> None:
    send(session, sandbox, report_req="0")
    send(session, sandbox)
    assert [r.fields["msgid"] for r in receiver.wait_for(1)] == ["00000002"]


@pytest.mark.parametrize("mode", ["garbage", "500", "wrong", "wrong-to", "wrong-country"])
def test_an_unacknowledged_report_is_tried_4_times_then_dropped(
    sandbox: Sandbox, receiver: Receiver, session: requests.Session, mode: str
) -> None:
    receiver.mode = mode
    send(session, sandbox)
    assert sandbox.log.wait_for(lambda log: any(r.gave_up for r in log.reports()), timeout_s=3)
    attempts = sandbox.log.reports()
    assert [a.attempt for a in attempts] == [1, 2, 3, 4]
    assert [a.gave_up for a in attempts] == [False, False, False, True]
    assert not any(a.delivered for a in attempts)
    assert len(receiver.received) == ATTEMPTS


def test_a_report_to_a_closed_port_is_tried_4_times_then_dropped(
    sandbox: Sandbox, session: requests.Session
) -> None:
    sandbox.report_url = f"http://127.0.0.1:{free_port()}/report"
    send(session, sandbox)
    assert sandbox.log.wait_for(lambda log: any(r.gave_up for r in log.reports()), timeout_s=3)
    outcomes = [a.outcome for a in sandbox.log.reports()]
    assert outcomes == ["connection failed: ConnectionError"] * ATTEMPTS


def test_a_retry_that_is_acknowledged_ends_the_retries(
    sandbox: Sandbox, receiver: Receiver, session: requests.Session
) -> None:
    receiver.mode = "500"
    sandbox.set_faults(report_retry_delay_s=0.1)
    send(session, sandbox)
    receiver.wait_for(1)
    receiver.mode = "ok"
    assert sandbox.log.wait_for(lambda log: any(r.delivered for r in log.reports()), timeout_s=3)
    assert [(a.attempt, a.delivered) for a in sandbox.log.reports()] == [(1, False), (2, True)]


def test_duplicate_reports_deliver_each_report_twice(
    sandbox: Sandbox, receiver: Receiver, session: requests.Session
) -> None:
    sandbox.set_faults(duplicate_reports=True)
    send(session, sandbox)
    first, second = receiver.wait_for(2)
    assert first.fields == second.fields


def test_an_intermediate_report_precedes_the_final_one(
    sandbox: Sandbox, receiver: Receiver, session: requests.Session
) -> None:
    sandbox.set_faults(intermediate_reports=True, report_delay_s=0.05)
    send(session, sandbox)
    intermediate, final = receiver.wait_for(2)
    assert (intermediate.fields["rslt_type"], intermediate.fields["err_code"]) == ("3", "1000")
    assert "rslt_type" not in final.fields and final.fields["err_code"] == "1000"


def test_a_report_can_arrive_before_the_send_reply(
    sandbox: Sandbox, receiver: Receiver, session: requests.Session
) -> None:
    sandbox.set_faults(report_before_reply=True, report_delay_s=30)
    msgid = parse_submit_reply(send(session, sandbox).content).first.msgid
    assert [r.fields["msgid"] for r in receiver.received] == [msgid]  # already there, no waiting


def test_without_a_report_url_reports_are_logged_not_sent(session: requests.Session) -> None:
    with Sandbox(faults=QUICK) as sandbox:
        send(session, sandbox)
        assert sandbox.log.wait_for(lambda log: bool(log.reports()), timeout_s=2)
        [attempt] = sandbox.log.reports()
        assert (attempt.outcome, attempt.gave_up) == ("not sent: no report url", True)


@pytest.mark.parametrize(
    ("url", "prefix"),
    [("http://h/report", "http://h/report?msgid="), ("http://h/r?key=1", "http://h/r?key=1&msgid=")],
)
def test_the_report_query_is_appended_to_the_report_url(url: str, prefix: str) -> None:
    report = final_report(KOREAN, msgid="1", err_code="1000", sent_at=datetime(2015, 3, 22, tzinfo=KST))
    assert target(url, report).startswith(prefix)


def test_reset_drops_the_reports_not_yet_due(sandbox: Sandbox, session: requests.Session) -> None:
    sandbox.set_faults(report_delay_s=0.1)
    send(session, sandbox)
    sandbox.reset()
    assert not sandbox.log.wait_for(lambda log: bool(log.reports()), timeout_s=0.2)
