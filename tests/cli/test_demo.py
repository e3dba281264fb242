"""``supersms demo``: the batch, the table and the progress as pure parts, and whole runs as real processes."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from supersms.demo.batch import MAX_COUNT, REFUSED, SENDER, Kind, build_batch
from supersms.demo.progress import Progress, progress_line, render_bar
from supersms.demo.report import count_outcomes, format_table, percentile
from supersms.protocol.measure import korean_bytes
from supersms.protocol.message import validate_message
from supersms.protocol.numbers import parse_recipient
from supersms.workers.redis_io import connect
from tests.cli.conftest import environment
from tests.cli.helpers import ACCOUNT, assert_nothing_enqueued
from tests.support.processes import start_worker, wait_until

RUN_TIMEOUT_S = 90.0
MARK = "DEMO_TEST_MARK"
STARTED = re.compile(r"^started (\w+) pid (\d+)", re.MULTILINE)
STATUS_ROW = re.compile(
    r"^  (delivered|undelivered|rejected|failed|queued|retrying|submitted|missing) +(\d+)$"
)


# --- the batch -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 10, 11, 300, MAX_COUNT])
def test_a_batch_has_exactly_the_count_asked_for(count):
    assert len(build_batch(count).messages) == count


@pytest.mark.parametrize("count", [0, MAX_COUNT + 1])
def test_a_batch_outside_1_to_the_maximum_is_refused(count):
    with pytest.raises(ValueError, match="count"):
        build_batch(count)


def test_every_message_of_the_batch_passes_validation():
    for message in build_batch(300).messages:
        validate_message(message.fields, default_sender=SENDER)


def test_the_batch_mixes_korean_sms_and_lms_english_and_international_messages():
    batch = build_batch(300)
    kinds = batch.kinds()
    assert set(kinds) == set(Kind)
    assert kinds[Kind.KOREAN_SMS] > kinds[Kind.KOREAN_LMS] > 0
    assert kinds[Kind.ENGLISH] > 0 and kinds[Kind.INTERNATIONAL] > 0
    countries = {parse_recipient(m.fields["to"]).country for m in batch.messages}
    assert countries == {"82", "1", "81", "44"}


def test_korean_lms_are_over_90_bytes_with_a_title_and_sms_within_90():
    messages = build_batch(40).messages
    for message in (m for m in messages if m.kind is Kind.KOREAN_LMS):
        assert korean_bytes(message.fields["message"]) > 90 and message.fields["title"]
    for message in (m for m in messages if m.kind in (Kind.KOREAN_SMS, Kind.ENGLISH)):
        assert korean_bytes(message.fields["message"]) <= 90 and "title" not in message.fields


@pytest.mark.parametrize(("count", "refused"), [(10, 0), (11, 2), (300, 2)])
def test_two_recipients_are_refused_from_eleven_messages_up(count, refused):
    batch = build_batch(count)
    numbers = [m.fields["to"] for m in batch.messages if m.kind is Kind.REFUSED]
    assert len(numbers) == refused
    assert set(numbers) <= set(REFUSED)
    assert batch.faults.code_for_to == {"1099990003": "R003", "1099990010": "R010"}


@pytest.mark.parametrize(("count", "busy"), [(7, 0), (8, 1), (300, 20)])
def test_one_send_in_fifteen_meets_r001_or_r009_first(count, busy):
    batch = build_batch(count)
    assert batch.retried_sends() == busy
    assert set(batch.faults.script) <= {"R000", "R001", "R009"}
    assert f"{busy} sends meet R001/R009 first" in batch.describe()


def test_report_codes_are_mostly_delivered_with_some_handset_off_and_unknown_subscriber():
    mix = build_batch(10).faults.report_codes
    assert set(mix) == {"1000", "2003", "3001"}
    assert mix["1000"] > 0.5


# --- the table -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        ([1.0], 50, 1.0),
        ([1.0], 100, 1.0),
        ([1.0, 2.0], 50, 1.0),
        ([1.0, 2.0], 50.1, 2.0),
        ([float(n) for n in range(1, 11)], 90, 9.0),
        ([float(n) for n in range(1, 11)], 99, 10.0),
        ([float(n) for n in range(1, 101)], 99, 99.0),
        ([float(n) for n in range(1, 101)], 100, 100.0),
        ([], 50, None),
    ],
)
def test_percentiles_are_nearest_rank(values, percent, expected):
    assert percentile(values, percent) == expected


@pytest.mark.parametrize("percent", [0, -1, 100.001])
def test_a_percentile_outside_0_to_100_is_refused(percent):
    with pytest.raises(ValueError, match="percent"):
        percentile([1.0], percent)


def record(status: str, *, submitted_s: float | None = None, reported_s: float | None = None, **fields: str):
    """A raw record created at 09:00:00 UTC, submitted and reported the given seconds later."""

    def at(seconds: float) -> str:
        return f"2026-11-25T09:00:{seconds:06.3f}+00:00"

    raw = {"status": status, "created_at": at(0), "attempts": "1", **fields}
    if submitted_s is not None:
        raw["submitted_at"] = at(submitted_s)
    if reported_s is not None:
        raw["reported_at"] = at(reported_s)
    return raw


def test_outcomes_count_statuses_codes_retries_and_latencies():
    records = [
        record("delivered", submitted_s=0.5, reported_s=1.5, err_code="R000", report='{"err_code": "1000"}'),
        record("delivered", submitted_s=1.0, reported_s=3.0, err_code="R000", report='{"err_code": "1000"}'),
        record(
            "undelivered", submitted_s=2.0, reported_s=4.0, err_code="R000", report='{"err_code": "2003"}'
        ),
        record("rejected", err_code="R003"),
        record("submitted", submitted_s=0.25, err_code="R000", attempts="3"),
        {},
    ]
    outcomes = count_outcomes(records)
    assert outcomes.by_status == {
        "delivered": 2,
        "undelivered": 1,
        "rejected": 1,
        "failed": 0,
        "submitted": 1,
        "missing": 1,
    }
    assert (outcomes.total, outcomes.unfinished, outcomes.retried) == (6, 2, 1)
    assert outcomes.by_err_code == {"-": 1, "R000": 4, "R003": 1}
    assert outcomes.by_report_code == {"1000": 2, "2003": 1}
    assert outcomes.to_submitted_s == (0.25, 0.5, 1.0, 2.0)
    assert outcomes.to_delivered_s == (1.5, 3.0)  # undelivered messages have no delivery latency


def test_the_table_shows_every_final_status_a_total_codes_and_latency_lines():
    table = format_table(count_outcomes([record("delivered", submitted_s=0.5, reported_s=1.25)]))
    assert status_counts(table) == {"delivered": 1, "undelivered": 0, "rejected": 0, "failed": 0}
    assert re.search(r"^  total +1$", table, re.MULTILINE)
    assert re.search(r"^  enqueue → submitted +0\.500 +0\.500 +0\.500 +0\.500 +1$", table, re.MULTILINE)
    assert re.search(r"^  enqueue → delivered +1\.250 +1\.250 +1\.250 +1\.250 +1$", table, re.MULTILINE)


def test_latencies_of_no_message_show_as_dashes():
    table = format_table(count_outcomes([record("rejected", err_code="R003")]))
    assert re.search(r"^  enqueue → delivered +- +- +- +- +0$", table, re.MULTILINE)
    assert "R003                1  bad recipient number" in table


# --- the progress --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "total", "bar"),
    [
        (0, 10, "[" + "." * 30 + "]"),
        (1, 30, "[#" + "." * 29 + "]"),
        (29, 30, "[" + "#" * 29 + ".]"),
        (30, 30, "[" + "#" * 30 + "]"),
        (299, 300, "[" + "#" * 29 + ".]"),
        (0, 0, "[" + "." * 30 + "]"),
    ],
)
def test_the_bar_fills_in_proportion_and_is_full_only_when_all_are_done(done, total, bar):
    assert render_bar(done, total) == bar


def test_a_progress_line_counts_final_messages_and_those_still_moving():
    counts = {"delivered": 5, "rejected": 1, "queued": 3, "submitted": 1}
    line = progress_line(counts, total=10, elapsed_s=2.5)
    assert " 6/10 final · 3 queued · 0 retrying · 1 submitted ·   2.5 s" in line


def test_without_a_terminal_progress_prints_a_line_at_most_every_second_and_the_last_state():
    stream = io.StringIO()
    progress = Progress(stream, total=2)
    progress.update({"queued": 2})
    progress.update({"queued": 1, "delivered": 1})
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "0/2 final" in lines[0] and "1/2 final" in lines[1]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_redraws_one_line_in_place():
    stream = Terminal()
    progress = Progress(stream, total=2)
    progress.update({"queued": 2})
    progress.update({"delivered": 2})
    progress.finish()
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1


# --- whole runs ----------------------------------------------------------------------------------------


class DemoRun:
    """``python -m supersms demo ARGS`` as a subprocess, marked so that its descendants can be found."""

    def __init__(self, tmp_path: Path, *args: str, **env: str) -> None:
        self.mark = uuid.uuid4().hex
        self.out_path, self.err_path = tmp_path / "demo.out", tmp_path / "demo.err"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "supersms", "demo", *args],
                env={**environment(**env), MARK: self.mark},  # inherited by every descendant
                stdout=out,
                stderr=err,
            )

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def wait_for(self, text: str) -> None:
        wait_until(lambda: text in self.stdout or self.popen.poll() is not None, timeout_s=60, what=text)
        assert text in self.stdout, self.stdout + self.stderr

    def finish(self) -> int:
        try:
            return self.popen.wait(timeout=RUN_TIMEOUT_S)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()
                self.popen.wait()

    def started(self) -> dict[str, int]:
        return {role: int(pid) for role, pid in STARTED.findall(self.stdout)}

    def assert_nothing_left(self) -> None:
        """No process the demo started is alive, nor any other carrying its mark (gunicorn's workers...)."""
        wait_until(lambda: not alive(self.started().values()), timeout_s=5, what="the demo's pids to end")
        wait_until(lambda: not marked(self.mark), timeout_s=5, what="the demo's descendants to end")


def alive(pids) -> list[int]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists() and not zombie(pid)]


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def marked(mark: str) -> list[int]:
    """Live processes whose environment holds this run's mark."""
    wanted = f"{MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            variables = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in variables and not zombie(int(entry.name)):
            found.append(int(entry.name))
    return found


