"""One send attempt for one message: load, wait for the pause and the rate, claim, call, record.

The order matters for invariant 1 (no silent double send): the claim is taken atomically right before the
provider call, after the rate limiter, so a slot given back needs no undoing; a duplicate delivery of the same
task finds the claim held or the record finished and does nothing. The decision about what follows an
attempt is :func:`supersms.workers.policy.decide`; this module only does the I/O around it.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from dataclasses import dataclass

from supersms.errors import OutcomeUnknown, ProviderBusy, ProviderUnreachable
from supersms.protocol.codes import classify_submit
from supersms.protocol.message import Message, validate_message
from supersms.protocol.replies import SubmitReply
from supersms.protocol.request import form_fields
from supersms.workers.metrics import DISABLED, MetricsRecorder
from supersms.workers.outcomes import Outcomes
from supersms.workers.pause import AccountPause
from supersms.workers.policy import OUTCOME_OF_REPLY, Outcome, RetryPolicy, Verdict, decide
from supersms.workers.provider import ProviderClient
from supersms.workers.ratelimit import RateLimiter
from supersms.workers.records import FINAL_STATUSES, MessageStore, Status, now_iso

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Next:
    """What the task does after an attempt: nothing (``again_in_s`` None), or run again after a countdown."""

    again_in_s: float | None = None

    @property
    def done(self) -> bool:
        return self.again_in_s is None


DONE = Next()


@dataclass(frozen=True)
class Attempted:
    """The provider's side of an attempt: how it ended, and the reply when there was one."""

    outcome: Outcome
    reply: SubmitReply | None = None
    detail: str | None = None


