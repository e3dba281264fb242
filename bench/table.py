"""Figures and the plain-text tables they are printed in (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """What a figure should reach: bounds on ours / baseline, or on ours alone. ``text`` is how it reads."""

    text: str
    min_ratio: float | None = None
    max_ratio: float | None = None
    max_value: float | None = None

    def met(self, ours: float, ratio: float | None) -> bool:
        if math.isnan(ours):
            return False
        checks = []
        if self.min_ratio is not None:
            checks.append(ratio is not None and ratio >= self.min_ratio)
        if self.max_ratio is not None:
            checks.append(ratio is not None and ratio <= self.max_ratio)
        if self.max_value is not None:
            checks.append(ours <= self.max_value)
        return all(checks)


@dataclass(frozen=True)
class Figure:
    """One measured figure: ours, the baseline measured in the same run (if any), and the target."""

    name: str
    ours: float
    unit: str
    baseline: float | None = None
    target: Target | None = None

    @property
    def ratio(self) -> float | None:
        """ours / baseline."""
        if self.baseline is None or not self.baseline or math.isnan(self.baseline):
            return None
        return self.ours / self.baseline

    def cells(self) -> list[str]:
        ratio = self.ratio
        met = "—" if self.target is None else ("yes" if self.target.met(self.ours, ratio) else "NO")
        return [
            self.name,
            f"{number(self.ours)} {self.unit}".strip(),
            "—" if self.baseline is None else f"{number(self.baseline)} {self.unit}".strip(),
            "—" if ratio is None else f"{ratio:.2f}",
            "—" if self.target is None else self.target.text,
            met,
        ]


@dataclass
class Result:
    """What one benchmark prints: its figures, then detail tables and notes."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


FIGURE_HEADERS = ("figure", "ours", "baseline", "ratio", "target", "met?")


def number(value: float) -> str:
    """A figure at a sensible precision: 12,345 · 123 · 12.3 · 1.23 · 0.123."""
    if math.isnan(value):
        return "n/a"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def render(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table with a header line and a rule, columns as wide as their widest cell."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in rows)])


def render_figures(figures: Sequence[Figure]) -> str:
    """The figure table: figure, ours, baseline, ratio (ours / baseline), target, met?"""
    return render(FIGURE_HEADERS, [figure.cells() for figure in figures])


def render_result(result: Result) -> str:
    """A benchmark's block: its title, its figures, its details."""
    parts = [f"== {result.title} ==", render_figures(result.figures) if result.figures else "(no figures)"]
    return "\n\n".join([*parts, *result.details])
