import itertools
import random

import pytest

from supersms.workers.policy import Outcome, RetryPolicy, backoff_s, decide
from supersms.workers.records import Status

POLICY = RetryPolicy(max_attempts=4, backoff_base_s=1.0, backoff_max_s=8.0)
NOW = 1_000_000.0
FAR = NOW + 86400


def verdict(outcome, *, budget_used=1, expires_at_s=FAR, pause_ends_at_s=None, retry_after_s=None):
    return decide(
        outcome,
        attempts=budget_used,
        budget_used=budget_used,
        now_s=NOW,
        expires_at_s=expires_at_s,
        pause_ends_at_s=pause_ends_at_s,
        policy=POLICY,
        rng=random.Random(7),
        retry_after_s=retry_after_s,
    )


@pytest.mark.parametrize(
    ("outcome", "status", "reason"),
    [
        (Outcome.ACCEPTED, Status.SUBMITTED, None),
        (Outcome.REFUSED, Status.REJECTED, "refused"),
        (Outcome.UNKNOWN, Status.FAILED, "outcome_unknown"),
        (Outcome.BUSY, Status.RETRYING, "busy"),
        (Outcome.UNREACHABLE, Status.RETRYING, "unreachable"),
        (Outcome.SYSTEMIC, Status.RETRYING, "systemic"),
    ],
)
def test_each_outcome_leads_to_its_status(outcome, status, reason):
    result = verdict(outcome, pause_ends_at_s=NOW + 60)
    assert (result.status, result.reason) == (status, reason)


def test_an_unknown_outcome_is_never_retried():
    assert verdict(Outcome.UNKNOWN).retry_at_s is None


@pytest.mark.parametrize(("budget_used", "status"), [(3, Status.RETRYING), (4, Status.FAILED)])
def test_busy_replies_retry_until_the_budget_is_spent(budget_used, status):
    result = verdict(Outcome.BUSY, budget_used=budget_used)
    assert result.status is status
    if status is Status.FAILED:
        assert result.reason == "retries_exhausted"


def test_a_retry_past_the_ttl_fails_instead():
    result = verdict(Outcome.BUSY, expires_at_s=NOW + 0.1)
    assert (result.status, result.reason) == (Status.FAILED, "ttl_expired")


def test_a_busy_server_is_retried_no_sooner_than_its_retry_after():
    assert verdict(Outcome.BUSY, retry_after_s=30).retry_at_s == NOW + 30
    assert verdict(Outcome.BUSY, retry_after_s=0.01).retry_at_s == verdict(Outcome.BUSY).retry_at_s
    assert verdict(Outcome.BUSY, retry_after_s=7200, expires_at_s=NOW + 3600).reason == "ttl_expired"


def test_a_systemic_refusal_waits_for_the_pause_without_spending_the_budget():
    result = verdict(Outcome.SYSTEMIC, budget_used=POLICY.max_attempts, pause_ends_at_s=NOW + 60)
    assert result.status is Status.RETRYING
    assert result.retry_at_s == NOW + 60


def test_a_pause_ending_after_the_ttl_fails_the_message():
    result = verdict(Outcome.SYSTEMIC, pause_ends_at_s=NOW + 60, expires_at_s=NOW + 30)
    assert result.reason == "ttl_expired"


def test_backoff_grows_with_each_attempt_and_stays_within_its_cap():
    rng = random.Random(1)
    for _ in range(200):
        delays = [backoff_s(n, base_s=1.0, max_s=8.0, rng=rng) for n in range(1, 7)]
        assert all(a <= b for a, b in itertools.pairwise(delays[:4]))
        assert all(0.5 <= d <= 8.0 for d in delays)


@pytest.mark.parametrize(
    ("attempt", "low", "high"), [(1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (5, 4.0, 8.0)]
)
def test_backoff_is_half_fixed_half_random(attempt, low, high):
    rng = random.Random(3)
    samples = [backoff_s(attempt, base_s=1.0, max_s=8.0, rng=rng) for _ in range(500)]
    assert low <= min(samples) and max(samples) <= high
    assert max(samples) - min(samples) > (high - low) * 0.8
