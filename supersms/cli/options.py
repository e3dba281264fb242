"""argparse types the commands share: a bad value is refused with its rule, which prints as one line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

N = TypeVar("N", int, float)


def in_range(kind: Callable[[str], N], low: N, high: N | None = None) -> Callable[[str], N]:
    """An argparse ``type``: a ``kind`` (``int`` or ``float``) from ``low`` to ``high`` (no ceiling if None)."""
    noun = "an integer" if kind is int else "a number"
    bounds = f"{low:g}-{high:g}" if high is not None else f">= {low:g}"
    rule = f"must be {noun} {bounds}"

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{rule}, got {text!r}") from None
        if not (low <= value and (high is None or value <= high)):  # NaN fails every comparison
            raise argparse.ArgumentTypeError(f"{rule}, got {text!r}")
        return value

    return parse


PORT = in_range(int, 1, 65535)
