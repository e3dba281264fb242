"""Metrics: workers add to counters in the real Redis; ``/metrics`` serves them, over a real socket."""

from __future__ import annotations

import json
import logging
import math
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
import requests
from prometheus_client.parser import text_string_to_metric_families
from redis.backoff import NoBackoff
from redis.retry import Retry

from supersms.cli.metrics import build_server
from supersms.embedded import EmbeddedRedis, free_port
from supersms.settings import Settings
from supersms.workers import keys
from supersms.workers.metrics import (
    PROVIDER_LATENCY,
    RATE_WAIT,
    REPORT_LAG,
    MetricsRecorder,
    bucket_field,
    reply_field,
)
from supersms.workers.pause import AccountPause
from supersms.workers.redis_io import connect
from tests.support.processes import wait_until
from tests.support.worker_runtime import KOREAN, queue_message


def unreachable_redis() -> redis.Redis:
    """A client of a loopback port nothing listens on, failing at once instead of retrying."""
    return redis.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))


def settings_for(redis_url: str, *, broker_url: str | None = None, **overrides: object) -> Settings:
    return Settings(redis_url=redis_url, broker_url=broker_url or redis_url, **overrides)  # type: ignore[arg-type]


class Scraper:
    """``supersms metrics``' server on a free loopback port, in a thread; :meth:`scrape` parses a GET."""

    def __init__(self, settings: Settings) -> None:
        self.server = build_server(settings, host="127.0.0.1", port=0)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def get(self, path: str = "/metrics") -> requests.Response:
        return requests.get(self.url + path, timeout=30)

    def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample as ``{(name, sorted labels): value}``."""
        response = self.get()
        assert response.status_code == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def scraper(redis_url):
    running = Scraper(settings_for(redis_url))
    yield running
    running.stop()


@pytest.fixture
def recorder(redis_url):
    return MetricsRecorder(redis_client=connect(redis_url))


def sample(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


# -- recording -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("histogram", "value_s", "field"),
    [
        (PROVIDER_LATENCY, 0.0, "le:0.05"),
        (PROVIDER_LATENCY, 0.05, "le:0.05"),
        (PROVIDER_LATENCY, 0.050001, "le:0.1"),
        (PROVIDER_LATENCY, 30.0, "le:30.0"),
        (PROVIDER_LATENCY, 30.000001, "le:+Inf"),
        (RATE_WAIT, 1.0, "le:1.0"),
        (RATE_WAIT, 1.000001, "le:2.5"),
        (REPORT_LAG, 3600.0, "le:3600.0"),
        (REPORT_LAG, 3600.001, "le:+Inf"),
    ],
)
def test_a_value_falls_in_the_first_bucket_whose_bound_is_not_below_it(histogram, value_s, field):
    assert histogram.bucket_field(value_s) == field


@pytest.mark.parametrize(
    ("err_code", "outcome", "field"),
    [
        ("R000", "accepted", '["R000", "accepted"]'),
        (None, "unreachable", '["none", "unreachable"]'),
        ("12345678", "refused", '["12345678", "refused"]'),
        ("123456789", "refused", '["other", "refused"]'),
        ('R0"0', "refused", '["other", "refused"]'),
        ("", "refused", '["other", "refused"]'),
    ],
)
def test_reply_codes_are_kept_as_sent_unless_they_could_swell_the_labels(err_code, outcome, field):
    assert reply_field(err_code, outcome) == field


def test_recording_with_redis_down_does_not_raise_and_logs_at_debug(caplog):
    recorder = MetricsRecorder(redis_client=unreachable_redis())
    with caplog.at_level(logging.DEBUG, logger="supersms.workers.metrics"):
        recorder.transition("submitted")
        recorder.provider_call("accepted", "R000", 0.2)
        recorder.rate_wait(0.1, given_back=True)
        recorder.reports_handled({"delivered": 1}, [120.0])
        recorder.flush()
    dropped = [r for r in caplog.records if r.name == "supersms.workers.metrics"]
    assert len(dropped) == 1, "one flush, one line"
    assert all(r.levelno == logging.DEBUG and "not recorded" in r.getMessage() for r in dropped)


def test_a_disabled_recorder_records_nothing(redis_client):
    recorder = MetricsRecorder(redis_client=None)
    recorder.transition("submitted")
    recorder.flush()
    assert not redis_client.keys("supersms:metrics:*")


def test_counts_reach_redis_by_themselves_within_the_flush_interval(redis_url, redis_client):
    recorder = MetricsRecorder(redis_client=connect(redis_url), flush_interval_s=0.05)
    recorder.transition("submitted", 2)
    recorder.transition("submitted")
    assert redis_client.hget(keys.METRICS_MESSAGES, "submitted") is None, "nothing is written per event"
    wait_until(
        lambda: redis_client.hget(keys.METRICS_MESSAGES, "submitted") == "3", timeout_s=5, what="a flush"
    )
    recorder.transition("queued")
    wait_until(
        lambda: redis_client.hget(keys.METRICS_MESSAGES, "queued") == "1", timeout_s=5, what="a 2nd flush"
    )


def test_histograms_store_one_field_per_bucket_and_the_sum(recorder, redis_client):
    recorder.provider_call("accepted", "R000", 0.05)
    recorder.provider_call("accepted", "R000", 0.07)
    recorder.provider_call("busy", "R001", 45.0)
    recorder.flush()
    stored = redis_client.hgetall(keys.METRICS_PROVIDER_LATENCY)
    assert {name: int(value) for name, value in stored.items() if name != "sum"} == {
        bucket_field(0.05): 1,
        bucket_field(0.1): 1,
        bucket_field(math.inf): 1,
    }
    assert float(stored["sum"]) == pytest.approx(45.12)


# -- exposition ------------------------------------------------------------------------------------------


def test_metrics_answer_in_the_text_format_0_0_4_and_other_paths_are_404(scraper):
    response = scraper.get()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert scraper.get("/").status_code == 404
    assert scraper.get("/metrics/x").status_code == 404


def test_every_status_is_shown_from_zero_and_counts_its_transitions(scraper, recorder):
    recorder.transition("queued", 3)
    recorder.transition("submitted")
    recorder.transition("submitted")
    recorder.flush()
    samples = scraper.scrape()
    assert sample(samples, "supersms_messages_total", status="queued") == 3
    assert sample(samples, "supersms_messages_total", status="submitted") == 2
    for status in ("retrying", "delivered", "undelivered", "rejected", "failed"):
        assert sample(samples, "supersms_messages_total", status=status) == 0
    assert sample(samples, "supersms_store_up") == 1


def test_provider_replies_are_counted_by_err_code_and_outcome_with_their_latency(scraper, recorder):
    recorder.provider_call("accepted", "R000", 0.04)
    recorder.provider_call("accepted", "R000", 0.3)
    recorder.provider_call("busy", "R001", 0.05)
    recorder.provider_call("unreachable", None, 3.0)
    recorder.flush()
    samples = scraper.scrape()
    replies = "supersms_provider_replies_total"
    assert sample(samples, replies, err_code="R000", outcome="accepted") == 2
    assert sample(samples, replies, err_code="R001", outcome="busy") == 1
    assert sample(samples, replies, err_code="none", outcome="unreachable") == 1
    latency = "supersms_provider_latency_seconds"
    assert sample(samples, f"{latency}_bucket", le="0.05") == 2
    assert sample(samples, f"{latency}_bucket", le="0.1") == 2
    assert sample(samples, f"{latency}_bucket", le="0.5") == 3
    assert sample(samples, f"{latency}_bucket", le="5.0") == 4
    assert sample(samples, f"{latency}_bucket", le="+Inf") == 4
    assert sample(samples, f"{latency}_count") == 4
    assert sample(samples, f"{latency}_sum") == pytest.approx(3.39)


def test_rate_limiter_waits_and_slots_given_back_are_shown(scraper, recorder):
    recorder.rate_wait(0.002, given_back=False)
    recorder.rate_wait(0.3, given_back=False)
    recorder.rate_wait(1.0, given_back=True)
    recorder.flush()
    samples = scraper.scrape()
    assert sample(samples, "supersms_rate_wait_seconds_bucket", le="0.005") == 1
    assert sample(samples, "supersms_rate_wait_seconds_bucket", le="0.5") == 2
    assert sample(samples, "supersms_rate_wait_seconds_count") == 3
    assert sample(samples, "supersms_rate_slots_given_back_total") == 1


def test_reports_count_by_outcome_and_final_ones_as_transitions_with_their_lag(scraper, recorder):
    recorder.reports_handled({"delivered": 2, "undelivered": 1, "duplicate": 1, "missing": 5}, [400, 90_000])
    recorder.flush()
    samples = scraper.scrape()
    assert sample(samples, "supersms_reports_total", outcome="delivered") == 2
    assert sample(samples, "supersms_reports_total", outcome="duplicate") == 1
    assert sample(samples, "supersms_reports_total", outcome="dead") == 0
    assert ("supersms_reports_total", (("outcome", "missing"),)) not in samples
    assert sample(samples, "supersms_messages_total", status="delivered") == 2
    assert sample(samples, "supersms_messages_total", status="undelivered") == 1
    assert sample(samples, "supersms_report_lag_seconds_bucket", le="0.5") == 1
    assert sample(samples, "supersms_report_lag_seconds_bucket", le="60.0") == 1
    assert sample(samples, "supersms_report_lag_seconds_bucket", le="300.0") == 2
    assert sample(samples, "supersms_report_lag_seconds_sum") == pytest.approx(90.4)


def test_the_pause_shows_with_its_code_while_it_holds(scraper, redis_client):
    samples = scraper.scrape()
    assert sample(samples, "supersms_pause_active", code="") == 0
    assert sample(samples, "supersms_pause_remaining_seconds") == 0
    AccountPause(redis=redis_client, cooldown_s=30).open("R013", "quota")
    samples = scraper.scrape()
    assert sample(samples, "supersms_pause_active", code="R013") == 1
    assert 29 < sample(samples, "supersms_pause_remaining_seconds") <= 30


def test_the_report_stream_shows_its_length_parked_backlog_and_dead_letters(scraper, redis_client):
    for n in range(3):
        redis_client.xadd(keys.REPORTS, {"query": f"msgid={n}", "received_ms": "0"})
    redis_client.xadd(keys.REPORTS_DEAD, {"query": "msgid=9", "reason": "no match"})
    samples = scraper.scrape()
    assert sample(samples, "supersms_reports_parked") == 0  # no consumer group yet
    redis_client.xgroup_create(keys.REPORTS, keys.REPORTS_GROUP, id="0")
    redis_client.xreadgroup(keys.REPORTS_GROUP, "c1", {keys.REPORTS: ">"}, count=1)
    samples = scraper.scrape()
    assert sample(samples, "supersms_reports_stream_length") == 3
    assert sample(samples, "supersms_reports_parked") == 1
    assert sample(samples, "supersms_reports_backlog") == 2
    assert sample(samples, "supersms_reports_dead") == 1


def test_a_pending_entry_deleted_from_the_stream_never_makes_the_backlog_negative(scraper, redis_client):
    """XDEL leaves a pending entry behind (until it is acknowledged): parked can exceed the stream's length."""
    entry_id = redis_client.xadd(keys.REPORTS, {"query": "msgid=1", "received_ms": "0"})
    redis_client.xgroup_create(keys.REPORTS, keys.REPORTS_GROUP, id="0")
    redis_client.xreadgroup(keys.REPORTS_GROUP, "c1", {keys.REPORTS: ">"})
    redis_client.xdel(keys.REPORTS, entry_id)
    samples = scraper.scrape()
    assert (
        sample(samples, "supersms_reports_stream_length"),
        sample(samples, "supersms_reports_parked"),
    ) == (0, 1)
    assert sample(samples, "supersms_reports_backlog") == 0


