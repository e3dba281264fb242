"""``supersms`` itself (usage, unknown commands) and ``supersms pause``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from supersms.cli.main import COMMANDS
from supersms.workers import keys
from supersms.workers.pause import AccountPause


@pytest.mark.parametrize("args", [(), ("--help",)], ids=["no arguments", "--help"])
def test_supersms_alone_prints_the_usage_with_every_command_and_exits_0(supersms, args):
    result = supersms(*args)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("usage: supersms COMMAND")
    listed = [line.split()[0] for line in result.stdout_lines if line.startswith("  ")]
    assert listed == list(COMMANDS)
    assert {"send", "status", "worker", "receiver", "flower", "sandbox", "demo"} <= set(listed)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("receiver", "--port", "70000"),
            "supersms receiver: --port: must be an integer 1-65535, got '70000'",
        ),
        (("receiver", "--workers", "0"), "supersms receiver: --workers: must be an integer 1-64, got '0'"),
        (("metrics", "--port", "http"), "supersms metrics: --port: must be an integer 1-65535, got 'http'"),
        (("reports", "dead", "--count", "0"), "supersms reports: --count: must be an integer >= 1, got '0'"),
        (("demo", "--rate", "nan"), "supersms demo: --rate: must be a number 0-10000, got 'nan'"),
        (("demo", "--count", "5.5"), "supersms demo: --count: must be an integer 1-10000, got '5.5'"),
    ],
)
def test_a_number_option_out_of_its_range_exits_2_with_one_line_giving_the_range(supersms, args, line):
    result = supersms(*args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.only_error_line() == line


def test_an_unknown_command_exits_2_with_one_line_naming_it(supersms):
    result = supersms("sned", "--to", "01093446280")
    assert (result.returncode, result.stdout) == (2, "")
    line = result.only_error_line()
    assert "'sned'" in line and "send" in line


def test_pause_shows_none_then_the_open_pause_then_lifts_it(supersms, redis_client):
    assert supersms("pause").stdout_lines == ['{"paused": false}']
    AccountPause(redis=redis_client, cooldown_s=30).open("R002", "provider refused the account")
    shown = json.loads(supersms("pause").stdout)
    assert (shown["paused"], shown["code"], shown["reason"]) == (True, "R002", "provider refused the account")
    assert 0 < shown["remaining_s"] <= 30
    until = datetime.fromisoformat(shown["until"])
    assert timedelta(seconds=0) < until - datetime.now(UTC) <= timedelta(seconds=30)
    lifted = supersms("pause", "--lift")
    assert (lifted.returncode, lifted.stdout_lines) == (0, ['{"lifted": true}'])
    assert supersms("pause").stdout_lines == ['{"paused": false}']
    assert supersms("pause", "--lift").stdout_lines == ['{"lifted": false}'], "nothing held"


def test_a_pause_set_by_hand_without_an_end_is_shown_as_valid_json(supersms, redis_client):
    redis_client.set(keys.PAUSE, "R013")
    result = supersms("pause")
    assert result.returncode == 0
    shown = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert shown == {"paused": True, "code": "R013", "reason": "", "until": None, "remaining_s": None}
