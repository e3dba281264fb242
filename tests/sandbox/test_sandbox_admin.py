"""The sandbox's own endpoints: faults read and changed at run time, the log read in pages, reset."""

from __future__ import annotations

from typing import Any

import requests

from supersms.protocol.replies import parse_submit_reply
from supersms.sandbox import Sandbox
from tests.sandbox.helpers import QUICK, send


def admin(
    session: requests.Session, sandbox: Sandbox, method: str, path: str, **kwargs: Any
) -> requests.Response:
    return session.request(method, f"{sandbox.base_url}/_sandbox/{path}", timeout=5, **kwargs)


def test_the_faults_in_force_are_readable(sandbox: Sandbox, session: requests.Session) -> None:
    response = admin(session, sandbox, "GET", "faults")
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == QUICK.to_json()


def test_a_fault_changed_over_http_applies_to_the_next_send(
    sandbox: Sandbox, session: requests.Session
) -> None:
    changed = admin(session, sandbox, "POST", "faults", json={"script": ["R001"], "typographic_quotes": True})
    assert changed.status_code == 200
    assert (changed.json()["script"], changed.json()["report_delay_s"]) == (["R001"], QUICK.report_delay_s)
    body = send(session, sandbox).content
    assert parse_submit_reply(body).first.err_code == "R001" and "”".encode() in body
    assert admin(session, sandbox, "GET", "faults").json()["script"] == []


def test_a_bad_fault_change_is_refused_and_changes_nothing(
    sandbox: Sandbox, session: requests.Session
) -> None:
    response = admin(session, sandbox, "POST", "faults", json={"latency_s": 1, "capacity_per_s": "lots"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "capacity_per_s: must be a whole number of sends per second, or null for no limit"
    }
    assert sandbox.faults == QUICK


def test_a_fault_change_that_is_not_a_json_object_is_refused(
    sandbox: Sandbox, session: requests.Session
) -> None:
    for body in (b"[1]", b"{not json"):
        assert admin(session, sandbox, "POST", "faults", data=body).status_code == 400


def test_the_log_is_readable_over_http_with_the_password_masked(
    sandbox: Sandbox, session: requests.Session
) -> None:
    send(session, sandbox, ref="AA1")
    send(session, sandbox, pwd="wrong")
    entries = admin(session, sandbox, "GET", "log").json()["entries"]
    sends = [entry for entry in entries if entry["kind"] == "send"]
    assert [(e["err_code"], e["msgid"], e["fields"]["pwd"]) for e in sends] == [
        ("R000", "00000001", "***"),
        ("R002", None, "***"),
    ]
    assert sends[0]["fields"]["ref"] == "AA1" and sends[0]["method"] == "POST"
    assert sends[1]["reason"] == "id/pwd: not the sandbox's account"
    assert "pwinfobank" not in admin(session, sandbox, "GET", "log").text


def test_the_log_is_read_in_pages_from_next(sandbox: Sandbox, session: requests.Session) -> None:
    sandbox.set_faults(force_code="R001")  # no reports: only send entries
    for _ in range(3):
        send(session, sandbox)
    first = admin(session, sandbox, "GET", "log", params={"limit": 2}).json()
    rest = admin(session, sandbox, "GET", "log", params={"since": first["next"]}).json()
    assert [e["index"] for e in first["entries"]] == [0, 1] and [e["index"] for e in rest["entries"]] == [2]
    assert admin(session, sandbox, "GET", "log", params={"since": "x"}).status_code == 400


def test_report_attempts_are_in_the_log(sandbox: Sandbox, session: requests.Session) -> None:
    send(session, sandbox)
    assert sandbox.log.wait_for(lambda log: bool(log.reports()), timeout_s=2)
    [attempt] = [e for e in admin(session, sandbox, "GET", "log").json()["entries"] if e["kind"] == "report"]
    assert (attempt["msgid"], attempt["attempt"], attempt["outcome"], attempt["delivered"]) == (
        "00000001",
        1,
        "ok",
        True,
    )


def test_reset_clears_the_log_and_restores_the_starting_faults(
    sandbox: Sandbox, session: requests.Session
) -> None:
    sandbox.set_faults(force_code="R013")
    send(session, sandbox)
    response = admin(session, sandbox, "POST", "reset")
    assert response.json() == {"faults": QUICK.to_json()}
    assert sandbox.log.entries() == []
    assert parse_submit_reply(send(session, sandbox).content).first.err_code == "R000"


def test_an_unknown_admin_endpoint_is_not_found(sandbox: Sandbox, session: requests.Session) -> None:
    assert admin(session, sandbox, "DELETE", "faults").status_code in (404, 501)
    assert admin(session, sandbox, "GET", "reset").status_code == 404
