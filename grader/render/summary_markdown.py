"""``summary.md``: what ``grade`` prints about a class, with the spread of the totals, a
histogram of them and the item analysis, as Markdown; and ``items.csv``, the item
analysis as a table."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import pandas as pd

from grader.intake.identity import visible
from grader.render.feedback import markdown_text
from grader.render.gradebook import csv_text, number, safe_text
from grader.stats.items import ANALYSIS_COLUMNS, ScoreStatistics
from grader.stats.table import OUTCOMES

BAR_WIDTH = 40
"""Characters of the histogram's longest bar."""


def _figure(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def render_summary_markdown(
    title: str,
    statistics: ScoreStatistics,
    histogram: pd.DataFrame,
    analysis: pd.DataFrame,
    mistakes: pd.DataFrame,
    *,
    unreadable: Sequence[str] = (),
    conflicts: Sequence[str] = (),
    resubmissions: Sequence[str] = (),
) -> str:
    """The class summary as Markdown. ``mistakes``: ``diagnosis_table``'s rows."""
    s = statistics
    lines = [
        f"# {markdown_text(title)} — class summary",
        "",
        "| students | unreadable | mean | median | sd | min | max | out of |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {s.students} | {s.unreadable} | {_figure(s.mean)} | {_figure(s.median)} | "
        f"{_figure(s.sd)} | {_figure(s.minimum)} | {_figure(s.maximum)} | {s.max_score:g} |",
        "",
        "sd is the sample standard deviation; every figure is over all students, a file "
        "that could not be read counting 0.",
        "",
        "## Totals",
        "",
        "| points | students | |",
        "|---|---:|---|",
    ]
    counts = [int(n) for n in histogram["students"].tolist()]
    most = max(counts, default=0)
    bands = zip(histogram["low"].tolist(), histogram["high"].tolist(), counts, strict=True)
    for n, (low, high, students) in enumerate(bands):
        bracket = "]" if n == len(counts) - 1 else ")"
        bar = "█" * math.ceil(BAR_WIDTH * students / most) if most else ""
        lines.append(f"| [{low:g}, {high:g}{bracket} | {students} | {bar} |")
    lines += [
        "",
        "## Answers",
        "",
        "Shares of the class: right outright, partly right, right given the student's own "
        "earlier answers (ecf), wrong, missing, unreadable. Discrimination: the correlation "
        "of the answer's points with the rest of the total (0 when either is constant).",
        "",
        "| answer | points | mean | right | partial | ecf | wrong | missing | unreadable "
        "| discrimination | mistakes seen |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    seen = {
        str(answer_id): ", ".join(
            f"{code} ×{count}" for code, count in zip(rows["code"], rows["count"], strict=True)
        )
        for answer_id, rows in mistakes.groupby("answer_id", sort=False)
    }
    for answer_id, row in analysis.iterrows():
        shares = " | ".join(f"{100 * row[name]:.0f}%" for name in OUTCOMES)
        lines.append(
            f"| `{answer_id}` | {row['points']:g} | {row['mean_score']:.2f} | {shares} | "
            f"{row['discrimination']:.2f} | {seen.get(str(answer_id), '')} |"
        )
    if unreadable:
        lines += ["", f"## {len(unreadable)} submission(s) could not be read", ""]
        lines += _verbatim(unreadable)
    if conflicts:
        lines += ["", f"## {len(conflicts)} student id(s) claimed by more than one submission"]
        lines += ["", *_verbatim(conflicts)]
    if resubmissions:
        lines += ["", f"## {len(resubmissions)} resubmission(s): the later upload counts", ""]
        lines += _verbatim(resubmissions)
    return "\n".join(lines) + "\n"


def _verbatim(texts: Sequence[str]) -> list[str]:
    """Lines as ``grade`` prints them (file names as they are, control characters
    escaped) in a fenced block longer than any run of backticks in them, so that no
    file name can end the block and be read as Markdown."""
    shown = [visible(text) for text in texts]
    longest = max((len(run) for text in shown for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", *shown, fence]


def render_items_csv(analysis: pd.DataFrame) -> str:
    """``items.csv``: ``answer_id`` and ``ANALYSIS_COLUMNS``, shares and the index to four
    decimals, the diagnoses' text made inert for spreadsheets."""
    rows: list[list[str]] = [["answer_id", *ANALYSIS_COLUMNS]]
    for answer_id, row in analysis.iterrows():
        rows.append(
            [
                str(answer_id),
                number(float(row["points"])),
                f"{row['mean_score']:.4f}",
                *(f"{row[name]:.4f}" for name in OUTCOMES),
                f"{row['discrimination']:.4f}",
                safe_text(str(row["diagnoses"])),
            ]
        )
    return csv_text(rows)