def test_messages_in_flight_are_the_claims_held(scraper, redis_client):
    redis_client.zadd(keys.INFLIGHT, {"m1": 1, "m2": 2})
    assert sample(scraper.scrape(), "supersms_messages_in_flight") == 2


def test_queue_lengths_add_up_every_priority_list_and_unacked_tasks_show(scraper, redis_client):
    redis_client.lpush("sms.send", "a", "b")
    redis_client.lpush("sms.send\x06\x166", "c")
    redis_client.lpush("sms.reports", "d")
    redis_client.hset("unacked", mapping={"tag1": "x", "tag2": "y"})
    samples = scraper.scrape()
    assert sample(samples, "supersms_queue_length", queue="sms.send") == 3
    assert sample(samples, "supersms_queue_length", queue="sms.reports") == 1
    assert sample(samples, "supersms_broker_unacked_tasks") == 2
    assert sample(samples, "supersms_broker_up") == 1


def test_a_broker_that_is_not_redis_has_no_queue_metrics(redis_url):
    running = Scraper(settings_for(redis_url, broker_url="amqp://guest@127.0.0.1:5672//"))
    try:
        names = {name for name, _ in running.scrape()}
    finally:
        running.stop()
    assert "supersms_store_up" in names
    assert not {"supersms_queue_length", "supersms_broker_up", "supersms_broker_unacked_tasks"} & names


