"""``supersms sandbox`` as a real process: it listens, answers, says where, and stops cleanly on SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from supersms.protocol.replies import parse_submit_reply
from supersms.sandbox.command import main
from tests.sandbox.helpers import EXAMPLE, Receiver

LISTENING = re.compile(r"listening on (http://\S+/sms/xml), reports to (\S+)")


def start(*args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "supersms.sandbox", "--port", "0", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def process(receiver: Receiver) -> Iterator[subprocess.Popen[str]]:
    process = start(
        "--report-url", receiver.url, "--report-delay", "0.01", "--script", "R001", "--first-msgid", "7"
    )
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    process.stderr.close()


def test_the_command_serves_the_provider_until_sigterm(
    process: subprocess.Popen[str], receiver: Receiver
) -> None:
    assert process.stdout is not None
    match = LISTENING.search(process.stdout.readline())
    assert match is not None and match.group(2) == receiver.url
    with requests.Session() as session:
        codes = [
            parse_submit_reply(session.post(match.group(1), data=EXAMPLE, timeout=5).content)
            for _ in range(2)
        ]
    assert [(reply.first.err_code, reply.first.msgid) for reply in codes] == [
        ("R001", None),
        ("R000", "00000007"),
    ]
    assert receiver.wait_for(1)[0].fields["msgid"] == "00000007"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--capacity", "many"], "--capacity: invalid int value: 'many'"),
        (["--port", "70000"], "--port: must be an integer 0-65535, got '70000'"),
        (
            ["--report-url", "localhost:8080/"],
            "--report-url: must be an http:// or https:// URL, got 'localhost:8080/'",
        ),
        (["--first-msgid", "-5"], "--first-msgid: must be an integer >= 0, got '-5'"),
        (["--report-codes", "1000=lots"], "--report-codes: bad weight in '1000=lots'"),
        (["--script", "R001,busy"], "--script: must be an err_code such as R001"),
        (["--code-for-to", "1000000000"], "--code-for-to: expected NUMBER=CODE, got '1000000000'"),
        (["--latency", "-1"], "--latency: must be a number of seconds from 0 to 3600"),
    ],
)
def test_an_invalid_option_exits_2_with_one_line_naming_it(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert capsys.readouterr().err.splitlines() == [f"supersms sandbox: {message}"]


def test_a_taken_port_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert main(["--port", port]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"supersms sandbox: cannot listen on 127.0.0.1:{port}: ")


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--report-url" in capsys.readouterr().out
