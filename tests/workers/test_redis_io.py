"""The Redis client every part uses: blocking TCP sockets whose timeouts the kernel keeps."""

from __future__ import annotations

import socket
import struct

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from supersms.workers.redis_io import SOCKET_TIMEOUT_S, KernelTimeoutConnection, connect

SLOW_SCRIPT = "local n = 0 while n < 40000000 do n = n + 1 end return 'late'"  # keeps Redis busy ~0.3 s


def test_a_tcp_client_blocks_in_the_kernel_with_the_timeout_set_there(redis_url: str) -> None:
    client = connect(redis_url)
    try:
        connection = client.connection_pool.get_connection()
        try:
            assert isinstance(connection, KernelTimeoutConnection)
            sock = connection._sock
            assert sock is not None and sock.gettimeout() is None  # no poll() before each send and receive
            timeval = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.calcsize("ll"))
            assert struct.unpack("ll", timeval) == (int(SOCKET_TIMEOUT_S), 0)
        finally:
            client.connection_pool.release(connection)
    finally:
        client.close()


@pytest.mark.parametrize(
    ("url", "connection_class"),
    [
        ("rediss://127.0.0.1:6380/0", redis.SSLConnection),
        ("unix:///tmp/redis.sock?db=0", redis.UnixDomainSocketConnection),
    ],
)
def test_tls_and_unix_socket_urls_keep_redis_pys_connections(url: str, connection_class: type) -> None:
    assert connect(url).connection_pool.connection_class is connection_class


def test_a_read_the_kernel_times_out_is_a_timeout_and_the_next_command_gets_its_own_answer(
    redis_url: str,
) -> None:
    client = redis.Redis.from_url(
        redis_url,
        decode_responses=True,
        socket_timeout=0.05,
        connection_class=KernelTimeoutConnection,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        with pytest.raises(redis.TimeoutError):
            client.eval(SLOW_SCRIPT, 0)
        patient = redis.Redis.from_url(redis_url, decode_responses=True)
        try:
            assert patient.ping()  # waits until the slow script is done
        finally:
            patient.close()
        assert client.echo("fresh") == "fresh"  # not the slow script's late "late"
    finally:
        client.close()
