"""The send endpoint over a real socket: the provider's example, its XML byte for byte, and the faults."""

from __future__ import annotations

import http.client
import select
import shutil
import socket
import subprocess
import time
from urllib.parse import urlencode

import pytest
import requests

from supersms.protocol.replies import parse_submit_reply
from supersms.sandbox import Faults, Sandbox
from tests.sandbox.helpers import EXAMPLE, send

ACCEPTED_XML = b"""<?xml version='1.0' encoding='UTF-8' ?>
<submit_response>
<to_country>82</to_country>
<to>1093446280</to>
<messages cnt="1">
<message>
<msgid>00000001</msgid>
<err_code>R000</err_code>
<msg_type>1</msg_type>
</message>
</messages>
</submit_response>
"""

REFUSED_XML = b"""<?xml version='1.0' encoding='UTF-8' ?>
<submit_response>
<to_country>82</to_country>
<to>1093446280</to>
<messages cnt="1">
<message>
<err_code>R007</err_code>
</message>
</messages>
<ref>AA123456789</ref>
</submit_response>
"""


def curl_example(url: str) -> bytes:
    """The provider's own shell example, pointed at ``url``."""
    command = ["curl", "-sS", "--max-time", "5", url, "-d", "id=infobank_test", "-d", "pwd=pwinfobank"]
    command += ["-d", "from=01029652189", "-d", "to_country=82", "-d", "to=1093446280"]
    command += ["--data-urlencode", "message=Hello Infobank", "-d", "report_req=1"]
    return subprocess.run(command, capture_output=True, check=True, timeout=10).stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_pages_curl_example_is_accepted_with_the_documented_layout(sandbox: Sandbox) -> None:
    assert curl_example(sandbox.url) == ACCEPTED_XML


