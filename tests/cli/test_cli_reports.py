"""``supersms reports dead|malformed|pending``: the reports that did not go the normal way, as JSON lines."""

from __future__ import annotations

import json
import time

import pytest

from supersms.receiver.delivery import Delivery
from supersms.receiver.store import ReportStore
from supersms.workers import keys
from supersms.workers.correlation import Correlator
from supersms.workers.redis_io import connect
from tests.cli.helpers import Finished

QUERY = (
    "msgid={msgid}&to=1093446280&to_country=82&err_code=1000&network=45008&rescnt=1&sent_date=20150322140641"
)


@pytest.fixture
def client(redis_url):
    client = connect(redis_url)
    yield client
    client.close()


def correlator(client, *, horizon_s: float = 3600.0) -> Correlator:
    return Correlator(redis_client=client, consumer="c1", record_ttl_s=3600, horizon_s=horizon_s)


def stream_report(client, msgid: str, *, received_ms: float) -> None:
    """A report as the receiver leaves it in the stream."""
    fields = {"query": QUERY.format(msgid=msgid), "received_ms": str(int(received_ms)), "source": "127.0.0.1"}
    client.xadd(keys.REPORTS, fields)


def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_dead_prints_each_dead_letter_oldest_first_and_count_keeps_the_newest(supersms, client):
    an_hour_ago_ms = (time.time() - 3600) * 1000
    for msgid in ("00000001", "00000002", "00000003"):
        stream_report(client, msgid, received_ms=an_hour_ago_ms)
    assert correlator(client, horizon_s=60).run(budget_s=5).outcomes == {"dead": 3}

    every = supersms("reports", "dead")
    newest = supersms("reports", "dead", "--count", "1")

    assert (every.returncode, every.stderr) == (0, "")
    rows = json_lines(every.stdout)
    assert [row["query"].split("&")[0] for row in rows] == [
        "msgid=00000001",
        "msgid=00000002",
        "msgid=00000003",
    ]
    assert {row["reason"] for row in rows} == {"no matching message within the horizon"}
    assert all(row["entry"] and row["source"] == "127.0.0.1" for row in rows)
    assert json_lines(newest.stdout) == rows[-1:]


def test_malformed_prints_the_refused_query_and_the_rule_it_broke(supersms, client):
    ReportStore(redis=client).keep_malformed(
        Delivery("msgid=&to=1", 1_700_000_000_000, "10.1.2.3"), "msgid: required"
    )

    result = supersms("reports", "malformed")

    assert result.returncode == 0
    [row] = json_lines(result.stdout)
    assert (row["query"], row["rule"], row["source"]) == ("msgid=&to=1", "msgid: required", "10.1.2.3")


def test_pending_shows_who_holds_each_report_and_count_keeps_the_longest_waiting(supersms, client):
    for msgid in ("00000008", "00000009"):
        stream_report(client, msgid, received_ms=time.time() * 1000)
    correlator(client).ensure_group()
    # read by a consumer and never acknowledged, as when a correlation worker dies holding them
    client.xreadgroup(keys.REPORTS_GROUP, "worker-7", {keys.REPORTS: ">"}, count=10)

    every = supersms("reports", "pending")
    longest = supersms("reports", "pending", "--count", "1")

    assert every.returncode == 0
    rows = json_lines(every.stdout)
    assert [row["query"][:14] for row in rows] == ["msgid=00000008", "msgid=00000009"]
    assert all((row["consumer"], row["deliveries"]) == ("worker-7", 1) for row in rows)
    assert all(row["idle_ms"] >= 0 and row["entry"] for row in rows)
    assert [row["entry"] for row in json_lines(longest.stdout)] == [rows[0]["entry"]]


@pytest.mark.parametrize("kind", ["dead", "malformed", "pending"])
def test_nothing_to_show_prints_nothing_and_exits_0(supersms, kind):
    assert supersms("reports", kind) == Finished(0, "", "")


def test_without_a_kind_exits_2_naming_the_kinds(supersms):
    result = supersms("reports")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.only_error_line() == "supersms reports: kind: required (one of: dead, malformed, pending)"
