"""One send attempt for one message: begin (check, rate-limit, claim), call the provider, record.

Two Redis round trips per attempt. Beginning is one script (``record_begin.lua``): it checks the record, the
ttl, the account pause and the global rate, and takes the claim, in that order and atomically, so the claim is
the last thing before the provider call and a rate slot given back needs no undoing (invariant 1, no silent
double send): a duplicate delivery of the same task finds the claim held or the record finished and does
nothing. Recording is the other script (``record_settle.lua``), which also announces a final status. The decision about what follows an
attempt is :func:`supersms.workers.policy.decide`; this module only does the I/O around it.
"""

from __future__ import annotations

import json
import logging
import math
import random
import secrets
import time
from dataclasses import dataclass

from supersms.errors import OutcomeUnknown, ProviderBusy, ProviderUnreachable, UnknownMessage
from supersms.protocol.codes import classify_submit
from supersms.protocol.message import TTL_MAX_S, Message, validate_message
from supersms.protocol.replies import SubmitReply
from supersms.protocol.request import form_fields
from supersms.workers.metrics import DISABLED, MetricsRecorder
from supersms.workers.outcomes import Outcomes
from supersms.workers.pause import AccountPause, PauseState
from supersms.workers.policy import OUTCOME_OF_REPLY, Outcome, RetryPolicy, Verdict, decide
from supersms.workers.provider import ProviderClient
from supersms.workers.ratelimit import RateLimiter
from supersms.workers.records import LOST, Begun, MessageStore, Status, now_iso

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Next:
    """What the task does after an attempt: nothing (``again_in_s`` None), or run again after a countdown.

    ``held_back``: what holds the message is account-wide (the rate or the pause), so it holds the messages
    queued behind it just as well.
    """

    again_in_s: float | None = None
    held_back: bool = False

    @property
    def done(self) -> bool:
        return self.again_in_s is None


DONE = Next()


