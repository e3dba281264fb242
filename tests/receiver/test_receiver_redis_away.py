"""Redis away: reports go to the fsynced spool and are answered 200; they reach the stream once it is back."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import redis

from supersms.embedded import EmbeddedRedis
from supersms.receiver.app import create_app
from supersms.receiver.sink import REDIS_RETRY_S
from supersms.receiver.spool import spool_files
from supersms.workers import keys
from tests.receiver.conftest import MakeApp, receiver_settings
from tests.receiver.wsgi_client import GOOD_QUERY, GOOD_RESPONSE, call
from tests.support.processes import wait_until

OTHER_QUERY = GOOD_QUERY.replace("00000123", "00000124")


def spooled_lines(spool_dir: Path) -> list[bytes]:
    return [line for path in spool_files(spool_dir) for line in path.read_bytes().splitlines()]


def test_reports_are_spooled_while_redis_is_away_and_replayed_once_when_it_is_back(
    make_app: MakeApp, own_redis: EmbeddedRedis, spool_dir: Path
) -> None:
    app = make_app(redis=own_redis.url)
    assert call(app, path="/healthz").code == 200
    own_redis.stop()

    first = call(app)
    assert (first.code, first.body) == (200, GOOD_RESPONSE)
    assert len(spooled_lines(spool_dir)) == 1  # on disk when the answer is given
    assert call(app).code == call(app, query=OTHER_QUERY).code == 200
    assert len(spooled_lines(spool_dir)) == 3

    own_redis.start()
    client = redis.Redis.from_url(own_redis.url, decode_responses=True)
    try:
        wait_until(lambda: not spool_files(spool_dir), timeout_s=10, what="the spool to be replayed")
        assert call(app).code == 200  # delivered once more after Redis is back
        queries = [fields["query"] for _, fields in client.xrange(keys.REPORTS)]
    finally:
        client.close()
    assert queries == [GOOD_QUERY, OTHER_QUERY]


def test_the_first_report_stored_in_redis_again_starts_the_replay_without_waiting_for_its_timer(
    own_redis: EmbeddedRedis, spool_dir: Path
) -> None:
    app = create_app(receiver_settings(own_redis.url, spool_dir), replay_interval_s=3600)
    try:
        app.warm()  # its replayer's first round finds nothing; the next one is an hour away
        own_redis.stop()
        assert call(app).code == 200
        assert len(spooled_lines(spool_dir)) == 1
        own_redis.start()
        time.sleep(REDIS_RETRY_S)  # until then reports go straight to the spool

        assert call(app, query=OTHER_QUERY).code == 200  # stored in Redis: Redis is back

        wait_until(lambda: not spool_files(spool_dir), timeout_s=10, what="the spool to be replayed")
        client = redis.Redis.from_url(own_redis.url, decode_responses=True)
        try:
            queries = [fields["query"] for _, fields in client.xrange(keys.REPORTS)]
        finally:
            client.close()
        assert queries == [OTHER_QUERY, GOOD_QUERY]
    finally:
        app.close()


def test_a_redis_that_hangs_sends_reports_to_the_spool_and_healthz_stays_200(
    make_app: MakeApp, own_redis: EmbeddedRedis, spool_dir: Path
) -> None:
    app = make_app(redis=own_redis.url)
    assert call(app, path="/healthz").code == 200
    assert own_redis.process is not None
    own_redis.process.send_signal(signal.SIGSTOP)  # it keeps its sockets open and answers nothing
    try:
        answer = call(app)
        assert (answer.code, answer.body) == (200, GOOD_RESPONSE)
        assert len(spooled_lines(spool_dir)) == 1
        time.sleep(REDIS_RETRY_S)  # Redis is worth trying again, and /healthz tries it
        assert call(app, path="/healthz").code == 200
    finally:
        own_redis.process.send_signal(signal.SIGCONT)
    wait_until(lambda: not spool_files(spool_dir), timeout_s=10, what="the spool to be replayed")
    client = redis.Redis.from_url(own_redis.url, decode_responses=True)
    try:
        assert [fields["query"] for _, fields in client.xrange(keys.REPORTS)] == [GOOD_QUERY]
    finally:
        client.close()


def test_a_restarted_receiver_replays_the_spool_an_earlier_one_left(
    make_app: MakeApp, own_redis: EmbeddedRedis, spool_dir: Path
) -> None:
    own_redis.stop()
    before = make_app(redis=own_redis.url)
    assert call(before).code == call(before, query=OTHER_QUERY).code == 200
    before.close()
    assert len(spooled_lines(spool_dir)) == 2
    own_redis.start()

    make_app(redis=own_redis.url).warm()  # no request needed

    wait_until(lambda: not spool_files(spool_dir), timeout_s=10, what="the spool to be replayed")
    client = redis.Redis.from_url(own_redis.url, decode_responses=True)
    try:
        assert client.xlen(keys.REPORTS) == 2
    finally:
        client.close()


def test_health_stays_200_while_the_spool_can_take_reports(
    make_app: MakeApp, own_redis: EmbeddedRedis
) -> None:
    app = make_app(redis=own_redis.url)
    own_redis.stop()

    assert call(app, path="/healthz").code == 200


def test_with_neither_redis_nor_a_writable_spool_reports_get_503_and_nothing_claims_success(
    make_app: MakeApp, own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    app = make_app(redis=own_redis.url, spool=tmp_path / "a-file" / "spool")
    own_redis.stop()

    answer = call(app)
    health = call(app, path="/healthz")

    assert answer.code == 503
    assert answer.headers["Retry-After"] == "5"
    assert GOOD_RESPONSE not in answer.body
    assert health.code == 503


def test_a_malformed_report_is_still_refused_400_while_redis_is_away(
    make_app: MakeApp, own_redis: EmbeddedRedis, spool_dir: Path
) -> None:
    app = make_app(redis=own_redis.url)
    own_redis.stop()

    assert call(app, query="msgid=1").code == 400
    assert spooled_lines(spool_dir) == []