def test_an_unreachable_store_answers_200_with_store_up_0():
    url = f"redis://127.0.0.1:{free_port()}/0"
    running = Scraper(settings_for(url, broker_url="amqp://guest@127.0.0.1:5672//"))
    try:
        samples = running.scrape()
    finally:
        running.stop()
    assert samples == {("supersms_store_up", ()): 0}


def test_a_store_that_hangs_answers_with_store_and_broker_up_0(tmp_path):
    with EmbeddedRedis(directory=str(tmp_path)) as hung:
        assert hung.process is not None
        running = Scraper(settings_for(hung.url, broker_url=hung.url))
        hung.process.send_signal(signal.SIGSTOP)  # its sockets stay open; it answers nothing
        try:
            samples = running.scrape()
        finally:
            hung.process.send_signal(signal.SIGCONT)
            running.stop()
    assert samples == {("supersms_store_up", ()): 0, ("supersms_broker_up", ()): 0}


# -- the hooks in a worker's sender and correlation task --------------------------------------------------


def test_a_worker_attempt_records_its_wait_reply_latency_and_status(worker_runtime, scraper):
    queue_message(worker_runtime, "m1")
    assert worker_runtime.sender.attempt("m1").done
    worker_runtime.metrics.flush()
    samples = scraper.scrape()
    assert sample(samples, "supersms_messages_total", status="submitted") == 1
    assert sample(samples, "supersms_provider_replies_total", err_code="R000", outcome="accepted") == 1
    assert sample(samples, "supersms_provider_latency_seconds_count") == 1
    assert sample(samples, "supersms_rate_wait_seconds_count") == 1
    assert sample(samples, "supersms_rate_slots_given_back_total") == 0


