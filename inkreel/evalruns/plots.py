"""The evaluation report's small plots, drawn on matplotlib's Agg canvas as PNG data URIs.

A PNG data URI rather than inline SVG: matplotlib's SVG names its XML namespaces by URL, and
the report keeps no URL at all, so that it plainly opens from disk with nothing to fetch.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# matplotlib's tab10, so that a column has the same colour in every plot of the report.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
DPI = 110
PANELS_PER_ROW = 4
ARROWS = {"higher": "↑ better", "lower": "↓ better", "info": "info"}


def colour(index: int) -> str:
    """The colour of the report's column `index`."""
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True)
class Panel:
    """One metric's scores: a list of values per column, in column order."""

    title: str
    better: str  # "higher", "lower" or "info"
    values: Sequence[Sequence[float]]


def score_distributions(panels: Sequence[Panel], columns: Sequence[str]) -> str:
    """Box and strip plots of each metric's scores per column, as one figure."""
    per_row = max(1, min(PANELS_PER_ROW, len(panels)))
    rows = max(1, math.ceil(len(panels) / per_row))
    width = max(2.4, 0.55 * len(columns) + 1.2)
    fig = Figure(figsize=(per_row * width, rows * 2.6), layout="constrained")
    axes = fig.subplots(rows, per_row, squeeze=False)
    jitter = np.random.default_rng(0)  # the same page for the same runs
    positions = list(range(1, len(columns) + 1))
    for index, ax in enumerate(axes.flat):
        if index >= len(panels):
            ax.set_visible(False)
            continue
        panel = panels[index]
        filled = [(p, list(v)) for p, v in zip(positions, panel.values, strict=True) if v]
        if filled:
            ax.boxplot(
                [v for _, v in filled],
                positions=[p for p, _ in filled],
                widths=0.55,
                showfliers=False,
                manage_ticks=False,
                medianprops={"color": "#333333"},
                boxprops={"color": "#999999"},
                whiskerprops={"color": "#999999"},
                capprops={"color": "#999999"},
            )
        for column, values in enumerate(panel.values):
            xs = column + 1 + jitter.uniform(-0.14, 0.14, len(values))
            ax.scatter(xs, values, s=12, color=colour(column), alpha=0.85, zorder=3)
        ax.set_xlim(0.4, len(columns) + 0.6)
        ax.set_xticks(positions, list(columns), rotation=30, ha="right", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(f"{panel.title} ({ARROWS.get(panel.better, panel.better)})", fontsize=8)
        ax.grid(axis="y", color="#eeeeee")
    return _data_uri(fig)


def cost_quality(series: Sequence[tuple[str, Sequence[tuple[float, float]]]]) -> str:
    """Each column's items as (cost, quality) points, with the column's mean as a diamond."""
    fig = Figure(figsize=(6.0, 3.8), layout="constrained")
    ax = fig.subplots()
    for index, (label, points) in enumerate(series):
        if not points:
            continue
        xs = [x for x, _ in points]
        ys = [y for _, y in points]
        ax.scatter(xs, ys, s=16, color=colour(index), alpha=0.55, label=label)
        ax.scatter(
            [float(np.mean(xs))],
            [float(np.mean(ys))],
            s=80,
            marker="D",
            color=colour(index),
            edgecolors="#222222",
            zorder=4,
        )
    ax.set_xlabel("cost per item (USD)", fontsize=8)
    ax.set_ylabel("quality (0 = worst, 1 = best)", fontsize=8)
    ax.set_ylim(-0.05, 1.05)
    ax.tick_params(labelsize=7)
    ax.grid(color="#eeeeee")
    if any(points for _, points in series):
        ax.legend(fontsize=7, loc="best")
    return _data_uri(fig)


def _data_uri(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