def status_counts(text: str) -> dict[str, int]:
    return {match[1]: int(match[2]) for line in text.splitlines() if (match := STATUS_ROW.match(line))}


def test_the_demo_sends_a_batch_end_to_end_prints_the_outcomes_and_leaves_no_process(tmp_path):
    run = DemoRun(tmp_path, "--count", "40", "--no-flower")
    assert run.finish() == 0, run.stderr
    out = run.stdout
    assert "every message final" in out
    counts = status_counts(out)
    assert sum(counts.values()) == 40
    assert counts["rejected"] == 2 and counts["delivered"] > 0
    assert re.search(r"^  R003 +1  bad recipient number$", out, re.MULTILINE)
    assert re.search(r"^  enqueue → submitted( +\d+\.\d{3}){4} +38$", out, re.MULTILINE)
    assert re.search(r"^  enqueue → delivered( +\d+\.\d{3}){4} +\d+$", out, re.MULTILINE)
    assert set(run.started()) == {"redis", "receiver", "worker"}
    assert "Traceback" not in out + run.stderr
    run.assert_nothing_left()


def test_the_demo_with_flower_says_where_flower_was(tmp_path):
    run = DemoRun(tmp_path, "--count", "20")
    assert run.finish() == 0, run.stderr
    url = re.search(r"^Flower: (http://127\.0\.0\.1:\d+/)$", run.stdout, re.MULTILINE)
    assert url and f"Flower was at {url[1]}" in run.stdout
    assert sum(status_counts(run.stdout).values()) == 20
    assert set(run.started()) == {"redis", "receiver", "worker", "flower"}
    run.assert_nothing_left()


