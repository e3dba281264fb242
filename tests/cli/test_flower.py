"""``supersms flower``: a real Flower on a loopback port watching a real worker; nothing personal in its API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import requests

from supersms.embedded import free_port
from supersms.errors import ConfigError, InvalidMessage
from supersms.sandbox.service import Sandbox
from supersms.workers.monitor_masking import HIDDEN, mask_event, mask_inspect_reply, mask_repr
from tests.support.processes import start_worker, wait_until

NATIONAL = "01093446280"
SENDER = "01029652189"
TEXTS = (
    "flower must not show this",
    "플라워에 보이면 안 되는 글",
    "a foreign producer's text",
    "held back text",
)
# Every way the numbers could show: as typed, normalised, and long pieces of them.
NUMBER_PIECES = (NATIONAL, "1093446280", "010-9344-6280", "3446280", SENDER, "29652189")
ACCOUNT = {"SUPERSMS_ID": "infobank_test", "SUPERSMS_PASSWORD": "pwinfobank"}
CREDENTIALS = ("ops", "flower-pass-7731")
COMMAND = (
    "import sys; from supersms.cli import main as m; "
    "m.COMMANDS.setdefault('flower', ('supersms.cli.flower', '')); sys.exit(m.main(['flower', *sys.argv[1:]]))"
)
START_TIMEOUT_S = 30.0


class FlowerProcess:
    """``supersms flower`` as a subprocess on a free loopback port; stopped by its pid."""

    def __init__(self, args: list[str], *, env: Mapping[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-c", COMMAND, f"--port={self.port}", *args],
                env={**_clean_environment(), **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._healthy, timeout_s=START_TIMEOUT_S, what="Flower to answer /healthcheck")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def get(self, path: str, *, auth: tuple[str, str] | None = CREDENTIALS) -> requests.Response:
        return requests.get(self.url + path, auth=auth, timeout=10)

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)

    def _healthy(self) -> bool:
        assert self.popen.poll() is None, f"Flower exited:\n{self.output()[-3000:]}"
        try:
            return requests.get(self.url + "/healthcheck", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False


def _clean_environment() -> dict[str, str]:
    return {
        name: value for name, value in os.environ.items() if not name.startswith(("SUPERSMS_", "FLOWER_"))
    }


@pytest.fixture
def producer(redis_url: str, monkeypatch: pytest.MonkeyPatch):
    """This test process as a producer of the private Redis (its URL is the same for the whole session)."""
    from supersms.tasks.app import app, settings

    monkeypatch.setenv("SUPERSMS_REDIS_URL", redis_url)
    monkeypatch.setenv("SUPERSMS_FROM", SENDER)
    settings.cache_clear()
    app.conf.broker_url = redis_url  # in case another test configured the app first, from another environment
    yield app
    settings.cache_clear()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as provider:
        yield provider


@pytest.fixture
def worker(redis_url: str, sandbox: Sandbox, tmp_path: Path):
    env = {
        **ACCOUNT,
        "SUPERSMS_REDIS_URL": redis_url,
        "SUPERSMS_API_URL": sandbox.url,
        "SUPERSMS_FROM": SENDER,
        "SUPERSMS_RATE_LIMIT": "0",
    }
    process = start_worker("w1", env=env, tmp_path=tmp_path, concurrency=2)
    yield f"w1@{socket.gethostname()}"
    process.stop()


@pytest.fixture
def flower(redis_url: str, tmp_path: Path):
    started: list[FlowerProcess] = []

    def start(*args: str, **env: str) -> FlowerProcess:
        process = FlowerProcess(
            list(args), env={"SUPERSMS_REDIS_URL": redis_url, **env}, log_path=tmp_path / "flower.log"
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def api_tasks(flower: FlowerProcess) -> dict[str, dict]:
    return flower.get("/api/tasks").json()


def test_flower_shows_the_worker_and_supersms_tasks_with_every_number_and_text_masked(
    producer, worker, flower
):
    from supersms.tasks import send_many, send_message

    running = flower(SUPERSMS_FLOWER_BASIC_AUTH=":".join(CREDENTIALS))
    wait_until(
        lambda: running.get("/api/workers?status=true").json().get(worker) is True,
        timeout_s=START_TIMEOUT_S,
        what="Flower to hear the worker's heartbeat",
    )
    ids = [send_message("010-9344-6280", TEXTS[0]), *send_many([{"to": NATIONAL, "message": TEXTS[1]}])]
    foreign = {"to": NATIONAL, "from": SENDER, "message": TEXTS[2]}
    foreign_id = producer.send_task("supersms.send", kwargs=foreign).id
    held_id = producer.send_task("supersms.send", kwargs={**foreign, "message": TEXTS[3]}, countdown=120).id

    def seen() -> bool:
        tasks = api_tasks(running)
        sends = [t for t in tasks.values() if t["name"] == "supersms.send" and t["state"] == "SUCCESS"]
        return len(sends) >= 3 and held_id in tasks

    wait_until(seen, timeout_s=START_TIMEOUT_S, what="Flower to show the sends")
    tasks = api_tasks(running)
    assert {task["name"] for task in tasks.values()} <= {"supersms.send", "supersms.correlate"}
    assert tasks[foreign_id]["worker"] == worker
    assert (
        "0109*****80" in tasks[foreign_id]["kwargs"]
        and f"<{len(TEXTS[2])} chars>" in tasks[foreign_id]["kwargs"]
    )
    assert [message_id for message_id in ids if message_id in json.dumps(tasks)] == ids
    paths = [
        "/api/workers?refresh=1",
        f"/api/workers?refresh=1&workername={worker}",
        "/api/tasks",
        "/api/task/types",
        "/api/queues/length",
        *(f"/api/task/info/{task_id}" for task_id in tasks),
        f"/task/{foreign_id}",
    ]
    responses = {path: running.get(path) for path in paths}
    assert {path: r.status_code for path, r in responses.items()} == dict.fromkeys(paths, 200)
    workers = responses[f"/api/workers?refresh=1&workername={worker}"].json()[worker]
    assert "supersms.send" in workers["registered"]
    assert [entry["request"]["id"] for entry in workers["scheduled"]] == [held_id]
    for path, response in responses.items():
        shown = response.text + (
            json.dumps(response.json(), ensure_ascii=False) if path.startswith("/api") else ""
        )
        leaks = [secret for secret in (*NUMBER_PIECES, *TEXTS) if secret in shown]
        assert not leaks, f"{path} shows {leaks}"
    assert CREDENTIALS[1] not in running.output()


def test_a_task_waiting_for_a_worker_shows_masked_though_only_its_producer_spoke_of_it(producer, flower):
    running = flower(SUPERSMS_FLOWER_BASIC_AUTH=":".join(CREDENTIALS))
    foreign = {"to": NATIONAL, "from": SENDER, "message": TEXTS[2]}

    def sent_and_seen() -> bool:  # Flower hears events only once its receiver runs: publish until it does
        producer.send_task("supersms.send", kwargs=foreign)
        return wait_briefly(lambda: bool(api_tasks(running)))

    wait_until(sent_and_seen, timeout_s=START_TIMEOUT_S, what="Flower to hear a task-sent event")
    tasks = api_tasks(running)
    assert {task["state"] for task in tasks.values()} == {"PENDING"}
    shown = json.dumps(tasks, ensure_ascii=False)
    assert "0109*****80" in shown
    assert not [secret for secret in (*NUMBER_PIECES, TEXTS[2]) if secret in shown]


def wait_briefly(predicate, *, timeout_s: float = 0.5) -> bool:
    try:
        wait_until(predicate, timeout_s=timeout_s, what="")
    except AssertionError:
        return False
    return True


def test_basic_auth_makes_the_api_answer_401_without_the_right_credentials(flower):
    running = flower("--basic-auth", "ops:flower-pass-7731")
    assert running.get("/api/workers", auth=None).status_code == 401
    assert running.get("/api/workers", auth=("ops", "wrong")).status_code == 401
    assert running.get("/api/workers", auth=CREDENTIALS).status_code == 200


def test_basic_auth_from_the_environment_is_required_and_never_logged(flower):
    running = flower(SUPERSMS_FLOWER_BASIC_AUTH=":".join(CREDENTIALS))
    assert running.get("/api/tasks", auth=None).status_code == 401
    assert running.get("/api/tasks").status_code == 200
    assert CREDENTIALS[1] not in running.output()


def test_flower_listens_on_loopback_unless_told_otherwise(flower):
    running = flower()
    assert "Visit me at http://127.0.0.1:" in running.output()
    assert "Flower has no authentication" in running.output()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--prot=5555"], {}, "supersms flower: --prot: is not a Flower option"),
        (["--port"], {}, "supersms flower: --port: needs a value"),
        (["5555"], {}, "supersms flower: arguments: Flower options look like --name=value"),
        (["--port=abc"], {}, "supersms flower: --port: must be an integer, got 'abc'"),
        (["--max-tasks", "1e3"], {}, "supersms flower: --max-tasks: must be an integer, got '1e3'"),
        (
            ["--basic-auth=ops-secret-without-colon"],
            {},
            "supersms flower: --basic-auth: must be user:password (several separated by commas)",
        ),
        (["--port=70000"], {}, "supersms flower: --port: must be an integer 1-65535, got '70000'"),
        (["--port", "0"], {}, "supersms flower: --port: must be an integer 1-65535, got '0'"),
        (
            [],
            {"SUPERSMS_FLOWER_BASIC_AUTH": "ops-secret-without-colon"},
            "supersms flower: SUPERSMS_FLOWER_BASIC_AUTH: must be user:password (several separated by commas)",
        ),
    ],
)
def test_bad_options_exit_2_with_one_line_that_never_echoes_a_secret(redis_url, args, env, message):
    finished = subprocess.run(
        [sys.executable, "-c", COMMAND, *args],
        env={**_clean_environment(), "SUPERSMS_REDIS_URL": redis_url, **env},
        capture_output=True,
        timeout=60,
        check=False,
    )
    lines = finished.stderr.decode().strip().splitlines()
    assert finished.returncode == 2
    assert len(lines) == 1 and lines[0].startswith(message)
    assert "ops-secret" not in finished.stderr.decode()


# -- the pure parts --------------------------------------------------------------------------------------

KNOWN = {"port": True, "address": True, "basic-auth": True, "persistent": False, "help": False}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--port=5556"], ["--port=5556"]),
        (["--port", "5556"], ["--port=5556"]),
        (["--basic_auth", "a:b", "--persistent"], ["--basic-auth=a:b", "--persistent"]),
        (["--persistent=false"], ["--persistent=false"]),
        (["-h"], ["--help"]),
        ([], []),
    ],
)
def test_flower_arguments_are_put_in_tornados_form(argv, expected):
    from supersms.cli.flower import flower_argv

    assert flower_argv(argv, KNOWN) == expected


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--broker=redis://x"], "--broker"),
        (["--port"], "--port"),
        (["--port", "--persistent"], "--port"),
        (["--persistent", "true"], "arguments"),
        (["-p", "5555"], "arguments"),
    ],
)
def test_unknown_or_incomplete_flower_arguments_are_refused_by_name(argv, field):
    from supersms.cli.flower import flower_argv

    with pytest.raises(InvalidMessage) as refused:
        flower_argv(argv, KNOWN)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("value", "credentials"),
    [
        ("", None),
        ("ops:pw", ["ops:pw"]),
        ("ops:pw:with:colons", ["ops:pw:with:colons"]),
        ("ops:pw, audit:pw2", ["ops:pw", "audit:pw2"]),
    ],
)
def test_basic_auth_credentials_are_read_from_the_environment(value, credentials):
    from supersms.cli.flower import basic_auth_from_env

    assert basic_auth_from_env({"SUPERSMS_FLOWER_BASIC_AUTH": value}) == credentials


@pytest.mark.parametrize("value", ["ops", "ops:", ":pw", "ops:pw,", "ops:pw,audit"])
def test_malformed_basic_auth_credentials_are_refused_without_echoing_them(value):
    from supersms.cli.flower import basic_auth_from_env

    with pytest.raises(ConfigError) as refused:
        basic_auth_from_env({"SUPERSMS_FLOWER_BASIC_AUTH": value})
    assert str(refused.value) == (
        "SUPERSMS_FLOWER_BASIC_AUTH: must be user:password (several separated by commas)"
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("{'to': '01093446280', 'message': 'hello'}", "{'to': '0109*****80', 'message': '<5 chars>'}"),
        ("{'to': '0109*****80', 'message': '<5 chars>'}", "{'to': '0109*****80', 'message': '<5 chars>'}"),
        (
            "({'record': {'to': '1093446280', 'from': 1588}},)",
            "({'record': {'to': '1093****80', 'from': '****'}},)",
        ),
        ("{'id': 'abc'}", "{'id': 'abc'}"),
        ("()", "()"),
        ("{'to': '01093446280', 'message': 'cut sho...", HIDDEN),
        ("<object at 0x7f>", HIDDEN),
    ],
)
def test_argument_reprs_are_masked_at_any_depth_or_hidden_when_unreadable(text, shown):
    assert mask_repr(text) == shown


def test_task_events_are_masked_and_other_events_pass_as_they_are():
    sent = {"type": "task-sent", "name": "supersms.send", "args": "()", "kwargs": "{'to': '01093446280'}"}
    positional = {"type": "task-received", "name": "supersms.send", "args": "['01093446280']", "kwargs": "{}"}
    heartbeat = {"type": "worker-heartbeat", "hostname": "w1", "kwargs": "{'to': '01093446280'}"}
    assert mask_event(sent)["kwargs"] == "{'to': '0109*****80'}"
    assert mask_event(positional)["args"] == HIDDEN
    assert mask_event(heartbeat) is heartbeat


def test_inspect_replies_of_task_lists_are_masked_and_others_pass():
    request = {
        "id": "t1",
        "name": "supersms.send",
        "args": [],
        "kwargs": {"to": "01093446280", "message": "hi"},
    }
    masked = {**request, "kwargs": {"to": "0109*****80", "message": "<2 chars>"}}
    assert mask_inspect_reply("reserved", [request]) == [masked]
    assert mask_inspect_reply("scheduled", [{"eta": "x", "request": request}]) == [
        {"eta": "x", "request": masked}
    ]
    assert mask_inspect_reply("registered", ["supersms.send"]) == ["supersms.send"]
