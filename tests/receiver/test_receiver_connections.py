"""Held connections (the receiver's one command per report): reused, kept in step, never shared."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from supersms.embedded import EmbeddedRedis
from supersms.receiver.delivery import Delivery
from supersms.receiver.store import ReportStore
from supersms.workers import keys
from supersms.workers.held_connections import HeldConnections
from supersms.workers.redis_io import connect

SLOW_SCRIPT = "local n = 0 while n < 40000000 do n = n + 1 end return 'late'"  # keeps Redis busy ~0.3 s


def delivery(n: int) -> Delivery:
    return Delivery(query=f"msgid=m{n}", received_ms=n, source="127.0.0.1")


def client_count(client: redis.Redis) -> int:
    return len(client.client_list())


@pytest.fixture
def receiver_client(redis_url: str) -> Iterator[redis.Redis]:
    client = connect(redis_url)
    yield client
    client.close()


def test_reports_stored_one_after_another_share_one_connection(
    receiver_client: redis.Redis, redis_client: redis.Redis
) -> None:
    store = ReportStore(redis=receiver_client)
    before = client_count(redis_client)

    assert all(store.append(delivery(n), f"key{n}") for n in range(20))

    assert client_count(redis_client) == before + 1
    assert redis_client.xlen(keys.REPORTS) == 20


def test_reports_stored_from_many_threads_at_once_each_go_in_once(
    receiver_client: redis.Redis, redis_client: redis.Redis
) -> None:
    store = ReportStore(redis=receiver_client)
    before = client_count(redis_client)
    added: list[bool] = []

    def deliver(thread: int) -> None:
        for n in range(50):
            added.append(store.append(delivery(n), f"key{thread % 4}:{n}"))  # two threads per report

    threads = [threading.Thread(target=deliver, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (added.count(True), added.count(False)) == (200, 200)
    assert redis_client.xlen(keys.REPORTS) == 200
    assert client_count(redis_client) <= before + 8  # at most one connection per thread storing at once


def test_a_script_no_longer_cached_in_redis_is_sent_again(
    receiver_client: redis.Redis, redis_client: redis.Redis
) -> None:
    store = ReportStore(redis=receiver_client)
    assert store.append(delivery(1), "key1")

    redis_client.script_flush()

    assert store.append(delivery(2), "key2")
    assert not store.append(delivery(2), "key2")
    assert redis_client.xlen(keys.REPORTS) == 2


def test_after_redis_restarts_the_next_report_is_stored_on_a_new_connection(own_redis: EmbeddedRedis) -> None:
    client = connect(own_redis.url)
    store = ReportStore(redis=client)
    try:
        assert store.append(delivery(1), "key1")
        own_redis.stop()
        own_redis.start()  # the held connection is dead, and the script cache empty

        assert store.append(delivery(2), "key2")
    finally:
        client.close()


def test_an_error_reply_leaves_the_connection_usable(redis_url: str, redis_client: redis.Redis) -> None:
    client = connect(redis_url)
    held = HeldConnections(client.connection_pool)
    try:
        redis_client.set("a-string", "x")
        with pytest.raises(redis.ResponseError):
            held.execute("XADD", "a-string", "*", "field", "value")

        assert held.execute("ECHO", "next") == "next"
        assert held.execute("ECHO", "after") == "after"
    finally:
        client.close()


def test_a_reply_cut_short_is_never_read_as_the_answer_to_the_next_command(redis_url: str) -> None:
    client = redis.Redis.from_url(
        redis_url, decode_responses=True, socket_timeout=0.05, retry=Retry(NoBackoff(), 0)
    )
    held = HeldConnections(client.connection_pool)
    try:
        with pytest.raises(redis.TimeoutError):
            held.execute("EVAL", SLOW_SCRIPT, 0)

        patient = redis.Redis.from_url(redis_url, decode_responses=True)
        try:
            assert patient.ping()  # waits until the slow script is done
        finally:
            patient.close()
        assert held.execute("ECHO", "fresh") == "fresh"  # not the slow script's late "late"
    finally:
        client.close()


def test_closing_the_client_closes_the_held_connections(
    receiver_client: redis.Redis, redis_client: redis.Redis
) -> None:
    store = ReportStore(redis=receiver_client)
    before = client_count(redis_client)
    store.append(delivery(1), "key1")

    receiver_client.close()

    assert client_count(redis_client) == before
    assert store.append(delivery(2), "key2")  # a store still in use connects again


def test_a_forked_child_never_writes_on_the_connection_its_parent_holds(receiver_client: redis.Redis) -> None:
    """gunicorn and prefork pools fork after the parent may have used Redis: the child connects anew."""
    held = HeldConnections(receiver_client.connection_pool)
    parents_id = held.execute("CLIENT", "ID")
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report the id of the connection it used, and leave at once
        try:
            os.write(writing, str(held.execute("CLIENT", "ID")).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as answer:
        childs_id = int(answer.read() or "0")
    os.waitpid(child, 0)
    assert childs_id not in (0, parents_id)
    assert held.execute("CLIENT", "ID") == parents_id  # the parent's connection is still its own, in step
