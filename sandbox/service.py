"""The sandbox as one object: a local stand-in for Infobank SuperSMS, started and stopped in-process."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from supersms.sandbox.admin import Admin
from supersms.sandbox.delivery import DEFAULT_TIMEOUT_S, DEFAULT_WORKERS, RETRIES, ReportDelivery
from supersms.sandbox.desk import SendDesk, clock_msgid_start
from supersms.sandbox.faultbox import FaultBox
from supersms.sandbox.faults import Faults
from supersms.sandbox.log import MAX_ENTRIES, SandboxLog
from supersms.sandbox.rules import Account
from supersms.sandbox.server import SandboxServer

SEND_PATH = "/sms/xml"
POLL_INTERVAL_S = 0.05


class Sandbox:
    """A real HTTP server that answers like the provider and calls reports back to ``report_url``.

    ``port=0`` picks a free port; :attr:`url` is the send endpoint to give a client. Use it as a context
    manager or call :meth:`start` and :meth:`stop`. :attr:`log` records every request and report attempt.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account: Account | None = None,
        report_url: str | None = None,
        faults: Faults | None = None,
        first_msgid: int | None = None,
        seed: int | None = None,
        report_retries: int = RETRIES,
        report_timeout_s: tuple[float, float] = DEFAULT_TIMEOUT_S,
        report_workers: int = DEFAULT_WORKERS,
        max_log_entries: int = MAX_ENTRIES,
    ) -> None:
        self.log = SandboxLog(max_entries=max_log_entries)
        self._faults = FaultBox(faults or Faults())
        self._delivery = ReportDelivery(
            log=self.log,
            retry_delay_s=lambda: self._faults.current().report_retry_delay_s,
            retries=report_retries,
            timeout_s=report_timeout_s,
            workers=report_workers,
        )
        self._desk = SendDesk(
            account=account or Account(),
            faults=self._faults,
            log=self.log,
            delivery=self._delivery,
            report_url=report_url,
            first_msgid=clock_msgid_start() if first_msgid is None else first_msgid,
            seed=seed,
        )
        self._admin = Admin(faults=self._faults, log=self.log, delivery=self._delivery)
        self._address = (host, port)
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        host, port = self._bound()
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The send endpoint, ``http://host:port/sms/xml``."""
        return self.base_url + SEND_PATH

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._bound()[1]

    @property
    def open_connections(self) -> int:
        """How many client connections are open now: a client's keep-alive pool, as the provider sees it."""
        return 0 if self._server is None else self._server.open_connections

    @property
    def report_url(self) -> str | None:
        """Where reports are delivered (``None``: nowhere; attempts are logged as not sent)."""
        return self._desk.report_url

    @report_url.setter
    def report_url(self, url: str | None) -> None:
        self._desk.report_url = url

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._faults.current()

    def set_faults(self, **changes: Any) -> Faults:
        """Change some faults while running (validated; raises ``FaultError`` naming a bad field)."""
        return self._faults.update(changes)

    def reset(self) -> Faults:
        """Clear the log and pending reports; restore the starting faults."""
        return self._admin.reset_all()

    def start(self) -> Sandbox:
        """Bind, and serve on a background thread."""
        self._server = SandboxServer(self._address, desk=self._desk, admin=self._admin)
        self._delivery.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL_S},
            name="sandbox-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections, drop reports not yet delivered."""
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
        self._delivery.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _bound(self) -> tuple[str, int]:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)
