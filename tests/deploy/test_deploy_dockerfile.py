"""deploy/Dockerfile: valid instructions, a slim non-root image whose entry point is the supersms command."""

from __future__ import annotations

import re
import tomllib

import pytest

from supersms.cli.main import COMMANDS
from tests.deploy.files import DOCKERFILE_INSTRUCTIONS, ROOT, Instruction, dockerfile, stages

INSTRUCTIONS = dockerfile()
FINAL = stages(INSTRUCTIONS)[-1]


def last(keyword: str, instructions: list[Instruction] = FINAL) -> Instruction:
    found = [instruction for instruction in instructions if instruction.keyword == keyword]
    assert found, f"the final stage has no {keyword}"
    return found[-1]


def test_every_instruction_is_a_dockerfile_instruction():
    unknown = [(i.line, i.keyword) for i in INSTRUCTIONS if i.keyword not in DOCKERFILE_INSTRUCTIONS]
    assert unknown == []


def test_only_arg_comes_before_the_first_from():
    first_from = next(n for n, i in enumerate(INSTRUCTIONS) if i.keyword == "FROM")
    assert {i.keyword for i in INSTRUCTIONS[:first_from]} <= {"ARG"}


def test_the_image_is_built_on_a_slim_python():
    base = last("FROM").arguments.split()[0]
    assert re.fullmatch(r"python:(3\.1[1-9]|\$\{PYTHON_VERSION\})-slim", base)
    version = next(
        i for i in INSTRUCTIONS if i.keyword == "ARG" and i.arguments.startswith("PYTHON_VERSION=")
    )
    assert re.fullmatch(r"PYTHON_VERSION=3\.1[1-9]", version.arguments)


def test_the_final_stage_runs_as_a_user_that_is_not_root():
    user = last("USER").arguments.split(":")[0]
    assert user not in ("root", "0", "")


def test_the_user_it_runs_as_is_the_one_it_creates():
    uid = last("USER").arguments.split(":")[0]
    created = " ".join(i.arguments for i in FINAL if i.keyword == "RUN")
    assert re.search(rf"useradd\b.*--uid {uid}\b", created)


def test_the_entry_point_is_the_supersms_command_in_exec_form():
    assert last("ENTRYPOINT").exec_form() == ["supersms"]


def test_the_default_command_is_a_supersms_command():
    command = last("CMD").exec_form()
    assert command[0] in COMMANDS


def test_it_installs_the_project_from_the_build_context():
    runs = [i.arguments for i in INSTRUCTIONS if i.keyword == "RUN"]
    assert any(re.search(r"pip (wheel|install)\b.* \.$", run) for run in runs)


def test_every_copied_path_exists_in_the_repository_root():
    copied = [source for source in _copied_sources() if not source.startswith("--")]
    missing = [source for source in copied if not (ROOT / source).exists()]
    assert copied and missing == []


def test_every_package_folder_of_pyproject_is_copied():
    """A folder added to the package but not to the Dockerfile would be missing from the image."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    folders = {path.split("/")[0] for path in pyproject["tool"]["setuptools"]["package-dir"].values()}
    copied = {source.rstrip("/") for source in _copied_sources()}
    assert folders <= copied
    assert {"pyproject.toml", pyproject["project"]["readme"]} <= copied


def test_the_spool_directory_it_sets_is_made_and_given_to_the_user_it_runs_as():
    env = " ".join(i.arguments for i in FINAL if i.keyword == "ENV")
    (spool,) = re.findall(r"SUPERSMS_SPOOL_DIR=(\S+)", env)
    runs = " ".join(i.arguments for i in FINAL if i.keyword == "RUN")
    assert f"mkdir -p {spool}" in runs
    (owned,) = re.findall(r"chown -R supersms:supersms (\S+)", runs)
    assert spool.startswith(owned)


@pytest.mark.parametrize("entry", [".git", ".venv", "**/__pycache__", "build", "*.egg-info"])
def test_the_build_context_leaves_out_local_state(entry):
    """The build context is the repository root: history, virtual environments and build output stay out."""
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert entry in ignored


def _copied_sources() -> list[str]:
    sources = []
    for instruction in INSTRUCTIONS:
        if instruction.keyword == "COPY" and "--from=" not in instruction.arguments:
            *from_context, _destination = instruction.arguments.split()
            sources += from_context
    return sources
