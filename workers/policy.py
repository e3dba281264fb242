"""What happens after an attempt: the retry and give-up policy as one pure function.

The table, by the kind of outcome:

| outcome | next |
|---|---|
| accepted (R000) | ``submitted`` |
| busy (R001, R009, HTTP 429/503) or unreachable (request provably never left) | ``retrying`` after backoff (no sooner than the server's ``Retry-After``), else ``failed`` when the retry budget or the ttl is spent |
| systemic (R002, R012, R013) | ``retrying`` once the account pause ends (not counted against the budget), ``failed`` past the ttl |
| refused (every other code) | ``rejected`` |
| unknown (read timeout, reset, unreadable reply) | ``failed`` with reason ``outcome_unknown``: never resent, a later report still wins |
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from supersms.protocol.codes import ReplyClass
from supersms.workers.records import Status


class Outcome(StrEnum):
    """How one attempt ended, as far as the policy cares."""

    ACCEPTED = "accepted"
    BUSY = "busy"
    UNREACHABLE = "unreachable"
    SYSTEMIC = "systemic"
    REFUSED = "refused"
    UNKNOWN = "unknown"


OUTCOME_OF_REPLY = {
    ReplyClass.SUCCESS: Outcome.ACCEPTED,
    ReplyClass.RETRY: Outcome.BUSY,
    ReplyClass.SYSTEMIC: Outcome.SYSTEMIC,
    ReplyClass.PERMANENT: Outcome.REFUSED,
}


@dataclass(frozen=True)
class RetryPolicy:
    """The retry budget and backoff bounds (from Settings)."""

    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float


@dataclass(frozen=True)
class Verdict:
    """The record's next status, why, and when to try again (epoch seconds) when it is ``retrying``."""

    status: Status
    reason: str | None = None
    retry_at_s: float | None = None


def backoff_s(attempt: int, *, base_s: float, max_s: float, rng: random.Random) -> float:
    """Delay before retry number ``attempt`` (1-based): exponential, capped, with "equal jitter".

    Half the step is fixed and half random, so successive delays still grow while retries of many messages
    spread out instead of arriving together.
    """
    step_s = min(max_s, base_s * 2.0 ** (attempt - 1))
    return step_s / 2 + rng.uniform(0, step_s / 2)


def decide(
    outcome: Outcome,
    *,
    attempts: int,
    budget_used: int,
    now_s: float,
    expires_at_s: float,
    pause_ends_at_s: float | None,
    policy: RetryPolicy,
    rng: random.Random,
    retry_after_s: float | None = None,
) -> Verdict:
    """The verdict for an attempt that ended with ``outcome``.

    ``attempts`` counts every provider call so far, ``budget_used`` those that count against the retry budget;
    ``retry_after_s`` is how long a busy server asked us to stay away (HTTP ``Retry-After``), if it did.
    """
    if outcome is Outcome.ACCEPTED:
        return Verdict(Status.SUBMITTED)
    if outcome is Outcome.REFUSED:
        return Verdict(Status.REJECTED, reason="refused")
    if outcome is Outcome.UNKNOWN:
        return Verdict(Status.FAILED, reason="outcome_unknown")
    if outcome is Outcome.SYSTEMIC:
        retry_at_s = pause_ends_at_s if pause_ends_at_s is not None else now_s
    else:
        if budget_used >= policy.max_attempts:
            return Verdict(Status.FAILED, reason="retries_exhausted")
        delay_s = backoff_s(budget_used, base_s=policy.backoff_base_s, max_s=policy.backoff_max_s, rng=rng)
        retry_at_s = now_s + max(delay_s, retry_after_s or 0.0)
    if retry_at_s >= expires_at_s:
        return Verdict(Status.FAILED, reason="ttl_expired")
    return Verdict(Status.RETRYING, reason=outcome.value, retry_at_s=retry_at_s)
