"""The provider's send desk: decide a send request's err_code, assign its msgid, plan its reports.

The order a request meets: the scripted fault (if any is left), the forced code, the capacity, the provider's
rules (:mod:`supersms.sandbox.rules`), then the code configured for its recipient. An ``R000`` from any of the
faults means "no fault here": the request goes on to the next step.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from supersms.protocol.replies import MessageResult, render_submit_reply
from supersms.protocol.reports import KST
from supersms.sandbox.delivery import ReportDelivery, ReportJob
from supersms.sandbox.faultbox import FaultBox
from supersms.sandbox.faults import Faults
from supersms.sandbox.form import readable
from supersms.sandbox.log import SandboxLog
from supersms.sandbox.planning import choose_code, final_report, plan_reports
from supersms.sandbox.rules import CHARSETS, Accepted, Account, Refusal, check, msg_type

ACCEPTED = "R000"
MSGID_DIGITS = 8
CHARSET_CONVERSION_ERROR = "3022"


def clock_msgid_start() -> int:
    """A first msgid taken from the clock (10 µs ticks), so a restarted sandbox does not reuse the msgids a
    development database still remembers from the previous run."""
    return int(time.time() * 100_000) % 10**12


class SendDesk:
    """Answer send requests as the provider would, with the faults in force; thread-safe."""

    def __init__(
        self,
        *,
        account: Account,
        faults: FaultBox,
        log: SandboxLog,
        delivery: ReportDelivery,
        report_url: str | None,
        first_msgid: int,
        seed: int | None = None,
    ) -> None:
        self._account = account
        self._faults = faults
        self._log = log
        self._delivery = delivery
        self.report_url = report_url
        self._msgids = itertools.count(first_msgid)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def handle(self, method: str, fields: Mapping[str, bytes]) -> bytes | None:
        """The XML reply to one send request, or ``None`` when the connection is to be dropped unanswered."""
        verdict = self._decide(fields)
        faults = self._faults.current()
        result = self._result(verdict)
        self._record(method, fields, verdict, result, answered=not faults.drop_after_read)
        if isinstance(verdict, Accepted) and result.msgid is not None and verdict.report_req:
            self._send_reports(verdict, result.msgid, faults)
        if faults.latency_s:
            time.sleep(faults.latency_s)
        return None if faults.drop_after_read else _reply(fields, result, faults)

    def _decide(self, fields: Mapping[str, bytes]) -> Accepted | Refusal:
        scripted = self._faults.take_scripted()
        if scripted is not None and scripted != ACCEPTED:
            return Refusal(scripted, "fault: scripted")
        faults = self._faults.current()
        if faults.force_code is not None and faults.force_code != ACCEPTED:
            return Refusal(faults.force_code, "fault: forced")
        if not self._faults.admit(time.monotonic()):
            return Refusal("R009", f"fault: above capacity of {faults.capacity_per_s} per second")
        verdict = check(fields, self._account)
        configured = faults.code_for_to.get(fields.get("to", b"").decode("latin-1"), ACCEPTED)
        if isinstance(verdict, Accepted) and configured != ACCEPTED:
            return Refusal(configured, "fault: code for this recipient")
        return verdict

    def _result(self, verdict: Accepted | Refusal) -> MessageResult:
        if isinstance(verdict, Refusal):
            return MessageResult(verdict.err_code)
        with self._lock:
            msgid = f"{next(self._msgids):0{MSGID_DIGITS}d}"
        return MessageResult(ACCEPTED, msgid=msgid, msg_type=msg_type(verdict))

    def _record(
        self,
        method: str,
        fields: Mapping[str, bytes],
        verdict: Accepted | Refusal,
        result: MessageResult,
        *,
        answered: bool,
    ) -> None:
        self._log.add_send(
            method=method,
            fields=readable(fields, _charset(fields)),
            err_code=result.err_code,
            reason=verdict.reason if isinstance(verdict, Refusal) else "",
            msgid=result.msgid,
            msg_type=result.msg_type,
            answered=answered,
        )

    def _send_reports(self, accepted: Accepted, msgid: str, faults: Faults) -> None:
        with self._lock:
            err_code = choose_code(faults.report_codes, self._rng)
        if not accepted.convertible:
            err_code = CHARSET_CONVERSION_ERROR
        sent_at = datetime.now(KST) + timedelta(seconds=faults.report_delay_s)
        final = final_report(accepted, msgid=msgid, err_code=err_code, sent_at=sent_at)
        for planned in plan_reports(final, faults):
            job = ReportJob(planned.report, self.report_url)
            if faults.report_before_reply:
                self._delivery.deliver_now(job)
            else:
                self._delivery.schedule(job, planned.delay_s)


def _charset(fields: Mapping[str, bytes]) -> str:
    return CHARSETS.get(fields.get("charset", b"").decode("latin-1"), "utf-8")


def _echo(fields: Mapping[str, bytes], name: str) -> str:
    return fields.get(name, b"").decode("utf-8", errors="replace")


def _reply(fields: Mapping[str, bytes], result: MessageResult, faults: Faults) -> bytes:
    """The provider's XML, echoing to_country, to and ref as they came."""
    return render_submit_reply(
        to_country=_echo(fields, "to_country"),
        to=_echo(fields, "to"),
        results=[result],
        ref=_echo(fields, "ref") or None,
        typographic_quotes=faults.typographic_quotes,
    )
