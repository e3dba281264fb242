"""A local stand-in for Infobank SuperSMS: the provider's send endpoint and report callbacks, with faults.

For development, demos and tests: ``with Sandbox(report_url=...) as sandbox: ...`` in-process, or
``supersms sandbox --port 8800 --report-url ...`` from the shell. See :class:`Sandbox` and :class:`Faults`.
"""

from supersms.sandbox.faults import FaultError, Faults
from supersms.sandbox.log import ReportEntry, SandboxLog, SendEntry
from supersms.sandbox.rules import Account
from supersms.sandbox.service import Sandbox

__all__ = ["Account", "FaultError", "Faults", "ReportEntry", "Sandbox", "SandboxLog", "SendEntry"]