def test_a_refused_attempt_records_the_code_and_the_rejection(worker_runtime, sandbox, scraper):
    sandbox.set_faults(code_for_to={KOREAN: "R003"})
    queue_message(worker_runtime, "m1")
    worker_runtime.sender.attempt("m1")
    worker_runtime.metrics.flush()
    samples = scraper.scrape()
    assert sample(samples, "supersms_messages_total", status="rejected") == 1
    assert sample(samples, "supersms_messages_total", status="submitted") == 0
    assert sample(samples, "supersms_provider_replies_total", err_code="R003", outcome="refused") == 1


def test_a_correlation_run_records_reports_and_their_lag(
    worker_runtime, redis_url, redis_client, scraper, monkeypatch
):
    from supersms.tasks import correlate as correlate_module
    from supersms.tasks.app import settings

    # Should the Celery app configure itself here, it takes the private Redis, as the rest of the session does.
    monkeypatch.setenv("SUPERSMS_REDIS_URL", redis_url)
    settings.cache_clear()

    queue_message(worker_runtime, "m1")
    worker_runtime.sender.attempt("m1")
    msgid = redis_client.hget(keys.message("m1"), "msgid")
    query = f"msgid={msgid}&to={KOREAN}&to_country=82&err_code=1000&network=45008&rescnt=1&ref=m1"
    redis_client.xadd(keys.REPORTS, {"query": query, "received_ms": str(time.time() * 1000 - 2000)})
    monkeypatch.setattr(correlate_module, "current_runtime", lambda: worker_runtime)
    assert correlate_module.correlate.run() == {"delivered": 1}
    settings.cache_clear()
    worker_runtime.metrics.flush()
    samples = scraper.scrape()
    assert sample(samples, "supersms_reports_total", outcome="delivered") == 1
    assert sample(samples, "supersms_messages_total", status="delivered") == 1
    assert sample(samples, "supersms_report_lag_seconds_bucket", le="1.0") == 0
    assert sample(samples, "supersms_report_lag_seconds_bucket", le="5.0") == 1


