import redis

from supersms.embedded import EmbeddedRedis


def test_embedded_redis_answers_and_is_gone_after_close():
    with EmbeddedRedis() as server:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        pid = server.process.pid
        client.close()
    import os

    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive


def test_restart_keeps_appendonly_data(tmp_path):
    server = EmbeddedRedis(directory=str(tmp_path), appendonly=True).start()
    try:
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")
        client.close()
        server.stop()
        server.start()
        client = redis.Redis.from_url(server.url)
        assert client.get("k") == b"v"
        client.close()
    finally:
        server.close()