def test_the_example_as_a_get_query_is_accepted(sandbox: Sandbox, session: requests.Session) -> None:
    response = session.get(sandbox.url + "?" + urlencode(EXAMPLE), timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    assert response.content == ACCEPTED_XML


def test_the_root_path_is_a_send_endpoint_too(sandbox: Sandbox, session: requests.Session) -> None:
    response = session.post(sandbox.base_url + "/", data=EXAMPLE, timeout=5)
    assert parse_submit_reply(response.content).first.err_code == "R000"


def test_a_refusal_holds_only_the_err_code_and_echoes_the_request(
    sandbox: Sandbox, session: requests.Session
) -> None:
    assert send(session, sandbox, ref="AA123456789", report_req="9").content == REFUSED_XML


@pytest.mark.parametrize(
    ("changes", "err_code", "msg_type"),
    [
        ({"from": "1" * 16}, "R000", 1),
        ({"from": "1" * 17}, "R004", None),
        ({"to": "1" * 13}, "R000", 1),
        ({"to": "1" * 14}, "R003", None),
        ({"message": "a" * 90}, "R000", 1),
        ({"message": "a" * 91}, "R000", 2),
        ({"ttl": "0"}, "R006", None),
        ({"ref": "A" * 20}, "R000", 1),
        ({"ref": "A" * 21}, "R007", None),
        ({"pwd": "guess"}, "R002", None),
    ],
)
def test_rules_answer_over_http_at_their_boundaries(
    sandbox: Sandbox, session: requests.Session, changes: dict[str, str], err_code: str, msg_type: int | None
) -> None:
    result = parse_submit_reply(send(session, sandbox, **changes).content).first
    assert (result.err_code, result.msg_type) == (err_code, msg_type)
    assert (result.msgid is not None) == (err_code == "R000")


def test_an_euc_kr_message_is_decoded_and_counted_in_korean_bytes(
    sandbox: Sandbox, session: requests.Session
) -> None:
    body = urlencode({**EXAMPLE, "charset": "2", "message": "안녕하세요" * 9}, encoding="euc_kr")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    reply = parse_submit_reply(session.post(sandbox.url, data=body, headers=headers, timeout=5).content)
    assert (reply.first.err_code, reply.first.msg_type) == ("R000", 1)  # 45 Hangul = 90 bytes
    assert sandbox.log.sends()[-1].fields["message"] == "안녕하세요" * 9


def test_msgids_are_unique_zero_padded_counters(sandbox: Sandbox, session: requests.Session) -> None:
    msgids = [parse_submit_reply(send(session, sandbox).content).first.msgid for _ in range(3)]
    assert msgids == ["00000001", "00000002", "00000003"]


def test_many_requests_share_one_keep_alive_connection(sandbox: Sandbox) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    sockets = []
    for _ in range(3):
        connection.request("POST", "/sms/xml", body=urlencode(EXAMPLE), headers=headers)
        response = connection.getresponse()
        assert b"<err_code>R000</err_code>" in response.read()
        sockets.append(connection.sock)
    connection.close()
    assert sockets[0] is not None and sockets == [sockets[0]] * 3


def test_a_script_answers_busy_twice_then_accepts(sandbox: Sandbox, session: requests.Session) -> None:
    sandbox.set_faults(script=["R001", "R001"])
    codes = [parse_submit_reply(send(session, sandbox).content).first.err_code for _ in range(3)]
    assert codes == ["R001", "R001", "R000"]
    assert sandbox.faults.script == ()


def test_a_forced_code_answers_every_send_until_cleared(sandbox: Sandbox, session: requests.Session) -> None:
    sandbox.set_faults(force_code="R002")
    first = parse_submit_reply(send(session, sandbox).content).first.err_code
    sandbox.set_faults(force_code=None)
    assert (first, parse_submit_reply(send(session, sandbox).content).first.err_code) == ("R002", "R000")


def test_a_code_for_one_recipient_refuses_only_that_number(
    sandbox: Sandbox, session: requests.Session
) -> None:
    sandbox.set_faults(code_for_to={"1000000000": "R010"})
    refused = parse_submit_reply(send(session, sandbox, to="1000000000").content).first.err_code
    assert (refused, parse_submit_reply(send(session, sandbox).content).first.err_code) == ("R010", "R000")


def test_sends_above_the_capacity_answer_r009(sandbox: Sandbox, session: requests.Session) -> None:
    sandbox.set_faults(capacity_per_s=3)
    codes = [parse_submit_reply(send(session, sandbox).content).first.err_code for _ in range(5)]
    assert codes == ["R000", "R000", "R000", "R009", "R009"]


def test_typographic_quotes_are_written_as_the_page_prints_them(
    sandbox: Sandbox, session: requests.Session
) -> None:
    sandbox.set_faults(typographic_quotes=True)
    body = send(session, sandbox).content
    assert "<messages cnt=”1”>".encode() in body
    assert parse_submit_reply(body).first.err_code == "R000"


def test_latency_delays_the_answer(sandbox: Sandbox, session: requests.Session) -> None:
    sandbox.set_faults(latency_s=0.15)
    started = time.monotonic()
    send(session, sandbox)
    assert time.monotonic() - started >= 0.15


def test_drop_after_read_accepts_but_never_answers(sandbox: Sandbox, session: requests.Session) -> None:
    sandbox.set_faults(drop_after_read=True)
    with pytest.raises(requests.ConnectionError):
        send(session, sandbox)
    [entry] = sandbox.log.sends()
    assert (entry.err_code, entry.answered, entry.msgid) == ("R000", False, "00000001")


def test_an_unknown_path_is_not_found(sandbox: Sandbox, session: requests.Session) -> None:
    assert session.get(sandbox.base_url + "/sms/json", timeout=5).status_code == 404


def test_a_stopped_sandbox_refuses_connections(session: requests.Session) -> None:
    with Sandbox(faults=Faults(report_delay_s=0)) as sandbox:
        send(session, sandbox)
    with pytest.raises(requests.ConnectionError):
        send(session, sandbox)


def test_an_euc_kr_message_in_a_get_query_is_decoded(sandbox: Sandbox, session: requests.Session) -> None:
    query = urlencode({**EXAMPLE, "charset": "2", "message": "안녕" * 46}, encoding="euc_kr")
    reply = parse_submit_reply(session.get(f"{sandbox.url}?{query}", timeout=5).content)
    assert (reply.first.err_code, reply.first.msg_type) == ("R000", 2)  # 92 Hangul = 184 bytes
    [entry] = sandbox.log.sends()
    assert (entry.method, entry.fields["message"]) == ("GET", "안녕" * 46)


def test_a_body_without_a_usable_length_is_refused(sandbox: Sandbox) -> None:
    body = urlencode(EXAMPLE).encode()
    head = b"POST /sms/xml HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked = head + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as connection:
        connection.sendall(chunked)  # all of it at once: the refusal cannot race our writing
        status_line = connection.recv(64).split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 400 Bad Request"


def test_a_burst_of_connections_all_get_through_while_the_server_has_not_accepted_any():
    """A pool of workers starting together opens many connections at once; until the server thread gets to
    ``accept`` them, the kernel keeps them in the listen backlog. A backlog of the standard library's 5
    leaves the rest retrying their SYN a second later, and resets some of them under load."""
    from supersms.sandbox.server import SandboxServer

    server = SandboxServer(("127.0.0.1", 0), desk=None, admin=None)  # listening; nothing accepts yet
    clients = [socket.socket() for _ in range(64)]
    try:
        for client in clients:
            client.setblocking(False)
            client.connect_ex(server.server_address)
        connected: set[socket.socket] = set()
        deadline = time.monotonic() + 5  # a full backlog stays full: nothing accepts, retried SYNs fail too
        while len(connected) < len(clients) and time.monotonic() < deadline:
            _, writable, _ = select.select([], [c for c in clients if c not in connected], [], 0.1)
            connected.update(c for c in writable if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
        assert len(connected) == len(clients)
    finally:
        for client in clients:
            client.close()
        server.server_close()
