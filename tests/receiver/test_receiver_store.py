"""The reports stream: the dedup script adds a report once, and refused GETs go to a capped stream."""

from __future__ import annotations

import redis

from supersms.receiver.delivery import Delivery
from supersms.receiver.store import RECEIVED_TTL_S, ReportStore
from supersms.workers import keys
from tests.receiver.wsgi_client import GOOD_QUERY

DELIVERY = Delivery(query=GOOD_QUERY, received_ms=1_700_000_000_000, source="211.233.70.235")
DEDUP_KEY = DELIVERY.report().dedup_key()


def test_a_report_is_added_with_its_three_fields_and_a_marker_that_lasts_a_week(
    report_store: ReportStore, redis_client: redis.Redis
) -> None:
    store = report_store

    assert store.append(DELIVERY, DEDUP_KEY) is True

    [(entry_id, fields)] = redis_client.xrange(keys.REPORTS)
    assert fields == {"query": GOOD_QUERY, "received_ms": "1700000000000", "source": "211.233.70.235"}
    marker = keys.report_received(DEDUP_KEY)
    assert redis_client.get(marker) == entry_id
    assert RECEIVED_TTL_S - 5 <= redis_client.ttl(marker) <= RECEIVED_TTL_S == 7 * 86400


def test_the_same_report_is_not_added_again(report_store: ReportStore, redis_client: redis.Redis) -> None:
    store = report_store
    later = Delivery(query=DELIVERY.query, received_ms=DELIVERY.received_ms + 60_000, source="211.233.70.236")

    assert store.append(DELIVERY, DEDUP_KEY) is True
    assert store.append(later, DEDUP_KEY) is False
    assert store.append_many([(DELIVERY, DEDUP_KEY), (later, DEDUP_KEY)]) == 0
    assert redis_client.xlen(keys.REPORTS) == 1


def test_a_batch_is_added_in_order_and_counts_only_new_reports(
    report_store: ReportStore, redis_client: redis.Redis
) -> None:
    store = report_store
    batch = [(Delivery(query=f"q{n}", received_ms=n, source="127.0.0.1"), f"key{n % 3}") for n in range(6)]

    assert store.append_many(batch) == 3

    assert [fields["query"] for _, fields in redis_client.xrange(keys.REPORTS)] == ["q0", "q1", "q2"]


def test_the_reports_stream_is_never_trimmed_by_the_receiver(
    report_store: ReportStore, redis_client: redis.Redis
) -> None:
    store = report_store
    batch = [(Delivery(query=f"q{n}", received_ms=n, source="127.0.0.1"), f"key{n}") for n in range(1500)]

    store.append_many(batch)

    assert redis_client.xlen(keys.REPORTS) == 1500


def test_the_malformed_stream_is_capped_near_its_length(
    report_store: ReportStore, redis_client: redis.Redis, monkeypatch
) -> None:
    monkeypatch.setattr("supersms.receiver.store.MALFORMED_MAXLEN", 10)
    store = report_store

    for n in range(400):
        store.keep_malformed(
            Delivery(query=f"bad{n}", received_ms=n, source="127.0.0.1"), "msgid: is required"
        )

    # MAXLEN ~ trims whole stream nodes (100 entries each by default): near the cap, never unbounded
    assert 10 <= redis_client.xlen(keys.REPORTS_MALFORMED) <= 10 + 100
    [(_, newest)] = redis_client.xrevrange(keys.REPORTS_MALFORMED, count=1)
    assert newest["query"] == "bad399"


def test_a_malformed_query_is_kept_only_up_to_a_bound(
    report_store: ReportStore, redis_client: redis.Redis
) -> None:
    from supersms.receiver.store import MALFORMED_QUERY_MAX_CHARS

    store = report_store
    store.keep_malformed(
        Delivery(query="x" * (MALFORMED_QUERY_MAX_CHARS + 1), received_ms=0, source="::1"), "r"
    )

    [(_, kept)] = redis_client.xrange(keys.REPORTS_MALFORMED)
    assert len(kept["query"]) == MALFORMED_QUERY_MAX_CHARS
