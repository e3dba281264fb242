"""Across deploy/: every command a deployment runs exists, with options it accepts, and every variable it sets
is one supersms reads."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from supersms.cli.main import COMMANDS
from tests.deploy.files import (
    IMAGE,
    SYSTEMD,
    compose,
    dockerfile,
    env_file_names,
    k8s_objects,
    pod_spec,
    source_variables,
    supersms_containers,
    systemd_unit,
)

# Options passed through to Flower are Flower's own (tornado options), not listed by `supersms flower --help`.
PASSTHROUGH_TO_FLOWER = "flower"


def command_lines() -> list[tuple[str, list[str]]]:
    """Every supersms command line in deploy/, as (where, arguments after ``supersms``)."""
    lines = [("Dockerfile CMD", next(i for i in reversed(dockerfile()) if i.keyword == "CMD").exec_form())]
    for name, service in compose()["services"].items():
        if IMAGE in service.get("image", ""):
            lines.append((f"compose.yaml {name}", service["command"]))
    for where, obj in k8s_objects():
        if obj["kind"] in ("Deployment", "StatefulSet"):
            lines += [(f"k8s {where}", container["args"]) for container in supersms_containers(obj)]
    for path in sorted(SYSTEMD.glob("*.service")):
        for exec_start in systemd_unit(path)["Service"]["ExecStart"]:
            lines.append((f"systemd {path.name}", exec_start.split()[1:]))
    return lines


LINES = command_lines()
IDS = [where for where, _ in LINES]


def test_every_kind_of_deployment_contributes_command_lines():
    kinds = {where.split()[0] for where in IDS}
    assert kinds == {"Dockerfile", "compose.yaml", "k8s", "systemd"}


@pytest.mark.parametrize("argv", [argv for _, argv in LINES], ids=IDS)
def test_every_command_a_deployment_runs_is_a_supersms_command(argv):
    assert argv[0] in COMMANDS, f"supersms has no command {argv[0]!r} (it has {', '.join(COMMANDS)})"


@pytest.mark.parametrize("argv", [argv for _, argv in LINES], ids=IDS)
def test_every_option_a_deployment_passes_is_one_the_command_accepts(argv):
    command, options = argv[0], [arg.split("=")[0] for arg in argv[1:] if arg.startswith("--")]
    if command == PASSTHROUGH_TO_FLOWER:
        from flower.options import options as flower_options

        unknown = [option for option in options if option.removeprefix("--") not in flower_options]
    else:
        listed = set(re.findall(r"(?<![\w-])--[\w-]+", _help(command)))
        unknown = [option for option in options if option not in listed]
    assert unknown == []


def test_every_variable_a_deployment_sets_is_one_supersms_reads():
    unknown = sorted(_deployed_variables() - source_variables())
    assert unknown == []


def _deployed_variables() -> set[str]:
    names: set[str] = set()
    for service in compose()["services"].values():
        names.update(service.get("environment", {}))
    for _, obj in k8s_objects():
        names.update(obj.get("data", {}), obj.get("stringData", {}))
        if obj["kind"] in ("Deployment", "StatefulSet"):
            for container in pod_spec(obj)["containers"]:
                names.update(variable["name"] for variable in container.get("env", []))
    for path in sorted(SYSTEMD.glob("*.service")):
        settings = systemd_unit(path)["Service"].get("Environment", [])
        names.update(setting.split("=")[0] for setting in settings)
    names.update(env_file_names(SYSTEMD / "supersms.env.example"))
    return {name for name in names if name.startswith("SUPERSMS_")}


@functools.cache
def _help(command: str) -> str:
    """What ``supersms COMMAND --help`` prints (its options are what the command accepts)."""
    supersms = Path(sys.executable).with_name("supersms")
    result = subprocess.run(
        [str(supersms), command, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
