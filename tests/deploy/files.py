"""Readers for the files under deploy/: YAML documents, the Dockerfile, systemd units, compose interpolation.

Each reader is small and strict: a file it cannot read as its format fails the test that reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SYSTEMD = DEPLOY / "systemd"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
SOURCE_FOLDERS = ("supersms", "protocol", "workers", "tasks", "receiver", "sandbox")
IMAGE = (
    "supersms-worker"  # the name compose and kustomization.yaml give the image built from deploy/Dockerfile
)


def yaml_documents(path: Path) -> list[Any]:
    """Every document of a YAML file (empty ones dropped)."""
    with path.open(encoding="utf-8") as stream:
        return [document for document in yaml.safe_load_all(stream) if document is not None]


def compose() -> dict[str, Any]:
    """deploy/compose.yaml, YAML merge keys applied (as Compose applies them)."""
    (document,) = yaml_documents(DEPLOY / "compose.yaml")
    return document


def kustomization() -> dict[str, Any]:
    (document,) = yaml_documents(K8S / "kustomization.yaml")
    return document


def k8s_objects() -> list[tuple[str, dict[str, Any]]]:
    """Every Kubernetes object under deploy/k8s, with ``file:Kind/name`` to name it."""
    objects = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml_documents(path):
            objects.append((f"{path.name}:{document['kind']}/{document['metadata']['name']}", document))
    return objects


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    (found,) = [obj for _, obj in k8s_objects() if (obj["kind"], obj["metadata"]["name"]) == (kind, name)]
    return found


def pod_spec(workload: Mapping[str, Any]) -> dict[str, Any]:
    return dict(workload["spec"]["template"]["spec"])


def supersms_containers(workload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The containers of a workload that run the supersms image."""
    return [c for c in pod_spec(workload)["containers"] if c["image"].split(":")[0].endswith(IMAGE)]


def load_schema(name: str) -> dict[str, Any]:
    return dict(json.loads((SCHEMAS / name).read_text(encoding="utf-8")))


def source_variables() -> set[str]:
    """Every ``SUPERSMS_*`` name that appears in the package's source."""
    names: set[str] = set()
    for folder in SOURCE_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            names.update(re.findall(r"SUPERSMS_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")))
    return names


# --- Dockerfile -------------------------------------------------------------------------------------------------

DOCKERFILE_INSTRUCTIONS = frozenset(
    [
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    ]
)


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: its keyword, the rest of its (joined) line, and where it starts."""

    keyword: str
    arguments: str
    line: int

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form CMD or ENTRYPOINT (``ValueError`` for the shell form)."""
        value = json.loads(self.arguments)
        if not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            raise ValueError(f"line {self.line}: not a JSON array of strings: {self.arguments}")
        return value


def dockerfile(path: Path = DEPLOY / "Dockerfile") -> list[Instruction]:
    """The instructions of a Dockerfile: continuation lines joined, comments and parser directives dropped."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):  # a comment inside a continued instruction is dropped
            continue
        if not pending:
            start = number
        continued = line.endswith("\\")
        pending.append(line.removesuffix("\\").strip())
        if not continued:
            keyword, _, arguments = " ".join(pending).partition(" ")
            instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
            pending = []
    if pending:
        raise ValueError(f"{path}: the instruction starting on line {start} never ends")
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """The instructions grouped by build stage, each group starting with its FROM."""
    groups: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            groups.append([])
        if groups:
            groups[-1].append(instruction)
    return groups


# --- systemd ----------------------------------------------------------------------------------------------------

Unit = dict[str, dict[str, list[str]]]


def systemd_unit(path: Path) -> Unit:
    """A unit file as section -> key -> values (a key may repeat); ``ValueError`` on a line that is neither."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    for number, raw in enumerate(_joined_lines(path), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        key, equals, value = line.partition("=")
        if not equals or section is None or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key.strip()):
            raise ValueError(f"{path.name}: line {number} is not KEY=VALUE inside a section: {raw!r}")
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def _joined_lines(path: Path) -> Iterator[str]:
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.rstrip().endswith("\\") and not raw.lstrip().startswith(("#", ";")):
            pending += raw.rstrip()[:-1] + " "
            continue
        yield pending + raw
        pending = ""


def env_file_names(path: Path) -> list[str]:
    """The variable names an EnvironmentFile example sets or shows commented out (``#NAME=default``)."""
    return re.findall(r"^#?([A-Z][A-Z0-9_]*)=", path.read_text(encoding="utf-8"), flags=re.MULTILINE)


# --- Compose interpolation --------------------------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(LookupError):
    """A ``${NAME:?message}`` whose variable is unset (Compose refuses to start, printing the message)."""


def interpolate(value: Any, environ: Mapping[str, str]) -> Any:
    """``value`` with Compose's ``$NAME``, ``${NAME}``, ``${NAME:-default}``, ``${NAME:?error}`` and ``$$`` resolved."""
    if isinstance(value, dict):
        return {key: interpolate(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environ) for item in value]
    if isinstance(value, str):
        return _VARIABLE.sub(lambda match: _substitute(match, environ), value)
    return value


def _substitute(match: re.Match[str], environ: Mapping[str, str]) -> str:
    if match["escaped"]:
        return "$"
    name = match["name"] or match["bare"]
    value, op, arg = environ.get(name), match["op"], match["arg"] or ""
    unset = value is None or (op is not None and op.startswith(":") and value == "")
    if op in ("-", ":-"):
        return arg if unset else str(value)
    if op in ("?", ":?"):
        if unset:
            raise MissingVariable(f"{name}: {arg}")
        return str(value)
    return value or ""
