"""Calling reports back as the provider does: a GET to the client's receiver, checked, retried 3 more times.

An attempt counts only when the receiver answers HTTP 200 with a ``report_response`` that echoes the report's
msgid, to_country and to. Anything else (refused connection, timeout, another status, unreadable or mismatched
XML) is retried after ``report_retry_delay_s``; after the last retry the report is dropped for good.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import requests

from supersms.errors import MalformedReply
from supersms.protocol.reports import Report, parse_report_response
from supersms.sandbox.log import SandboxLog
from supersms.sandbox.scheduler import Scheduler

RETRIES = 3
DEFAULT_TIMEOUT_S = (2.0, 5.0)  # (connect, read)
DEFAULT_WORKERS = 4
OK = "ok"
USER_AGENT = "supersms-sandbox"


@dataclass(frozen=True)
class ReportJob:
    """One report on its way to ``url``; ``attempt`` counts from 1."""

    report: Report
    url: str | None
    attempt: int = 1


def target(url: str, report: Report) -> str:
    """The receiver's URL with the report's query appended."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{report.to_query()}"


def judge(response: requests.Response, report: Report) -> str:
    """``"ok"`` when the receiver's answer acknowledges ``report``, else why it does not."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    try:
        echoed = parse_report_response(response.content)
    except MalformedReply as error:
        return f"unreadable report_response: {error}"
    if echoed != (report.msgid, report.to_country, report.to):
        return "report_response does not echo msgid, to_country, to"
    return OK


class ReportDelivery:
    """Deliver reports on a few worker threads (a keep-alive ``requests.Session`` each); log each attempt."""

    def __init__(
        self,
        *,
        log: SandboxLog,
        retry_delay_s: Callable[[], float],
        retries: int = RETRIES,
        timeout_s: tuple[float, float] = DEFAULT_TIMEOUT_S,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self._log = log
        self._retry_delay_s = retry_delay_s
        self._retries = retries
        self._timeout_s = timeout_s
        self._scheduler = Scheduler(workers=workers, name="sandbox-reports")
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    def start(self) -> None:
        """Start the delivery workers."""
        self._scheduler.start()

    def stop(self) -> None:
        """Drop reports not yet due, finish the ones in flight, close the sessions."""
        self._scheduler.stop()
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def schedule(self, job: ReportJob, delay_s: float) -> None:
        """Deliver ``job`` on a worker after ``delay_s``."""
        self._scheduler.call_later(delay_s, lambda: self._deliver(job, self._session()))

    def deliver_now(self, job: ReportJob) -> None:
        """Make the first attempt in the calling thread (its own connection); retries go to the workers."""
        with _new_session() as session:
            self._deliver(job, session)

    def _deliver(self, job: ReportJob, session: requests.Session) -> None:
        outcome = self._attempt(job, session)
        gave_up = outcome != OK and job.attempt > self._retries
        self._log.add_report(
            msgid=job.report.msgid,
            attempt=job.attempt,
            query=job.report.to_query(),
            err_code=job.report.err_code,
            rslt_type=job.report.rslt_type.value,
            outcome=outcome,
            gave_up=gave_up or job.url is None,
        )
        if outcome != OK and not gave_up and job.url is not None:
            self.schedule(replace(job, attempt=job.attempt + 1), self._retry_delay_s())

    def clear(self) -> None:
        """Forget the reports (and retries) not yet due."""
        self._scheduler.clear()

    def pending(self) -> int:
        """Reports (and retries) waiting for their time."""
        return self._scheduler.pending()

    def _attempt(self, job: ReportJob, session: requests.Session) -> str:
        if job.url is None:
            return "not sent: no report url"
        try:
            response = session.get(target(job.url, job.report), timeout=self._timeout_s)
        except requests.RequestException as error:
            return f"connection failed: {type(error).__name__}"
        with response:
            return judge(response, job.report)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = _new_session()
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session


def _new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.trust_env = False  # the provider calls the receiver directly: no proxy from the environment
    return session
