"""A Celery request class that masks task arguments in the worker's events and ``inspect`` replies."""

from __future__ import annotations

from typing import Any

from celery.worker.request import Request

from supersms.workers.masking import masked_repr


class MaskedRequest(Request):  # type: ignore[misc]
    """Shows ``supersms.send`` arguments masked however the producer published them (celery#6086)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._argsrepr = "()"
        self._kwargsrepr = masked_repr(self.kwargs if isinstance(self.kwargs, dict) else {})

    def info(self, safe: bool = False) -> dict[str, Any]:
        """What ``celery inspect active/reserved/scheduled`` shows: always the masked reprs, never the arguments."""
        return dict(super().info(safe=True))

    @property
    def argsrepr(self) -> str:
        return str(self._argsrepr)

    @property
    def kwargsrepr(self) -> str:
        return str(self._kwargsrepr)
