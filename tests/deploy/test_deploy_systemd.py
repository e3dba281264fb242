"""deploy/systemd: units that parse, run supersms commands as a user that is not root, and stop gracefully."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from supersms.cli.main import COMMANDS
from supersms.receiver.server import GRACEFUL_TIMEOUT_S
from tests.deploy.files import SYSTEMD, systemd_unit

UNITS = sorted(SYSTEMD.glob("*.service"))
PARSED = {path.name: systemd_unit(path) for path in UNITS}
BINARY = "/opt/supersms/bin/supersms"
ENVIRONMENT_FILE = "/etc/supersms/supersms.env"


def service(name: str) -> dict[str, list[str]]:
    return PARSED[name]["Service"]


def only(values: list[str]) -> str:
    (value,) = values
    return value


def test_there_is_a_unit_for_every_long_running_role():
    assert sorted(PARSED) == [
        "supersms-flower.service",
        "supersms-metrics.service",
        "supersms-receiver.service",
        "supersms-worker@.service",
    ]


@pytest.mark.parametrize("name", sorted(PARSED))
def test_every_unit_has_unit_service_and_install_sections(name):
    assert list(PARSED[name]) == ["Unit", "Service", "Install"]
    assert PARSED[name]["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.parametrize("name", sorted(PARSED))
def test_every_unit_runs_a_supersms_command(name):
    binary, command, *_ = only(service(name)["ExecStart"]).split()
    assert binary == BINARY
    assert command in COMMANDS


@pytest.mark.parametrize("name", sorted(PARSED))
def test_every_unit_runs_as_a_user_that_is_not_root(name):
    assert only(service(name)["User"]) not in ("root", "0")
    assert service(name)["NoNewPrivileges"] == ["yes"]


@pytest.mark.parametrize("name", sorted(PARSED))
def test_every_unit_reads_the_shared_environment_file_and_restarts_on_failure(name):
    assert service(name)["EnvironmentFile"] == [ENVIRONMENT_FILE]
    expected = ["always"] if name.startswith("supersms-worker") else ["on-failure"]
    assert service(name)["Restart"] == expected
    assert service(name)["KillSignal"] == ["SIGTERM"]


def test_the_worker_unit_is_a_template_whose_instances_have_distinct_celery_names():
    assert "%i" in only(service("supersms-worker@.service")["ExecStart"])


def test_a_stopping_worker_gets_time_to_finish_a_send_in_flight(send_in_flight_s):
    unit = service("supersms-worker@.service")
    assert unit["KillMode"] == ["mixed"]  # the warm-shutdown signal goes to Celery's main process only
    assert int(only(unit["TimeoutStopSec"])) > send_in_flight_s


def test_a_stopping_receiver_gets_longer_than_gunicorn_gives_requests_in_flight():
    assert int(only(service("supersms-receiver.service")["TimeoutStopSec"])) > GRACEFUL_TIMEOUT_S


def test_the_receiver_spools_into_a_state_directory_systemd_keeps_for_it():
    unit = service("supersms-receiver.service")
    directories = only(unit["StateDirectory"]).split()
    assert "SUPERSMS_SPOOL_DIR=/var/lib/supersms/spool" in unit["Environment"]
    assert "supersms/spool" in directories


def test_flower_listens_on_the_loopback_only():
    """Flower's /metrics answers without a login."""
    assert "--address=127.0.0.1" in only(service("supersms-flower.service")["ExecStart"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_itself_accepts_every_unit(tmp_path):
    """``systemd-analyze verify``, with the installed ``supersms`` standing in for /opt/supersms/bin/supersms."""
    supersms = Path(sys.executable).with_name("supersms")
    names = []
    for path in UNITS:
        name = path.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(path.read_text(encoding="utf-8").replace(BINARY, str(supersms)))
        names.append(f"./{name}")
    result = subprocess.run(
        ["systemd-analyze", "verify", *names], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


@pytest.mark.parametrize(
    "text",
    [
        "[Service]\nExecStart /bin/true\n",
        "ExecStart=/bin/true\n[Service]\n",
        "[Service]\nExec Start=/bin/true\n",
    ],
    ids=["no equals sign", "key before any section", "space in the key"],
)
def test_the_unit_reader_rejects_a_line_systemd_would_not_read(tmp_path, text):
    path = tmp_path / "broken.service"
    path.write_text(text)
    with pytest.raises(ValueError, match="line"):
        systemd_unit(path)
