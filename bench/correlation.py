"""4. Correlation: reports applied per second by one worker process, and the report lag at a steady rate.

Throughput: the report stream is filled first (entries as the receiver writes them) for messages recorded
``submitted``; then one ``supersms worker -Q sms.reports`` process is started and woken once, and the stream
is watched until every entry is handled (handled entries are deleted). The baseline applies the same
entries from this process with the bare minimum: one ``XREADGROUP`` per 200 entries, then one pipeline of
an ``HSET`` per report (found by its ``ref``) and the ``XACK`` + ``XDEL``; no de-duplication, no status
guard, no msgid lookup, no events.

Lag: the receiver (gunicorn) and one worker process run; reports are sent as GETs at a steady rate, and a
report's lag is the time from its GET leaving to the ``reported_at`` its record shows.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs

import requests

from bench.common import LOOPBACK, Lab, start_workers
from bench.load import Sent, paced
from bench.measure import Window, load_average, percentile, steady_window
from bench.messages import campaign
from bench.procs import BenchError, Processes, python
from bench.progress import command_calls, drain, drain_timeout_s
from bench.table import Figure, Result, Target, render
from supersms.embedded import free_port
from supersms.protocol.reports import KST, Report
from supersms.receiver.delivery import Delivery
from supersms.receiver.store import ReportStore
from supersms.workers import keys
from supersms.workers.celery_config import REPORTS_QUEUE
from supersms.workers.intake import queued_record
from supersms.workers.records import MessageStore, now_iso

LAG_RATE_PER_S = 200
UNDER_250_MS = Target("p99 < 250 ms", max_value=250)
BARE_GROUP = "bench-bare"
READ_BATCH = 200
FILL_BATCH = 1000


def run(lab: Lab) -> Result:
    count, lag_s = (5000, 10) if lab.quick else (20_000, 30)
    print(f"  correlation: {count} reports; lag at {LAG_RATE_PER_S}/s for {lag_s} s", flush=True)
    ours, commands = _ours_throughput(lab, count)
    bare_rate, bare_cpu = _bare_throughput(lab, count)
    lag = _lag(lab, LAG_RATE_PER_S * lag_s)
    lab.flush()
    return _result(count, ours, commands, bare_rate, bare_cpu, lag)


def prepare(lab: Lab, count: int) -> list[Report]:
    """``count`` messages recorded ``submitted`` (with their msgid index), and a final report for each."""
    from supersms.tasks.app import settings
    from supersms.tasks.producer import validate_all

    ttl_s = settings().record_ttl_s
    store = MessageStore(redis_client=lab.client, record_ttl_s=ttl_s)
    now = datetime.now(UTC)
    accepted = validate_all(campaign(count))
    reports = [
        Report(
            f"{70_000_000 + n}", message.to, message.to_country, "1000", "45008", 1, now.astimezone(KST), mid
        )
        for n, (mid, message) in enumerate(accepted)
    ]
    submitted = {"status": "submitted", "attempts": "1", "err_code": "R000", "submitted_at": now_iso()}
    store.create_many(
        {**queued_record(mid, message, default_ttl_s=ttl_s, now=now), **submitted, "msgid": report.msgid}
        for (mid, message), report in zip(accepted, reports, strict=True)
    )
    with lab.client.pipeline(transaction=False) as pipe:
        for report in reports:
            pipe.set(keys.msgid(report.msgid), str(report.ref), ex=ttl_s)
        pipe.execute()
    return reports


def _fill_stream(lab: Lab, reports: list[Report]) -> None:
    """The stream entries the receiver would have written for these reports."""
    store = ReportStore(redis=lab.client)
    for start in range(0, len(reports), FILL_BATCH):
        batch = reports[start : start + FILL_BATCH]
        store.append_many(
            [(Delivery.now(report.to_query(), LOOPBACK), report.dedup_key()) for report in batch]
        )


def _ours_throughput(lab: Lab, count: int) -> tuple[Window, dict[str, float]]:
    """The steady window of one worker applying ``count`` reports, and its Redis commands per report."""
    lab.flush()
    _fill_stream(lab, prepare(lab, count))
    with Processes(lab) as procs:
        workers = start_workers(procs, 1, concurrency=4, queues=REPORTS_QUEUE)
        from supersms.tasks.correlate import trigger_correlation

        lab.client.config_resetstat()
        trigger_correlation(lab.client)
        samples = drain(
            workers,
            total=count,
            done=lambda: count - int(lab.client.xlen(keys.REPORTS)),
            timeout_s=drain_timeout_s(count),
            watched=(lab.redis_process,),
        )
        calls = command_calls(lab.client)
    _check_delivered(lab, count)
    return steady_window(samples, count), {name: n / count for name, n in calls.items()}


def _bare_throughput(lab: Lab, count: int) -> tuple[float, float]:
    """Reports per second and CPU seconds per report of the bare consumer, run in this process."""
    lab.flush()
    _fill_stream(lab, prepare(lab, count))
    lab.client.xgroup_create(keys.REPORTS, BARE_GROUP, id="0")
    started, cpu = time.perf_counter(), time.process_time()
    handled = 0
    while handled < count:
        handled += _bare_batch(lab)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    _check_delivered(lab, count)
    return count / elapsed, cpu / count


def _bare_batch(lab: Lab) -> int:
    reply = lab.client.xreadgroup(BARE_GROUP, "bare", {keys.REPORTS: ">"}, count=READ_BATCH, block=1000)
    entries = [entry for _, stream_entries in reply or [] for entry in stream_entries]
    if not entries:
        raise BenchError("the bare consumer found the stream empty before it was done")
    now = now_iso()
    with lab.client.pipeline(transaction=False) as pipe:
        for _, entry_fields in entries:
            query = {name: values[0] for name, values in parse_qs(entry_fields["query"]).items()}
            report = json.dumps({"err_code": query["err_code"], "network": query["network"]})
            mapping = {"status": "delivered", "report": report, "updated_at": now, "reported_at": now}
            pipe.hset(keys.message(query["ref"]), mapping=mapping)
        ids = [entry_id for entry_id, _ in entries]
        pipe.xack(keys.REPORTS, BARE_GROUP, *ids)
        pipe.xdel(keys.REPORTS, *ids)
        pipe.execute()
    return len(entries)


def _check_delivered(lab: Lab, count: int) -> None:
    delivered = 0
    cursor = 0
    while True:
        cursor, found = lab.client.scan(cursor, match="supersms:msg:*", count=5000)
        with lab.client.pipeline(transaction=False) as pipe:
            for key in found:
                pipe.hget(key, "status")
            delivered += sum(status == "delivered" for status in pipe.execute())
        if cursor == 0:
            break
    if delivered != count:
        raise BenchError(f"{delivered} of {count} messages delivered after their reports were applied")


@dataclass(frozen=True)
class Lag:
    """The lag run: reports sent, the GETs' answers, and each report's lag (GET sent → record updated)."""

    sent: list[Sent]
    lags_ms: list[float]

    @property
    def rate_per_s(self) -> float:
        times = [entry.sent_at_s for entry in self.sent]
        return (len(times) - 1) / (max(times) - min(times))


def _lag(lab: Lab, count: int) -> Lag:
    lab.flush()
    reports = prepare(lab, count)
    port = free_port()
    with Processes(lab) as procs:
        receiver = procs.start(
            "receiver", python("supersms", "receiver", "--host", LOOPBACK, "--port", str(port)), lab.env()
        )
        receiver.wait_ready(lambda: _answers(f"http://{LOOPBACK}:{port}/healthz"))
        start_workers(procs, 1, concurrency=4, queues=REPORTS_QUEUE)
        sent = paced(port, ["/?" + report.to_query() for report in reports], rate_per_s=LAG_RATE_PER_S)
        _wait_applied(lab, count)
    if any(entry.status != 200 for entry in sent):
        raise BenchError(f"{sum(entry.status != 200 for entry in sent)} report GETs not answered 200")
    with lab.client.pipeline(transaction=False) as pipe:
        for report in reports:
            pipe.hget(keys.message(str(report.ref)), "reported_at")
        reported = pipe.execute()
    lags = [
        (datetime.fromisoformat(at).timestamp() - entry.sent_at_s) * 1000
        for at, entry in zip(reported, sent, strict=True)
    ]
    return Lag(sent, lags)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _wait_applied(lab: Lab, count: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while int(lab.client.xlen(keys.EVENTS)) < count:
        if time.monotonic() > deadline:
            raise BenchError(
                f"{lab.client.xlen(keys.EVENTS)} of {count} reports applied after {timeout_s:g} s"
            )
        time.sleep(0.1)


def _result(
    count: int, ours: Window, commands: dict[str, float], bare_rate: float, bare_cpu_s: float, lag: Lag
) -> Result:
    figures = [
        Figure("reports applied per second, one worker process", ours.rate_per_s, "rep/s", bare_rate),
        Figure(
            "CPU per report (worker / bare consumer)", ours.cpu_per_item_s[0] * 1000, "ms", bare_cpu_s * 1000
        ),
        Figure(f"report lag p50 at {LAG_RATE_PER_S} reports/s", percentile(lag.lags_ms, 0.5), "ms"),
        Figure(
            f"report lag p99 at {LAG_RATE_PER_S} reports/s",
            percentile(lag.lags_ms, 0.99),
            "ms",
            target=UNDER_250_MS,
        ),
    ]
    answers_ms = [entry.latency_s * 1000 for entry in lag.sent]
    rows = [
        ["report lag (GET sent → record delivered)", *_quantiles(lag.lags_ms)],
        ["receiver answer (GET sent → 200 back)", *_quantiles(answers_ms)],
    ]
    details = [
        f"Throughput: {count:,} reports, rate between 10 % and 90 % of the run; "
        f"Redis CPU per report (ours) {ours.cpu_per_item_s[1] * 1e6:.0f} µs; Redis commands per report "
        f"{sum(commands.values()):.1f} (inside scripts included): {_top(commands)}.",
        f"Lag run: {len(lag.sent):,} reports at {lag.rate_per_s:.0f}/s achieved, receiver on gunicorn, "
        "one worker process (-Q sms.reports):\n" + render(("ms", "p50", "p90", "p99", "max"), rows),
        f"{load_average()} at the end.",
    ]
    return Result("4. Correlation (reports applied)", figures, details)


def _top(commands: dict[str, float]) -> str:
    ranked = sorted(commands.items(), key=lambda item: -item[1])[:10]
    return ", ".join(f"{name} {count:.2f}" for name, count in ranked)


def _quantiles(values: list[float]) -> list[str]:
    return [f"{percentile(values, q):.1f}" for q in (0.5, 0.9, 0.99)] + [f"{max(values):.1f}"]