class Sender:
    """Runs attempts; one per worker process, shared by its threads (every part is thread-safe)."""

    def __init__(
        self,
        *,
        store: MessageStore,
        limiter: RateLimiter,
        pause: AccountPause,
        provider: ProviderClient,
        outcomes: Outcomes,
        policy: RetryPolicy,
        rate_wait_max_s: float,
        max_countdown_s: float,
        metrics: MetricsRecorder = DISABLED,
    ) -> None:
        self._store = store
        self._limiter = limiter
        self._pause = pause
        self._provider = provider
        self._outcomes = outcomes
        self._policy = policy
        self._rate_wait_max_s = rate_wait_max_s
        self._max_countdown_s = max_countdown_s
        self._rng = random.Random()
        self._metrics = metrics

    def attempt(self, message_id: str) -> Next:
        """Try to send ``message_id`` once, if it is due, not paused and not held by someone else."""
        record = self._store.load(message_id)
        status = Status(record["status"])
        if status.is_final:
            # A task redelivered after its worker died between recording and announcing finishes the latter.
            self._outcomes.settled(message_id)
            return DONE
        if status is Status.SUBMITTED:
            return DONE
        now_s = time.time()
        if now_s * 1000 >= int(record["expires_ms"]):
            return self._expire(message_id)
        due_in_s = int(record.get("next_attempt_ms", "0")) / 1000 - now_s
        if due_in_s > 0:
            return self._later(due_in_s)
        paused = self._pause.current()
        if paused is not None:
            return self._wait_for_pause(message_id, record, paused.remaining_s, paused.code)
        waited_from_s = time.monotonic()
        rate = self._limiter.acquire(max_wait_s=self._rate_wait_max_s)
        self._metrics.rate_wait(time.monotonic() - waited_from_s, given_back=not rate.allowed)
        if not rate.allowed:
            return self._later(rate.wait_s)
        return self._claimed_attempt(message_id, record)

    def _claimed_attempt(self, message_id: str, record: dict[str, str]) -> Next:
        token = secrets.token_hex(8)
        claim = self._store.claim(message_id, token)
        if not claim.granted:
            log.debug("message %s not claimed: %s", message_id, claim.reason)
            return DONE
        message = validate_message(json.loads(record["payload"]))
        called_at_s = time.monotonic()
        attempted = self._call_provider(message)
        self._metrics.provider_call(
            attempted.outcome,
            attempted.reply.first.err_code if attempted.reply else None,
            time.monotonic() - called_at_s,
        )
        budget_used = int(record.get("budget_used", "0")) + (attempted.outcome is not Outcome.SYSTEMIC)
        pause_ends_at_s = self._open_pause(attempted) if attempted.outcome is Outcome.SYSTEMIC else None
        verdict = decide(
            attempted.outcome,
            attempts=claim.attempts,
            budget_used=budget_used,
            now_s=time.time(),
            expires_at_s=int(record["expires_ms"]) / 1000,
            pause_ends_at_s=pause_ends_at_s,
            policy=self._policy,
            rng=self._rng,
        )
        self._record(message_id, token, attempted, verdict, budget_used)
        if verdict.retry_at_s is None:
            return DONE
        return self._later(verdict.retry_at_s - time.time())

    def _call_provider(self, message: Message) -> Attempted:
        try:
            reply = self._provider.submit(form_fields(message))
        except ProviderBusy as error:
            return Attempted(Outcome.BUSY, detail=str(error))
        except ProviderUnreachable as error:
            return Attempted(Outcome.UNREACHABLE, detail=str(error))
        except OutcomeUnknown as error:
            return Attempted(Outcome.UNKNOWN, detail=str(error))
        if len(reply.messages) > 1:
            log.warning("provider reply holds %d <message> elements; using the first", len(reply.messages))
        return Attempted(OUTCOME_OF_REPLY[classify_submit(reply.first.err_code)], reply=reply)

    def _open_pause(self, attempted: Attempted) -> float:
        code = attempted.reply.first.err_code if attempted.reply else "unknown"
        state = self._pause.open(code, "provider refused the account")
        return state.until.timestamp()

    def _record(
        self, message_id: str, token: str, attempted: Attempted, verdict: Verdict, budget_used: int
    ) -> None:
        first = attempted.reply.first if attempted.reply else None
        fields: dict[str, object] = {
            "budget_used": str(budget_used),
            "err_code": first.err_code if first else None,
            "msgid": first.msgid if first else None,
            "msg_type": str(first.msg_type) if first and first.msg_type is not None else None,
            "reason": _reason(verdict, attempted),
            "detail": attempted.detail,
            "submitted_at": now_iso() if verdict.status is Status.SUBMITTED else None,
            "next_attempt_ms": _next_attempt_ms(verdict, attempted),
        }
        status = self._store.settle(
            message_id, token, verdict.status, fields, msgid=first.msgid if first and first.msgid else None
        )
        log.info("message %s attempt ended %s → %s", message_id, attempted.outcome.value, status)
        if status == verdict.status:
            self._metrics.transition(status)
        if status in FINAL_STATUSES:
            self._outcomes.settled(message_id)

    def _wait_for_pause(self, message_id: str, record: dict[str, str], remaining_s: float, code: str) -> Next:
        if time.time() + remaining_s >= int(record["expires_ms"]) / 1000:
            return self._expire(message_id)
        if self._store.defer(message_id, Status.RETRYING, {"reason": f"paused:{code}"}) != record["status"]:
            self._metrics.transition(Status.RETRYING)
        return self._later(remaining_s)

    def _expire(self, message_id: str) -> Next:
        if self._store.defer(message_id, Status.FAILED, {"reason": "ttl_expired"}) == Status.FAILED:
            self._metrics.transition(Status.FAILED)
        self._outcomes.settled(message_id)
        return DONE

    def _later(self, delay_s: float) -> Next:
        """Run again after ``delay_s``, in hops no longer than the broker can hold a countdown safely."""
        return Next(again_in_s=max(0.0, min(delay_s, self._max_countdown_s)))


def _next_attempt_ms(verdict: Verdict, attempted: Attempted) -> str:
    """When the next attempt is due; a message waiting for the pause is due as soon as the pause is lifted."""
    if verdict.retry_at_s is None or attempted.outcome is Outcome.SYSTEMIC:
        return "0"
    return str(int(verdict.retry_at_s * 1000))


def _reason(verdict: Verdict, attempted: Attempted) -> str | None:
    if attempted.outcome is Outcome.SYSTEMIC and verdict.status is Status.RETRYING and attempted.reply:
        return f"paused:{attempted.reply.first.err_code}"
    return verdict.reason
