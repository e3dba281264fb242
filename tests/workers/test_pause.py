"""The account-wide pause: opened by a systemic code, shared by every worker, over by itself in time."""

import json
import logging
import math
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from supersms.embedded import free_port
from supersms.errors import StoreUnavailable
from supersms.workers import keys
from supersms.workers.pause import AccountPause


def unreachable_redis():
    """A client of a port nothing listens on, failing at once instead of retrying."""
    return redis.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))


@pytest.fixture(params=[False, True], ids=["bytes", "decoded"])
def client(request, redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=request.param)
    yield client
    client.close()


def test_no_pause_holds_until_one_is_opened(client):
    assert AccountPause(redis=client, cooldown_s=5).current() is None


def test_an_opened_pause_shows_its_code_reason_and_the_whole_cooldown(client):
    pause = AccountPause(redis=client, cooldown_s=5)
    opened = pause.open("R013", "send quota exceeded")
    state = pause.current()
    assert state is not None
    assert (state.code, state.reason) == (opened.code, opened.reason) == ("R013", "send quota exceeded")
    assert 4.5 < state.remaining_s <= 5
    assert state.until.tzinfo is not None
    assert abs(state.until - (datetime.now(UTC) + timedelta(seconds=5))) < timedelta(seconds=0.5)


def test_the_pause_is_stored_as_json_with_code_reason_and_opening_time(redis_client):
    AccountPause(redis=redis_client, cooldown_s=5).open("R002", "authentication failed")
    stored = json.loads(redis_client.get(keys.PAUSE))
    assert (stored["code"], stored["reason"]) == ("R002", "authentication failed")
    assert datetime.fromisoformat(stored["opened_at"]) <= datetime.now(UTC)


def test_the_pause_ends_by_itself_after_the_cooldown(client):
    pause = AccountPause(redis=client, cooldown_s=0.2)
    pause.open("R012", "no permission for this service type")
    assert pause.current() is not None
    time.sleep(0.3)
    assert pause.current() is None


@pytest.mark.parametrize(
    ("first_cooldown_s", "second_cooldown_s", "remaining_s"),
    [
        (5, 1, 5),  # a shorter second opening does not shorten it
        (5, 5, 5),  # the same cool-down again moves the end to the later one
        (1, 5, 5),  # a longer one extends it
    ],
)
def test_a_second_opening_only_ever_moves_the_end_later(
    client, first_cooldown_s, second_cooldown_s, remaining_s
):
    AccountPause(redis=client, cooldown_s=first_cooldown_s).open("R013", "send quota exceeded")
    again = AccountPause(redis=client, cooldown_s=second_cooldown_s).open("R002", "authentication failed")
    state = AccountPause(redis=client, cooldown_s=1).current()
    assert state is not None
    assert remaining_s - 0.5 < again.remaining_s <= remaining_s
    assert remaining_s - 0.5 < state.remaining_s <= remaining_s
    assert state.code == again.code == "R013", "the pause keeps the code that opened it"


def test_lifting_ends_the_pause_and_says_whether_one_held(client):
    pause = AccountPause(redis=client, cooldown_s=5)
    pause.open("R013", "send quota exceeded")
    assert pause.lift() is True
    assert pause.current() is None
    assert pause.lift() is False


def test_each_opening_is_logged_once_at_error_however_many_messages_hit_it(client, caplog):
    caplog.set_level(logging.DEBUG, logger="supersms.workers.pause")
    pause = AccountPause(redis=client, cooldown_s=5)
    for _ in range(3):
        pause.open("R013", "send quota exceeded")
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "R013" in errors[0].getMessage()
    assert "send quota exceeded" in errors[0].getMessage()

    pause.lift()
    pause.open("R002", "authentication failed")
    assert sum(record.levelno == logging.ERROR for record in caplog.records) == 2


def test_a_pause_set_by_hand_without_an_end_holds_and_is_never_shortened(redis_client):
    redis_client.set(keys.PAUSE, "R002")
    pause = AccountPause(redis=redis_client, cooldown_s=5)
    state = pause.open("R013", "send quota exceeded")
    assert (state.code, state.remaining_s) == ("R002", math.inf)
    assert redis_client.pttl(keys.PAUSE) == -1


@pytest.mark.parametrize("call", [lambda p: p.open("R013", "quota"), AccountPause.current, AccountPause.lift])
def test_an_unreachable_redis_raises_store_unavailable(call):
    with pytest.raises(StoreUnavailable):
        call(AccountPause(redis=unreachable_redis(), cooldown_s=5))


@pytest.mark.parametrize("cooldown_s", [0, -1, float("nan"), float("inf")])
def test_a_cooldown_that_is_not_a_positive_finite_number_is_refused(client, cooldown_s):
    with pytest.raises(ValueError):
        AccountPause(redis=client, cooldown_s=cooldown_s)
