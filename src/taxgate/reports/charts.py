"""Charts for the reports, drawn by matplotlib and embedded as inline SVG.

Each function takes plain numbers and returns one ``<svg>`` element (no XML prologue, no
external reference, text kept as text so it can be read and searched), with a title,
axis titles and units. Labels are drawn literally: no mathtext, and matplotlib escapes
them for XML, so a hostile agency code or statute cannot inject markup.

The binning behind the histogram is pure and tested on its own (:func:`bin_counts`).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

_RC: dict[Any, Any] = {
    "svg.fonttype": "none",  # text stays text
    "svg.hashsalt": "taxgate",  # stable ids: the same data gives the same bytes
    "text.parse_math": False,  # a `$` in a label is a dollar sign
    "font.size": 10,
    "font.family": "DejaVu Sans",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
COLORS = {
    "blue": "#2f6690",
    "red": "#b5523b",
    "green": "#3a7d44",
    "amber": "#b7802b",
    "grey": "#6b6b6b",
}
_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.S)
_MAX_LABEL = 32


def _label(text: str) -> str:
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


#: Width of one character of a 10 pt label, in inches (DejaVu Sans averages about 0.55 em).
_CHAR_IN = 0.078


def _frame(
    fig: Figure, *, left: float, right: float = 0.3, top: float = 0.42, bottom: float = 0.58
) -> None:
    """Place the axes with margins given in inches.

    Margins are computed from what the margins hold (the longest label, a legend) instead of
    by matplotlib's constrained layout, which measured every text several times over and took
    half of the time a batch's report spent drawing.
    """
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=min(left / width, 0.6),
        right=max(1 - right / width, 0.65),
        top=max(1 - top / height, 0.35),
        bottom=min(bottom / height, 0.45),
    )


def _svg(fig: Figure, description: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "taxgate"})
    svg = _PROLOGUE.sub("", buf.getvalue(), count=1)
    aria = (
        description.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )
    return svg.replace("<svg ", f'<svg role="img" aria-label="{aria}" class="chart" ', 1)


def bar_chart(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    xlabel: str,
    color: str = "blue",
) -> str:
    """Horizontal bars, one per ``(label, count)``, largest first as given, values printed.

    Example:
        >>> svg = bar_chart([("DISCLOSED", 3), ("REJECTED", 1)], title="t", xlabel="requests")
        >>> svg.startswith("<svg") and "DISCLOSED" in svg and "requests" in svg
        True
    """
    with matplotlib.rc_context(_RC):
        height = 1.1 + 0.32 * max(len(items), 1)
        fig = Figure(figsize=(7.2, height))
        ax = fig.add_subplot()
        labels = [_label(k) for k, _ in items][::-1]
        _frame(fig, left=0.25 + _CHAR_IN * max([len(x) for x in labels] or [4]), right=0.45)
        values = [v for _, v in items][::-1]
        bars = ax.barh(labels, values, color=COLORS.get(color, color), height=0.66)
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=3, fontsize=9)
        ax.set_title(title, loc="left", fontweight="bold")
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_xlim(0, max([*values, 1]) * 1.12)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        if not items:
            ax.text(0.5, 0.5, "none", transform=ax.transAxes, ha="center", color="#666666")
        return _svg(fig, title)


def bin_counts(values: Sequence[float], bins: int) -> list[int]:
    """Counts of ``values`` in ``bins`` equal bins over [0, 1]; values outside are clipped.

    Example:
        >>> bin_counts([0.0, 0.5, 0.99, 1.0, 7.0, -1.0], 2)
        [2, 4]
    """
    counts = [0] * bins
    for value in values:
        if not math.isfinite(value):
            continue
        counts[min(bins - 1, max(0, math.floor(value * bins)))] += 1
    return counts


def histogram(
    values: Sequence[float],
    *,
    thresholds: Mapping[str, float],
    title: str,
    xlabel: str,
    ylabel: str,
    bins: int = 20,
) -> str:
    """A histogram over [0, 1] with a dashed vertical mark and a label at each threshold.

    Args:
        values: the values (clipped to [0, 1]).
        thresholds: label -> position of a mark, e.g. ``{"disclose at 0.999": 0.999}``.
        title, xlabel, ylabel: the chart's title and axis titles (with units).
        bins: equal bins over [0, 1].
    """
    counts = bin_counts(values, bins)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.2, 3.4))
        ax = fig.add_subplot()
        _frame(fig, left=0.5 + _CHAR_IN * len(f"{max([*counts, 1]):,}"))
        edges = [i / bins for i in range(bins)]
        ax.bar(
            edges, counts, width=1 / bins, align="edge", color=COLORS["green"], edgecolor="white"
        )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, max([*counts, 1]) * 1.18)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_title(title, loc="left", fontweight="bold")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        palette = [COLORS["red"], COLORS["amber"], COLORS["blue"], COLORS["grey"]]
        for i, (name, at) in enumerate(sorted(thresholds.items(), key=lambda kv: kv[1])):
            color = palette[i % len(palette)]
            ax.axvline(at, color=color, linestyle="--", linewidth=1.2)
            ax.text(
                at,
                1.0 - 0.09 * i,
                f" {name} ",
                transform=ax.get_xaxis_transform(),
                ha="right" if at > 0.5 else "left",
                va="top",
                color=color,
                fontsize=9,
            )
        return _svg(fig, title)


def monthly_chart(
    months: Sequence[str],
    series: Mapping[str, Sequence[int]],
    *,
    title: str,
    ylabel: str,
) -> str:
    """Grouped columns per month (``YYYY-MM``), one colour per series, with a legend."""
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.2, 3.2))
        ax = fig.add_subplot()
        names = list(series)
        peak = max([v for values in series.values() for v in values] or [1])
        _frame(
            fig,
            left=0.5 + _CHAR_IN * len(f"{peak:,}"),
            right=0.45 + _CHAR_IN * max([len(n) for n in names] or [0]) if names else 0.3,
            bottom=1.0 if len(months) > 8 else 0.58,
        )
        width = 0.8 / max(len(names), 1)
        palette = [COLORS["blue"], COLORS["green"], COLORS["red"], COLORS["amber"]]
        for i, name in enumerate(names):
            xs = [x + (i - (len(names) - 1) / 2) * width for x in range(len(months))]
            ax.bar(xs, list(series[name]), width=width, label=name, color=palette[i % 4])
        ax.set_xticks(range(len(months)), [_label(m) for m in months])
        if len(months) > 8:
            ax.tick_params(axis="x", labelrotation=45)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_title(title, loc="left", fontweight="bold")
        ax.set_xlabel("month received (UTC)")
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        if names:
            ax.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        if not months:
            ax.text(0.5, 0.5, "none", transform=ax.transAxes, ha="center", color="#666666")
        return _svg(fig, title)
