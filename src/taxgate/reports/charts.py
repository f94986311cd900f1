"""Chart geometry for inline SVG: pure numbers, drawn by the report template.

Two shapes: horizontal bar charts (one labelled bar per category) and a histogram of
values in [0, 1]. Coordinates are in SVG user units; the template scales them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    """One bar: its label, count and rectangle."""

    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    """An axis tick at ``position`` labelled ``label``."""

    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    """A whole chart: its size, bars, axis ticks, plot area edges and the value scale's top."""

    width: float
    height: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    plot_left: float
    plot_bottom: float
    scale_max: int


def nice_scale(value: int, intervals: int = 5) -> tuple[int, int]:
    """A round axis for counts up to ``value``: ``(top, step)`` with at most ``intervals`` steps.

    The step is a whole 1, 2, 2.5 or 5 times a power of ten; the top is the first multiple
    of the step at or above ``value`` (at least one step).

    Example:
        >>> nice_scale(22318), nice_scale(92), nice_scale(3), nice_scale(0)
        ((25000, 5000), (100, 20), (3, 1), (1, 1))
    """
    value = max(value, 1)
    power = 1
    while True:
        for mantissa in (1.0, 2.0, 2.5, 5.0):
            step = mantissa * power
            if step.is_integer() and step * intervals >= value:
                whole = int(step)
                return whole * -(-value // whole), whole
        power *= 10


def bar_chart(
    items: Sequence[tuple[str, int]],
    *,
    width: float = 640,
    label_width: float = 180,
    row_height: float = 22,
    gap: float = 6,
) -> Chart:
    """Horizontal bars, one per ``(label, value)``, scaled to the largest value.

    Example:
        >>> chart = bar_chart([("A", 2), ("B", 1)], width=300, label_width=100)
        >>> [round(b.width) for b in chart.bars]
        [160, 80]
    """
    plot = width - label_width - 40
    top = 4.0
    scale_max, scale_step = nice_scale(max((v for _, v in items), default=0))
    bars = tuple(
        Bar(
            label=label,
            value=value,
            x=label_width,
            y=top + i * (row_height + gap),
            width=plot * max(value, 0) / scale_max,
            height=row_height,
        )
        for i, (label, value) in enumerate(items)
    )
    bottom = top + len(items) * (row_height + gap)
    ticks = tuple(
        Tick(label_width + plot * k / scale_max, str(k))
        for k in range(0, scale_max + 1, scale_step)
    )
    return Chart(width, bottom + 20, bars, ticks, label_width, bottom, scale_max)


def histogram(
    values: Sequence[float],
    *,
    bins: int = 20,
    width: float = 640,
    height: float = 200,
) -> Chart:
    """Counts of ``values`` in ``bins`` equal bins over [0, 1] (values outside are clipped).

    Bars stand on the x axis; each bar's label is its bin, e.g. ``0.95-1.00``.

    Example:
        >>> [b.value for b in histogram([0.0, 0.5, 0.99, 1.0], bins=2).bars]
        [1, 3]
    """
    counts = [0] * bins
    for value in values:
        index = min(bins - 1, max(0, math.floor(value * bins)))
        counts[index] += 1
    left, bottom, top = 56.0, height - 24, 8.0
    plot_w, plot_h = width - left - 20, bottom - top
    scale_max, _ = nice_scale(max(counts, default=0))
    step = plot_w / bins
    bars = tuple(
        Bar(
            label=f"{i / bins:.2f}-{(i + 1) / bins:.2f}",
            value=count,
            x=left + i * step + 1,
            y=bottom - plot_h * count / scale_max,
            width=step - 2,
            height=plot_h * count / scale_max,
        )
        for i, count in enumerate(counts)
    )
    ticks = tuple(Tick(left + plot_w * k / 4, f"{k / 4:.2f}") for k in range(5))
    return Chart(width, height, bars, ticks, left, bottom, scale_max)
