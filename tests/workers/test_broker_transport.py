"""The Redis broker transport: kombu's, with one synchronous client per connection pool."""

from __future__ import annotations

import pytest
import redis
from kombu import Connection, Exchange, Producer, Queue

from supersms.settings import Settings
from supersms.workers.broker_transport import TRANSPORT, Channel
from supersms.workers.celery_config import celery_config, transport_for


@pytest.mark.parametrize(
    ("url", "transport"),
    [
        ("redis://127.0.0.1:6379/0", TRANSPORT),
        ("rediss://redis.example:6380/0?ssl_cert_reqs=required", TRANSPORT),
        ("redis://127.0.0.1:6379/0;redis://127.0.0.1:6380/0", TRANSPORT),
        ("amqp://guest:guest@127.0.0.1:5672//", None),
        ("sentinel://127.0.0.1:26379", None),
    ],
)
def test_redis_brokers_use_the_transport_and_others_keep_kombus(url: str, transport: str | None) -> None:
    assert transport_for(url) == transport


@pytest.mark.parametrize(
    ("redis_url", "broker_url"),
    [
        ("unix:///run/redis/redis.sock", "redis+socket:///run/redis/redis.sock"),
        ("unix:///run/redis.sock?db=3", "redis+socket:///run/redis.sock?virtual_host=3"),
        ("redis://10.0.0.1:6380/2", "redis://10.0.0.1:6380/2"),
    ],
)
def test_a_redis_on_a_unix_socket_is_the_broker_by_the_name_kombu_knows(
    redis_url: str, broker_url: str
) -> None:
    settings = Settings.from_env({"SUPERSMS_REDIS_URL": redis_url})
    assert (settings.broker_url, celery_config(settings)["broker_url"]) == (redis_url, broker_url)


def test_a_channel_builds_its_synchronous_client_once_per_pool(redis_url: str) -> None:
    with Connection(redis_url, transport=TRANSPORT) as connection:
        channel = connection.default_channel
        assert isinstance(channel, Channel)
        first = channel._create_client()
        assert channel._create_client() is first
        assert channel._create_client(asynchronous=True) is not first  # the event loop's own, as in kombu

        channel._pool = None  # what kombu does when it gives up a pool after a connection error
        again = channel._create_client()
        assert again is not first
        assert again.connection_pool is channel.pool


def test_messages_published_and_acknowledged_through_the_shared_client_arrive_once(redis_url: str) -> None:
    queue = Queue("transport-test", Exchange("transport-test", type="direct"), routing_key="transport-test")
    with Connection(redis_url, transport=TRANSPORT) as connection:
        producer = Producer(connection.default_channel)
        for n in range(20):
            producer.publish({"n": n}, exchange=queue.exchange, routing_key="transport-test", declare=[queue])
        received: list[int] = []
        with connection.Consumer(
            queue, callbacks=[lambda body, message: (received.append(body["n"]), message.ack())]
        ):
            while len(received) < 20:
                connection.drain_events(timeout=5)
        again = connection.Consumer(queue, callbacks=[lambda body, message: received.append(body["n"])])
        with again, pytest.raises(TimeoutError):
            connection.drain_events(timeout=0.5)
    assert received == list(range(20))


def test_a_channel_closed_after_kombu_let_go_of_the_connection_keeps_its_unacked_message(
    redis_url: str,
) -> None:
    """What a worker meets when Redis goes away while it waits on BRPOP: Celery collects the connection
    (kombu sets the transport's client to None), then closes it, and the channel restores its unacked
    messages only then. That must be a connection error (ignored, the worker reconnects), not a crash."""
    queue = Queue(
        "transport-close", Exchange("transport-close", type="direct"), routing_key="transport-close"
    )
    connection = Connection(redis_url, transport=TRANSPORT)
    connection.Producer().publish(
        {"n": 1}, exchange=queue.exchange, routing_key="transport-close", declare=[queue]
    )
    delivered: list[object] = []
    connection.Consumer(queue, callbacks=[lambda body, message: delivered.append(message)]).consume()
    connection.drain_events(timeout=5)
    assert len(delivered) == 1, "delivered and not acknowledged"

    connection.transport.client = None  # as kombu's Connection.collect leaves it
    connection.close()

    assert redis.Redis.from_url(redis_url).hlen("unacked") == 1, "still there, for the visibility timeout"