def test_when_time_is_up_the_table_shows_the_messages_still_moving(tmp_path):
    run = DemoRun(tmp_path, "--count", "100", "--rate", "10", "--timeout", "1", "--no-flower")
    assert run.finish() == 0, run.stderr
    counts = status_counts(run.stdout)
    assert re.search(r"\(stopped waiting: \d+ not final\)", run.stdout)
    assert sum(counts.values()) == 100 and counts["queued"] > 0
    assert "rate limit 10/s" in run.stdout
    run.assert_nothing_left()


@pytest.mark.parametrize(
    ("signal_number", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_ctrl_c_or_sigterm_mid_run_stops_every_process(tmp_path, signal_number, status):
    run = DemoRun(tmp_path, "--count", "300", "--no-flower")
    run.wait_for("enqueued 300 messages")
    time.sleep(0.5)
    run.popen.send_signal(signal_number)
    assert run.finish() == status
    assert set(run.started()) == {"redis", "receiver", "worker"}
    assert "outcome of" not in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    run.assert_nothing_left()


def test_a_redis_given_in_supersms_redis_url_is_used_and_not_flushed(tmp_path, redis_url, redis_client):
    redis_client.set("someone:else", "kept")
    run = DemoRun(tmp_path, "--count", "12", "--no-flower", SUPERSMS_REDIS_URL=redis_url)
    assert run.finish() == 0, run.stderr
    assert "using Redis at SUPERSMS_REDIS_URL" in run.stdout
    assert "redis" not in run.started()
    assert sum(status_counts(run.stdout).values()) == 12
    assert redis_client.get("someone:else") == "kept"
    assert len(list(redis_client.scan_iter(match="supersms:msg:*"))) == 12
    run.assert_nothing_left()


def test_a_redis_that_workers_already_consume_is_refused_before_anything_is_sent(tmp_path, redis_url):
    env = {"SUPERSMS_REDIS_URL": redis_url, "SUPERSMS_FROM": SENDER, **ACCOUNT}
    worker = start_worker("someone", env=env, tmp_path=tmp_path, concurrency=1)
    try:
        run = DemoRun(tmp_path, "--count", "5", "--no-flower", SUPERSMS_REDIS_URL=redis_url)
        assert run.finish() == 1
    finally:
        worker.stop()
    [line] = run.stderr.splitlines()
    assert line.startswith("supersms demo: 1 worker(s) already use SUPERSMS_REDIS_URL")
    assert_nothing_enqueued(connect(redis_url))
    run.assert_nothing_left()


def test_an_unreachable_redis_url_ends_the_demo_with_one_line_and_status_1(tmp_path, unreachable_redis_url):
    run = DemoRun(tmp_path, "--count", "5", "--no-flower", SUPERSMS_REDIS_URL=unreachable_redis_url)
    assert run.finish() == 1
    assert run.stderr.splitlines() == [
        f"supersms demo: cannot reach Redis at SUPERSMS_REDIS_URL={unreachable_redis_url}"
    ]


def test_a_malformed_redis_url_exits_2_naming_the_variable_before_anything_starts(tmp_path):
    run = DemoRun(tmp_path, "--count", "5", "--no-flower", SUPERSMS_REDIS_URL="localhost:6379")
    assert run.finish() == 2
    assert run.stderr.splitlines() == [
        "supersms demo: SUPERSMS_REDIS_URL: must be a redis://, rediss:// or unix:// URL, got 'localhost:6379'"
    ]
    assert run.stdout == ""


@pytest.mark.parametrize("count", ["0", str(MAX_COUNT + 1), "many"])
def test_a_count_outside_1_to_the_maximum_exits_2_naming_the_option(tmp_path, count):
    run = DemoRun(tmp_path, "--count", count)
    assert run.finish() == 2
    [line] = run.stderr.splitlines()
    assert line.startswith("supersms demo: --count: must be an integer 1-10000")
