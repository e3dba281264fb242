"""The real ``supersms receiver`` command: gunicorn on a loopback port, real GETs, stopped by its pid."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import requests

from bench.measure import descendants
from supersms.embedded import EmbeddedRedis, free_port
from supersms.workers import keys
from tests.receiver.wsgi_client import GOOD_QUERY, GOOD_RESPONSE
from tests.support.processes import Process, wait_until

OTHER_QUERY = GOOD_QUERY.replace("00000123", "00000124")
START_TIMEOUT_S = 20.0
CLOSE = {"Connection": "close"}  # no kept-alive connection makes a stopping worker linger


class Receiver:
    """A running ``supersms receiver`` and its base URL."""

    def __init__(self, process: Process, port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def get(self, path: str = "/", query: str = GOOD_QUERY, **headers: str) -> requests.Response:
        url = f"{self.url}{path}?{query}" if query else f"{self.url}{path}"
        return requests.get(url, headers={**CLOSE, **headers}, timeout=10)

    def answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", headers=CLOSE, timeout=1).status_code == 200
        except requests.ConnectionError:
            return False


StartReceiver = Callable[..., Receiver]


@pytest.fixture
def start_receiver(tmp_path: Path, redis_url: str) -> Iterator[StartReceiver]:
    """Start receivers (one gunicorn worker each); every one is stopped by its pid at the end."""
    started: list[Process] = []

    def start(*, redis: str = redis_url, workers: int = 1, port: int = 0, **settings: str) -> Receiver:
        port = port or free_port()
        env = {
            "SUPERSMS_REDIS_URL": redis,
            "SUPERSMS_REPORT_ALLOW": "127.0.0.1",
            "SUPERSMS_SPOOL_DIR": str(tmp_path / "spool"),
            **settings,
        }
        args = ["receiver", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        process = Process(args, env=env, log_path=tmp_path / f"receiver-{len(started)}.log")
        started.append(process)
        receiver = Receiver(process, port)
        wait_until(receiver.answers, timeout_s=START_TIMEOUT_S, what=f"the receiver on port {port}")
        return receiver

    yield start
    for process in started:
        process.stop()  # SIGTERM, then SIGKILL if it does not end


def spooled_lines(spool_dir: Path) -> list[bytes]:
    return [
        line for path in sorted(spool_dir.glob("spool-*.jsonl")) for line in path.read_bytes().splitlines()
    ]


def test_a_report_over_http_is_answered_with_the_report_response_and_stored_once(
    start_receiver: StartReceiver, redis_client: redis.Redis
) -> None:
    receiver = start_receiver()

    first, again = receiver.get(), receiver.get()

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert first.content == again.content == GOOD_RESPONSE
    [(_, fields)] = redis_client.xrange(keys.REPORTS)
    assert (fields["query"], fields["source"]) == (GOOD_QUERY, "127.0.0.1")


def test_over_http_the_edges_answer_as_in_process(
    start_receiver: StartReceiver, redis_client: redis.Redis
) -> None:
    receiver = start_receiver()

    assert receiver.get(query="msgid=1").status_code == 400
    posted = requests.post(f"{receiver.url}/?{GOOD_QUERY}", data=b"x" * 100_000, headers=CLOSE, timeout=10)
    assert posted.status_code == 405
    assert receiver.get(path="/nowhere").status_code == 404
    assert receiver.get(query=GOOD_QUERY + "&pad=" + "x" * 5000).status_code == 414
    assert receiver.get(query=GOOD_QUERY + "&pad=" + "x" * 20_000).status_code == 414  # gunicorn's own limit
    assert receiver.get(path="/healthz", query="").text == "ok\n"
    assert redis_client.xlen(keys.REPORTS) == 0
    assert redis_client.xlen(keys.REPORTS_MALFORMED) == 1


def test_behind_a_trusted_proxy_the_forwarded_source_is_checked(
    start_receiver: StartReceiver, redis_client: redis.Redis
) -> None:
    receiver = start_receiver(SUPERSMS_REPORT_ALLOW="211.233.70.235", SUPERSMS_TRUSTED_PROXIES="127.0.0.1")

    assert receiver.get().status_code == 403
    assert receiver.get(**{"X-Forwarded-For": "198.51.100.7"}).status_code == 403
    assert receiver.get(**{"X-Forwarded-For": "211.233.70.235"}).status_code == 200
    [(_, fields)] = redis_client.xrange(keys.REPORTS)
    assert fields["source"] == "211.233.70.235"


def test_with_redis_away_reports_are_spooled_then_replayed_and_a_restart_replays_what_was_left(
    start_receiver: StartReceiver, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    with EmbeddedRedis(directory=str(tmp_path), appendonly=True) as own_redis:  # data outlives a restart
        client = redis.Redis.from_url(own_redis.url, decode_responses=True)
        receiver = start_receiver(redis=own_redis.url)
        own_redis.stop()

        assert receiver.get().status_code == 200
        assert len(spooled_lines(spool_dir)) == 1  # fsynced before the answer
        own_redis.start()
        wait_until(lambda: client.xlen(keys.REPORTS) == 1, timeout_s=15, what="the spool to be replayed")
        wait_until(lambda: not spooled_lines(spool_dir), timeout_s=5, what="the spool file to be removed")

        own_redis.stop()
        assert receiver.get(query=OTHER_QUERY).status_code == receiver.get().status_code == 200
        receiver.process.stop()
        assert len(spooled_lines(spool_dir)) == 2
        own_redis.start()
        start_receiver(redis=own_redis.url)  # replays on start, with no report arriving

        wait_until(
            lambda: not spooled_lines(spool_dir), timeout_s=15, what="the restarted receiver to replay"
        )
        queries = [fields["query"] for _, fields in client.xrange(keys.REPORTS)]
        client.close()
    assert queries == [GOOD_QUERY, OTHER_QUERY]


def run_receiver(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supersms", "receiver", *args],
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_taken_port_is_one_clear_line_and_exit_2(redis_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_receiver("--host", "127.0.0.1", "--port", str(port), env=_env(redis_url, tmp_path))

    assert done.returncode == 2
    assert done.stderr == f"supersms receiver: --port: 127.0.0.1:{port} is already in use\n"


def test_each_worker_listens_on_a_socket_of_its_own(start_receiver: StartReceiver) -> None:
    receiver = start_receiver(workers=3)
    port = receiver.port
    master = receiver.process.popen.pid
    wait_until(lambda: len(descendants(master)) == 4, timeout_s=START_TIMEOUT_S, what="three workers")
    # a worker opens its socket after it starts: wait for all three before looking at who holds which
    wait_until(lambda: len(listening_sockets(port)) == 3, timeout_s=START_TIMEOUT_S, what="three sockets")
    listening = listening_sockets(port)
    held = {pid: socket_inodes(pid) & listening for pid in descendants(master)}
    assert held.pop(master) == set(), "the master holds no listening socket"
    assert sorted(len(inodes) for inodes in held.values()) == [1, 1, 1]
    assert set.union(*held.values()) == listening, "one socket each, none shared"
    output = receiver.process.output()
    assert f"Serving reports at http://127.0.0.1:{port} (3 workers, a socket each)" in output
    assert "Listening at:" not in output, "gunicorn's line naming no socket is left out"


def test_a_port_a_running_receiver_listens_on_is_refused(
    start_receiver: StartReceiver, redis_url: str, tmp_path: Path
) -> None:
    running = start_receiver(workers=2)
    port = running.port
    done = run_receiver("--host", "127.0.0.1", "--port", str(port), env=_env(redis_url, tmp_path))
    assert done.returncode == 2
    assert done.stderr == f"supersms receiver: --port: 127.0.0.1:{port} is already in use\n"
    assert running.answers()


def listening_sockets(port: int) -> set[str]:
    """The inodes of the IPv4 sockets listening on ``port`` (``/proc/net/tcp``, state 0A)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return {
        fields[9]
        for fields in (line.split() for line in lines)
        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port
    }


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process ``pid`` has open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    return inodes


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("SUPERSMS_REPORT_ALLOW", "not-an-ip", "SUPERSMS_REPORT_ALLOW"),
        ("SUPERSMS_REDIS_URL", "http://nope", "SUPERSMS_REDIS_URL"),
        ("SUPERSMS_REPORT_PATH", "report", "SUPERSMS_REPORT_PATH"),
    ],
)
def test_malformed_settings_are_one_clear_line_and_exit_2(
    redis_url: str, tmp_path: Path, variable: str, value: str, named: str
) -> None:
    done = run_receiver("--port", str(free_port()), env={**_env(redis_url, tmp_path), variable: value})

    assert done.returncode == 2
    assert done.stderr.startswith(f"supersms receiver: {named}: ")
    assert done.stderr.count("\n") == 1


def test_an_unusable_spool_directory_is_refused_at_start(redis_url: str, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    env = {**_env(redis_url, tmp_path), "SUPERSMS_SPOOL_DIR": str(tmp_path / "a-file" / "spool")}

    done = run_receiver("--port", str(free_port()), env=env)

    assert done.returncode == 2
    assert done.stderr.startswith("supersms receiver: SUPERSMS_SPOOL_DIR: ")


def test_replay_moves_a_spool_and_prints_the_count(
    redis_url: str, tmp_path: Path, redis_client: redis.Redis
) -> None:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    line = b'{"query":"' + GOOD_QUERY.encode() + b'","received_ms":1,"source":"127.0.0.1"}\n'
    (spool_dir / "spool-00000000000000000001-1.jsonl").write_bytes(line)

    done = run_receiver("--replay", env=_env(redis_url, tmp_path))

    assert (done.returncode, done.stdout) == (0, "1\n")
    assert redis_client.xlen(keys.REPORTS) == 1


def _env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "SUPERSMS_REDIS_URL": redis_url,
        "SUPERSMS_REPORT_ALLOW": "127.0.0.1",
        "SUPERSMS_SPOOL_DIR": str(tmp_path / "spool"),
    }