@dataclass(frozen=True)
class Attempted:
    """The provider's side of an attempt: how it ended, the reply when there was one, and how long a busy
    server asked us to wait (``Retry-After``) when it said."""

    outcome: Outcome
    reply: SubmitReply | None = None
    detail: str | None = None
    retry_after_s: float | None = None


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
        token = secrets.token_hex(8)
        begun = self._begin(message_id, token)
        if begun.step == "claimed":
            return self._claimed_attempt(message_id, token, begun)
        if begun.step == "limited":
            return self._later(begun.wait_s, held_back=True)
        if begun.step == "early":
            return self._later(begun.due_ms / 1000 - time.time())
        if begun.step == "paused" and begun.pause is not None:
            return self._wait_for_pause(message_id, begun, begun.pause)
        if begun.step == "expired":
            self._metrics.transition(Status.FAILED)
        if begun.step == "missing":
            raise UnknownMessage(message_id)
        if begun.callback_due:  # finished by this step, or by a worker that died before its callback
            self._outcomes.call_back(message_id)
        return DONE

    def _begin(self, message_id: str, token: str) -> Begun:
        """Begin the attempt; when a rate slot was booked a little ahead, wait for it and begin again."""
        rate_args = self._limiter.script_args(max_wait_s=self._rate_wait_max_s)
        started_s = time.monotonic()
        begun = self._store.begin(message_id, token, rate_args=rate_args)
        if begun.step == "wait":
            time.sleep(begun.wait_s)
            begun = self._store.begin(message_id, token, rate_args=rate_args, slot_booked=True)
        if begun.step in ("claimed", "limited"):
            self._metrics.rate_wait(time.monotonic() - started_s, given_back=begun.step == "limited")
        return begun

    def _claimed_attempt(self, message_id: str, token: str, begun: Begun) -> Next:
        message = validate_message(json.loads(begun.payload))
        called_at_s = time.monotonic()
        attempted = self._call_provider(message, ttl_s=ttl_left(begun.expires_ms / 1000 - time.time()))
        self._metrics.provider_call(
            attempted.outcome,
            attempted.reply.first.err_code if attempted.reply else None,
            time.monotonic() - called_at_s,
        )
        budget_used = begun.budget_used + (attempted.outcome is not Outcome.SYSTEMIC)
        pause_ends_at_s = self._open_pause(attempted) if attempted.outcome is Outcome.SYSTEMIC else None
        verdict = decide(
            attempted.outcome,
            attempts=begun.attempts,
            budget_used=budget_used,
            now_s=time.time(),
            expires_at_s=begun.expires_ms / 1000,
            pause_ends_at_s=pause_ends_at_s,
            policy=self._policy,
            rng=self._rng,
            retry_after_s=attempted.retry_after_s,
        )
        self._record(message_id, token, attempted, verdict, budget_used)
        if verdict.retry_at_s is None:
            return DONE
        return self._later(verdict.retry_at_s - time.time())

    def _call_provider(self, message: Message, *, ttl_s: int | None) -> Attempted:
        try:
            reply = self._provider.submit(form_fields(message, ttl_s=ttl_s))
        except ProviderBusy as error:
            return Attempted(Outcome.BUSY, detail=str(error), retry_after_s=error.retry_after_s)
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
        settled = self._store.settle(
            message_id, token, verdict.status, fields, msgid=first.msgid if first and first.msgid else None
        )
        level = logging.DEBUG if settled.status == Status.SUBMITTED else logging.INFO
        log.log(
            level, "message %s attempt ended %s → %s", message_id, attempted.outcome.value, settled.status
        )
        if settled.status == verdict.status:
            self._metrics.transition(settled.status)
        if settled.status == LOST:
            # Swept as stale meanwhile, or this very settle ran before and its reply was lost: either way
            # the record may be final now, so its announcement and callback are made if still due.
            self._outcomes.settled(message_id)
        elif settled.callback_due:
            self._outcomes.call_back(message_id)

    def _wait_for_pause(self, message_id: str, begun: Begun, pause: PauseState) -> Next:
        if time.time() + pause.remaining_s >= begun.expires_ms / 1000:
            return self._expire(message_id)
        if self._store.defer(message_id, Status.RETRYING, {"reason": f"paused:{pause.code}"}) != begun.status:
            self._metrics.transition(Status.RETRYING)
        return self._later(pause.remaining_s, held_back=True)

    def _expire(self, message_id: str) -> Next:
        if self._store.defer(message_id, Status.FAILED, {"reason": "ttl_expired"}) == Status.FAILED:
            self._metrics.transition(Status.FAILED)
        self._outcomes.settled(message_id)
        return DONE

    def _later(self, delay_s: float, *, held_back: bool = False) -> Next:
        """Run again after ``delay_s``, in hops no longer than the broker can hold a countdown safely."""
        return Next(again_in_s=max(0.0, min(delay_s, self._max_countdown_s)), held_back=held_back)


def ttl_left(seconds: float) -> int | None:
    """The validity to send the provider for a message whose own expires in ``seconds``: whole seconds, at
    least 1 (it would not be attempted otherwise). None when there is no such bound (a record from before
    records carried one): the message's own ttl goes then."""
    if seconds > TTL_MAX_S:
        return None
    return max(1, math.ceil(seconds))


def _next_attempt_ms(verdict: Verdict, attempted: Attempted) -> str:
    """When the next attempt is due; a message waiting for the pause is due as soon as the pause is lifted."""
    if verdict.retry_at_s is None or attempted.outcome is Outcome.SYSTEMIC:
        return "0"
    return str(int(verdict.retry_at_s * 1000))


def _reason(verdict: Verdict, attempted: Attempted) -> str | None:
    if attempted.outcome is Outcome.SYSTEMIC and verdict.status is Status.RETRYING and attempted.reply:
        return f"paused:{attempted.reply.first.err_code}"
    return verdict.reason
