"""Where a report is made durable: Redis first; after Redis fails, the spool for a while, then Redis again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from supersms.embedded import EmbeddedRedis
from supersms.errors import StoreUnavailable
from supersms.receiver.delivery import Delivery
from supersms.receiver.sink import Destination, DurableSink
from supersms.receiver.spool import SpoolWriter
from supersms.receiver.store import ReportStore
from supersms.workers.redis_io import connect
from tests.receiver.wsgi_client import GOOD_QUERY

DELIVERY = Delivery(query=GOOD_QUERY, received_ms=1, source="211.233.70.235")
KEY = DELIVERY.report().dedup_key()


class Clock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def store(own_redis: EmbeddedRedis) -> Iterator[ReportStore]:
    client = connect(own_redis.url)
    yield ReportStore(redis=client)
    client.close()


def test_after_redis_fails_reports_go_to_the_spool_until_the_retry_time_then_to_redis_again(
    store: ReportStore, own_redis: EmbeddedRedis, spool_dir: Path
) -> None:
    clock, woken = Clock(), []
    spool = SpoolWriter(directory=spool_dir)
    sink = DurableSink(
        store=store, spool=spool, redis_retry_s=2.0, on_redis_back=lambda: woken.append(1), clock=clock
    )
    own_redis.stop()

    assert sink.put(DELIVERY, KEY) is Destination.SPOOL
    own_redis.start()
    clock.now_s += 1.999
    assert sink.put(DELIVERY, KEY) is Destination.SPOOL  # Redis not even tried yet
    clock.now_s += 0.001
    assert sink.put(DELIVERY, KEY) is Destination.REDIS
    assert sink.put(DELIVERY, KEY) is Destination.REDIS
    assert woken == [1]  # the replayer is nudged once, when Redis answers again
    spool.rotate()


def test_neither_redis_nor_the_spool_is_store_unavailable(
    store: ReportStore, own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    sink = DurableSink(store=store, spool=SpoolWriter(directory=tmp_path / "a-file" / "spool"))
    own_redis.stop()

    with pytest.raises(StoreUnavailable, match="neither Redis nor the spool"):
        sink.put(DELIVERY, KEY)
    assert sink.can_store() is False
