"""The sandbox's own HTTP endpoints under ``/_sandbox/``: read and change faults, read the log, reset.

- ``GET /_sandbox/faults``: the faults in force, a JSON object (the fields of :class:`Faults`).
- ``POST /_sandbox/faults`` with a JSON object of fields to change: the faults now in force, or ``400`` with
  ``{"error": "field: rule"}``.
- ``GET /_sandbox/log?since=N&limit=M``: ``{"entries": [...], "next": N2}``; pass ``next`` as ``since`` to
  read on.
- ``POST /_sandbox/reset``: clears the log and the pending reports, restores the starting faults.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from supersms.sandbox.delivery import ReportDelivery
from supersms.sandbox.faultbox import FaultBox
from supersms.sandbox.faults import FaultError, Faults
from supersms.sandbox.log import SandboxLog

DEFAULT_PAGE = 10_000
MAX_PAGE = 100_000

Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Admin:
    """The state the endpoints read and change."""

    faults: FaultBox
    log: SandboxLog
    delivery: ReportDelivery

    def route(self, method: str, path: str) -> Callable[[str, bytes], Answer] | None:
        """The endpoint for ``method`` and ``path``, or ``None``."""
        routes: dict[tuple[str, str], Callable[[str, bytes], Answer]] = {
            ("GET", "/_sandbox/faults"): self.read_faults,
            ("POST", "/_sandbox/faults"): self.change_faults,
            ("GET", "/_sandbox/log"): self.read_log,
            ("POST", "/_sandbox/reset"): self.reset,
        }
        return routes.get((method, path))

    def read_faults(self, query: str, body: bytes) -> Answer:
        """The faults in force."""
        return 200, self.faults.current().to_json()

    def change_faults(self, query: str, body: bytes) -> Answer:
        """Merge the JSON object in ``body`` into the faults."""
        try:
            changes = json.loads(body or b"{}")
        except ValueError:
            return 400, {"error": "body: must be a JSON object"}
        if not isinstance(changes, dict):
            return 400, {"error": "body: must be a JSON object"}
        try:
            return 200, self.faults.update(changes).to_json()
        except FaultError as error:
            return 400, {"error": str(error)}

    def read_log(self, query: str, body: bytes) -> Answer:
        """One page of the log from ``since`` (default 0), at most ``limit`` entries."""
        params = parse_qs(query)
        try:
            since = int(params.get("since", ["0"])[0])
            limit = min(int(params.get("limit", [str(DEFAULT_PAGE)])[0]), MAX_PAGE)
        except ValueError:
            return 400, {"error": "since, limit: must be whole numbers"}
        entries, following = self.log.page(since=max(since, 0), limit=max(limit, 0))
        return 200, {"entries": [entry.to_json() for entry in entries], "next": following}

    def reset(self, query: str, body: bytes) -> Answer:
        """Clear the log and the pending reports; restore the faults the sandbox started with."""
        return 200, {"faults": self.reset_all().to_json()}

    def reset_all(self) -> Faults:
        """Clear the log and the pending reports; restore and return the starting faults."""
        self.delivery.clear()
        self.log.clear()
        return self.faults.reset()
