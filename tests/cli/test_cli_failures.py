"""Failures other than bad input: one clear line on stderr, exit 1 (exit 2 for malformed configuration)."""

from __future__ import annotations

import pytest

from tests.cli.helpers import ACCOUNT, assert_nothing_enqueued

SEND = ("send", "--to", "01093446280", "--message", "hi")


@pytest.mark.parametrize(
    "args",
    [SEND, ("send", "--jsonl", "-"), ("status", "abc123"), ("pause",)],
    ids=["send", "send --jsonl", "status", "pause"],
)
def test_an_unreachable_redis_exits_1_with_one_line_naming_redis(supersms, unreachable_redis_url, args):
    stdin = '{"to": "01093446280", "message": "hi"}\n'
    result = supersms(*args, stdin=stdin, SUPERSMS_REDIS_URL=unreachable_redis_url)
    assert (result.returncode, result.stdout) == (1, "")
    line = result.only_error_line()
    assert line.startswith(f"supersms {args[0]}: ") and "Redis" in line, line


def test_an_unreachable_broker_exits_1_and_leaves_no_record(supersms, redis_client, unreachable_redis_url):
    result = supersms(*SEND, SUPERSMS_BROKER_URL=unreachable_redis_url)
    assert (result.returncode, result.stdout) == (1, "")
    assert "broker" in result.only_error_line()
    assert_nothing_enqueued(redis_client)


@pytest.mark.parametrize(
    ("command", "variable", "value"),
    [
        (SEND, "SUPERSMS_RATE_LIMIT", "fast"),
        (("worker",), "SUPERSMS_RATE_LIMIT", "fast"),
        (SEND, "SUPERSMS_REDIS_URL", "localhost:6379"),
    ],
    ids=["send rate", "worker rate", "send redis url"],
)
def test_malformed_configuration_exits_2_with_one_line_naming_the_variable(
    supersms, redis_client, command, variable, value
):
    result = supersms(*command, **ACCOUNT, **{variable: value})
    assert (result.returncode, result.stdout) == (2, "")
    line = result.only_error_line()
    assert line.startswith(f"supersms {command[0]}: {variable}: "), line
    assert_nothing_enqueued(redis_client)


@pytest.mark.parametrize(
    ("account", "variable"),
    [({}, "SUPERSMS_ID"), ({"SUPERSMS_ID": "infobank_test"}, "SUPERSMS_PASSWORD")],
)
def test_a_worker_without_the_account_exits_2_naming_the_missing_variable(supersms, account, variable):
    result = supersms("worker", **account)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.only_error_line().startswith(f"supersms worker: {variable}: ")


def test_a_worker_with_an_unreachable_redis_exits_1_without_showing_the_password(
    supersms, unreachable_redis_url
):
    address = unreachable_redis_url.removeprefix("redis://").split("/")[0]
    result = supersms("worker", **ACCOUNT, SUPERSMS_REDIS_URL=f"redis://:hunter2@{address}/0")
    assert (result.returncode, result.stdout) == (1, "")
    line = result.only_error_line()
    assert "SUPERSMS_REDIS_URL" in line and address in line
    assert "hunter2" not in line and "pwinfobank" not in line


def test_an_unexpected_error_is_one_line_and_exit_1_never_a_traceback(monkeypatch, capsys):
    from supersms.cli import main as cli
    from supersms.cli import status

    def broken(argv):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(status, "main", broken)

    assert cli.main(["status", "abc"]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "supersms status: unexpected RuntimeError: disk on fire\n")
