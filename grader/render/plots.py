"""The class report's plots, drawn with matplotlib and returned as SVG text.

Figures are made with ``matplotlib.figure.Figure`` directly (no ``pyplot``: no global
figure registry, no GUI backend; saving as SVG uses matplotlib's own SVG writer), and
saved without a date and with a fixed hash salt, so the same class gives the same bytes.
Only ``grader report`` imports this module: matplotlib is not on ``grade``'s way.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from grader.stats.table import OUTCOMES

COLOURS = {
    "right": "#2e7d32",
    "partial": "#f9a825",
    "ecf": "#1565c0",
    "wrong": "#c62828",
    "missing": "#9e9e9e",
    "unreadable": "#6a1b9a",
}
"""One colour per outcome (told apart also without colour vision: they differ in
lightness, and each bar's legend order is the bars' order)."""

WEAK_DISCRIMINATION = 0.2
"""Below this an answer tells strong students from weak ones poorly (a common rule of
thumb of item analysis); such bars are drawn in the warning colour."""

_SETTINGS: dict[RcKeyType, Any] = {
    "svg.hashsalt": "grader-report",
    "svg.fonttype": "path",
    "font.size": 9.0,
}


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(_SETTINGS):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def histogram_svg(histogram: pd.DataFrame, max_score: float) -> str:
    """Students per band of the total (``score_histogram``'s table)."""
    with matplotlib.rc_context(_SETTINGS):
        figure = Figure(figsize=(6.4, 2.8))
        axes = figure.add_subplot()
        widths = histogram["high"] - histogram["low"]
        axes.bar(
            histogram["low"],
            histogram["students"],
            width=widths,
            align="edge",
            color="#1565c0",
            edgecolor="white",
        )
        axes.set_xlim(0, max_score if max_score > 0 else 1)
        axes.set_xlabel("total points")
        axes.set_ylabel("students")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def outcomes_svg(analysis: pd.DataFrame) -> str:
    """Per answer id, one bar split into the shares of each outcome."""
    answer_ids = [str(answer_id) for answer_id in analysis.index]
    with matplotlib.rc_context(_SETTINGS):
        figure = Figure(figsize=(6.4, 0.9 + 0.3 * len(answer_ids)))
        axes = figure.add_subplot()
        positions = range(len(answer_ids))
        left = pd.Series(0.0, index=analysis.index)
        for name in OUTCOMES:
            share = analysis[name] * 100
            axes.barh(positions, share, left=left, color=COLOURS[name], label=name, height=0.75)
            left = left + share
        axes.set_yticks(list(positions), answer_ids)
        axes.invert_yaxis()  # the rubric's first answer on top
        axes.set_xlim(0, 100)
        axes.set_xlabel("% of the class")
        axes.legend(
            ncols=len(OUTCOMES), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False
        )
        axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def discrimination_svg(analysis: pd.DataFrame) -> str:
    """Per answer id, the discrimination index, weak ones in the warning colour."""
    answer_ids = [str(answer_id) for answer_id in analysis.index]
    values = analysis["discrimination"]
    colours = ["#c62828" if value < WEAK_DISCRIMINATION else "#2e7d32" for value in values]
    with matplotlib.rc_context(_SETTINGS):
        figure = Figure(figsize=(6.4, 0.7 + 0.3 * len(answer_ids)))
        axes = figure.add_subplot()
        positions = range(len(answer_ids))
        axes.barh(positions, values, color=colours, height=0.75)
        axes.axvline(0, color="black", linewidth=0.8)
        axes.axvline(WEAK_DISCRIMINATION, color="#9e9e9e", linewidth=0.8, linestyle="--")
        axes.set_yticks(list(positions), answer_ids)
        axes.invert_yaxis()
        axes.set_xlim(-1, 1)
        axes.set_xlabel("discrimination (item–rest correlation)")
        axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)
