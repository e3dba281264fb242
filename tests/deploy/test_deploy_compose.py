"""deploy/compose.yaml: valid by the Compose Specification's schema, and shaped for durability and scaling."""

from __future__ import annotations

import re

import jsonschema
import pytest

from supersms.cli.main import COMMANDS
from supersms.receiver.runtime import REDIS_TIMEOUT_S
from tests.deploy.files import IMAGE, MissingVariable, compose, interpolate, load_schema

ACCOUNT = {
    "SUPERSMS_ID": "infobank_test",
    "SUPERSMS_PASSWORD": "pwinfobank",
    "SUPERSMS_FLOWER_BASIC_AUTH": "admin:secret",
}
COMPOSE = compose()
RESOLVED = interpolate(COMPOSE, ACCOUNT)
SERVICES = RESOLVED["services"]
SUPERSMS_SERVICES = sorted(name for name, service in SERVICES.items() if IMAGE in service.get("image", ""))
VALIDATOR = jsonschema.Draft7Validator(load_schema("compose-spec.json"))


@pytest.mark.parametrize("document", [COMPOSE, RESOLVED], ids=["as written", "interpolated"])
def test_the_compose_file_is_valid_by_the_compose_specification(document):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(document)]
    assert errors == []


def test_the_validator_does_reject_a_misspelt_key():
    broken = interpolate(COMPOSE, ACCOUNT)
    broken["services"]["worker"]["depend_on"] = ["redis"]
    assert not VALIDATOR.is_valid(broken)


def test_every_role_runs_from_the_one_image():
    assert SUPERSMS_SERVICES == ["flower", "metrics", "receiver", "sandbox", "worker"]
    assert len({SERVICES[name]["image"] for name in SUPERSMS_SERVICES}) == 1


def test_the_image_is_built_from_the_repository_root_with_the_deploy_dockerfile():
    assert SERVICES["worker"]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}


@pytest.mark.parametrize("name", SUPERSMS_SERVICES)
def test_every_service_runs_a_supersms_command(name):
    command = SERVICES[name]["command"]
    assert isinstance(command, list) and command[0] in COMMANDS
    assert "entrypoint" not in SERVICES[name]


@pytest.mark.parametrize(
    "flag, value",
    [("--appendonly", "yes"), ("--appendfsync", "everysec"), ("--maxmemory-policy", "noeviction")],
)
def test_redis_keeps_an_append_only_file_fsynced_every_second(flag, value):
    command = SERVICES["redis"]["command"]
    assert command[0] == "redis-server"
    assert command[command.index(flag) + 1] == value


def test_redis_keeps_its_data_on_a_named_volume():
    assert "redis-data:/data" in SERVICES["redis"]["volumes"]
    assert "redis-data" in RESOLVED["volumes"]


def test_redis_has_a_health_check_that_pings_it():
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


@pytest.mark.parametrize("name", ["worker", "receiver", "flower", "metrics"])
def test_every_role_that_needs_redis_waits_for_it_to_be_healthy(name):
    assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert SERVICES[name]["environment"]["SUPERSMS_REDIS_URL"] == "redis://redis:6379/0"


@pytest.mark.parametrize("key", ["container_name", "ports"])
def test_the_worker_can_be_scaled_because_it_has_no_fixed_name_or_port(key):
    assert key not in SERVICES["worker"]


def test_there_is_no_beat_service_because_every_worker_runs_the_sweep():
    commands = [" ".join(map(str, service.get("command", []))) for service in SERVICES.values()]
    assert not [command for command in commands if "beat" in command]


@pytest.mark.parametrize(
    "service, variable",
    [("worker", "SUPERSMS_ID"), ("worker", "SUPERSMS_PASSWORD"), ("flower", "SUPERSMS_FLOWER_BASIC_AUTH")],
)
def test_a_secret_left_unset_stops_compose_with_a_message_naming_it(service, variable):
    written = COMPOSE["services"][service]["environment"][variable]
    assert written.startswith(f"${{{variable}:?")
    without = {name: value for name, value in ACCOUNT.items() if name != variable}
    with pytest.raises(MissingVariable, match=variable):
        interpolate(COMPOSE, without)


def test_the_receiver_is_published_on_port_8080():
    assert SERVICES["receiver"]["command"][-2:] == ["--port", "8080"]
    assert "8080:8080" in SERVICES["receiver"]["ports"]


def test_the_receiver_spools_onto_a_named_volume():
    spool = SERVICES["receiver"]["environment"]["SUPERSMS_SPOOL_DIR"]
    mounts = dict(reversed(volume.split(":")[:2]) for volume in SERVICES["receiver"]["volumes"])
    assert mounts[spool] in RESOLVED["volumes"]


def test_the_receiver_health_check_asks_healthz():
    assert "/healthz" in " ".join(SERVICES["receiver"]["healthcheck"]["test"])


def test_the_receiver_health_check_waits_longer_than_healthz_can_wait_for_a_hung_redis():
    check = SERVICES["receiver"]["healthcheck"]
    (asked_s,) = re.findall(r"timeout=(\d+)", " ".join(check["test"]))
    assert REDIS_TIMEOUT_S * 2 <= int(asked_s) < _seconds(check["timeout"])


@pytest.mark.parametrize("name", ["flower", "metrics"])
def test_unauthenticated_pages_are_published_on_the_host_loopback_only(name):
    """Flower's /metrics and the exporter answer without a login."""
    assert all(port.startswith("127.0.0.1:") for port in SERVICES[name]["ports"])


def test_the_sandbox_runs_only_when_its_profile_is_asked_for():
    assert SERVICES["sandbox"]["profiles"] == ["sandbox"]
    assert SERVICES["sandbox"]["command"][-2:] == ["--report-url", "http://receiver:8080/"]


def test_a_stopping_worker_gets_time_to_finish_a_send_in_flight(send_in_flight_s):
    assert _seconds(SERVICES["worker"]["stop_grace_period"]) > send_in_flight_s


def _seconds(duration: str) -> int:
    assert duration.endswith("s") and duration[:-1].isdigit()
    return int(duration[:-1])
