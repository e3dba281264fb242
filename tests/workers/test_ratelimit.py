"""The global rate limiter: GCRA on Redis's clock, one limit shared by every process."""

import json
import subprocess
import sys
import textwrap
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from supersms.embedded import free_port
from supersms.errors import StoreUnavailable
from supersms.workers import keys
from supersms.workers.ratelimit import Decision, RateLimiter

# One hammering process: waits for the common start, then takes every slot it can until the end, recording
# each grant as (time before the call, time after it): the grant happened somewhere in that bracket.
HAMMER = textwrap.dedent(
    """
    import json, sys, time
    import redis
    from supersms.workers.ratelimit import RateLimiter

    url, rate, burst, start_at, end_at = sys.argv[1:]
    client = redis.Redis.from_url(url)
    limiter = RateLimiter(redis=client, rate_per_s=float(rate), burst=int(burst))
    time.sleep(max(0.0, float(start_at) - time.time()))
    grants = []
    while (before := time.time()) < float(end_at):
        decision = limiter.try_acquire()
        if decision.allowed:
            grants.append((before, time.time()))
        else:
            time.sleep(decision.wait_s)
    print(json.dumps(grants))
    """
)


@pytest.fixture
def client(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def unreachable_redis():
    """A client of a port nothing listens on, failing at once instead of retrying."""
    return redis.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))


def take_all_at_once(limiter):
    """Grants until the first denial, and that denial."""
    granted = 0
    while (decision := limiter.try_acquire()).allowed:
        granted += 1
    return granted, decision


@pytest.mark.parametrize(
    ("rate_per_s", "burst"),
    [(1, 0), (4, 3), (2, 5), (0.5, 1)],
)
def test_idle_limiter_lets_burst_plus_one_go_at_once_and_denies_the_next(client, rate_per_s, burst):
    limiter = RateLimiter(redis=client, rate_per_s=rate_per_s, burst=burst)
    granted, denied = take_all_at_once(limiter)
    assert granted == burst + 1
    assert not denied.allowed


@pytest.mark.parametrize(
    ("rate_per_s", "burst"),
    [(2, 0), (2, 3), (0.5, 0), (0.5, 1)],
)
def test_after_the_burst_the_next_slot_is_one_interval_away(client, rate_per_s, burst):
    limiter = RateLimiter(redis=client, rate_per_s=rate_per_s, burst=burst)
    _, denied = take_all_at_once(limiter)
    interval_s = 1 / rate_per_s
    assert interval_s - 0.1 < denied.wait_s <= interval_s


def test_a_slot_is_denied_just_before_its_wait_and_granted_right_after(client):
    limiter = RateLimiter(redis=client, rate_per_s=2, burst=0)
    assert limiter.try_acquire().allowed
    first = limiter.try_acquire()
    time.sleep(first.wait_s - 0.15)
    second = limiter.try_acquire()
    assert not second.allowed
    assert 0 < second.wait_s <= 0.15
    time.sleep(second.wait_s)
    assert limiter.try_acquire() == Decision(allowed=True, wait_s=0)


def test_acquire_waits_for_a_slot_within_its_budget_and_paces_at_the_rate(client):
    limiter = RateLimiter(redis=client, rate_per_s=20, burst=0)
    started = time.monotonic()
    decisions = [limiter.acquire(max_wait_s=0.2) for _ in range(10)]
    elapsed_s = time.monotonic() - started
    assert all(decision.allowed for decision in decisions)
    assert 9 / 20 - 0.01 <= elapsed_s < 9 / 20 + 0.3


def test_acquire_gives_the_slot_back_at_once_when_the_wait_exceeds_its_budget(client):
    limiter = RateLimiter(redis=client, rate_per_s=1, burst=0)
    assert limiter.try_acquire().allowed
    started = time.monotonic()
    decision = limiter.acquire(max_wait_s=0.5)
    assert time.monotonic() - started < 0.1
    assert not decision.allowed
    assert 0.5 < decision.wait_s <= 1.0


def test_rate_zero_allows_everything_without_asking_redis():
    limiter = RateLimiter(redis=unreachable_redis(), rate_per_s=0, burst=0)
    assert all(limiter.try_acquire().allowed for _ in range(1000))
    assert limiter.acquire(max_wait_s=0).allowed


def test_the_state_key_expires_once_the_limiter_is_idle(client):
    limiter = RateLimiter(redis=client, rate_per_s=4, burst=0)
    assert limiter.try_acquire().allowed
    assert 0 < client.pttl(keys.RATE) <= 250
    time.sleep(0.3)
    assert not client.exists(keys.RATE)


def test_an_unreachable_redis_raises_store_unavailable():
    limiter = RateLimiter(redis=unreachable_redis(), rate_per_s=10, burst=1)
    with pytest.raises(StoreUnavailable):
        limiter.try_acquire()


@pytest.mark.parametrize(
    ("rate_per_s", "burst"),
    [(-0.001, 0), (float("nan"), 0), (float("inf"), 0), (1, -1)],
)
def test_a_negative_or_non_finite_setting_is_refused(client, rate_per_s, burst):
    with pytest.raises(ValueError):
        RateLimiter(redis=client, rate_per_s=rate_per_s, burst=burst)


def most_grants_surely_in_one_second(grants):
    """The most grants whose whole bracket lies in one window [s, s + 1 s): a lower bound of the true most."""
    return max(
        sum(1 for before, after in grants if start <= before and after < start + 1) for start, _ in grants
    )


def test_processes_hammering_together_stay_within_the_rate_plus_the_burst(redis_url):
    rate_per_s, burst, processes, duration_s = 50, 5, 3, 2.0
    start_at = time.time() + 0.8  # time for every process to start and import
    args = [redis_url, str(rate_per_s), str(burst), str(start_at), str(start_at + duration_s)]
    children = [
        subprocess.Popen([sys.executable, "-c", HAMMER, *args], stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    try:
        outputs = [child.communicate(timeout=duration_s + 10)[0] for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert [child.returncode for child in children] == [0] * processes
    per_process = [json.loads(output) for output in outputs]
    grants = sorted(grant for grants in per_process for grant in grants)

    assert all(per_process), "every process got some slots"
    assert most_grants_surely_in_one_second(grants) <= rate_per_s + burst
    span_s = grants[-1][1] - grants[0][0]
    assert 0.95 * (rate_per_s * span_s + burst) <= len(grants) <= rate_per_s * span_s + burst + 1