# -- the command ------------------------------------------------------------------------------------------

COMMAND = (
    "import sys; from supersms.cli import main as m; "
    "m.COMMANDS.setdefault('metrics', ('supersms.cli.metrics', '')); sys.exit(m.main(['metrics', *sys.argv[1:]]))"
)


def test_the_command_serves_metrics_until_it_is_stopped(redis_url, tmp_path):
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "SUPERSMS_REDIS_URL": redis_url}
    with open(tmp_path / "metrics.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", COMMAND, "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def answers() -> bool:
            assert process.poll() is None, (tmp_path / "metrics.log").read_text()
            try:
                return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(answers, timeout_s=20, what="supersms metrics to answer")
        body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "supersms_store_up 1.0" in body
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert f"serving metrics on http://127.0.0.1:{port}/metrics" in (tmp_path / "metrics.log").read_text()


def test_the_command_refuses_a_port_in_use_with_one_line_and_exit_2(redis_url, scraper):
    port = scraper.server.server_port
    env = {"PATH": "/usr/bin:/bin", "SUPERSMS_REDIS_URL": redis_url}
    finished = subprocess.run(
        [sys.executable, "-c", COMMAND, "--port", str(port)],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert finished.returncode == 2
    assert finished.stderr.decode().strip() == f"supersms metrics: --port: 127.0.0.1:{port} is already in use"


# -- the Grafana dashboard --------------------------------------------------------------------------------

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana-dashboard.json"


def test_the_grafana_dashboard_asks_only_for_metrics_that_are_served(scraper, recorder):
    recorder.provider_call("accepted", "R000", 0.1)
    recorder.flush()
    served = {name for name, _ in scraper.scrape()}
    panels = json.loads(DASHBOARD.read_text())["panels"]
    exprs = [target["expr"] for panel in panels for target in panel.get("targets", [])]
    asked = {name for expr in exprs for name in re.findall(r"\bsupersms_[a-z_]+", expr)}
    assert asked
    assert asked <= served


def test_a_short_lived_producer_writes_its_counts_at_exit(redis_url, redis_client):
    script = (
        "from supersms.workers.metrics import MetricsRecorder\n"
        "from supersms.workers.redis_io import connect\n"
        f"MetricsRecorder(redis_client=connect({redis_url!r}), flush_interval_s=60).transition('queued', 7)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    assert redis_client.hget(keys.METRICS_MESSAGES, "queued") == "7"
