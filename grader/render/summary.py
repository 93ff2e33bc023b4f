"""The class summary `grade` prints: students, mean, median, and per answer the share right."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ClassSummary:
    """Running totals over a class, small enough to keep for 100,000 students."""

    answer_ids: Sequence[str]
    max_score: float
    scores: list[float] = field(default_factory=list)
    errors: int = 0
    correct: dict[str, int] = field(default_factory=dict)
    diagnoses: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(
        self, score: float, graded: bool, statuses: dict[str, str], codes: dict[str, Sequence[str]]
    ) -> None:
        self.scores.append(score)
        if not graded:
            self.errors += 1
        for answer_id, status in statuses.items():
            if status == "correct":
                self.correct[answer_id] = self.correct.get(answer_id, 0) + 1
        for answer_id, found in codes.items():
            counts = self.diagnoses.setdefault(answer_id, {})
            for code in found:
                counts[code] = counts.get(code, 0) + 1

    def remove(self, score: float, graded: bool, items: Sequence[Any]) -> None:
        """Take back a student counted before (a duplicate submission replaced it)."""
        self.scores.remove(score)
        if not graded:
            self.errors -= 1
        for item in items:
            if item.status == "correct":
                self.correct[item.id] -= 1
            for code in item.diagnoses:
                self.diagnoses[item.id][code] -= 1


def render_summary(summary: ClassSummary) -> str:
    """Plain text table, readable in a terminal and in a CI log."""
    count = len(summary.scores)
    if not count:
        return "No submissions found.\n"
    mean = statistics.fmean(summary.scores)
    median = statistics.median(summary.scores)
    lines = [
        f"Students: {count}   unreadable: {summary.errors}   "
        f"mean: {mean:.2f} / {summary.max_score:g}   median: {median:.2f}",
        "",
    ]
    width = max(len(answer_id) for answer_id in summary.answer_ids)
    lines.append(f"{'answer':<{width}}  right  mistakes seen")
    for answer_id in summary.answer_ids:
        share = 100.0 * summary.correct.get(answer_id, 0) / count
        codes = summary.diagnoses.get(answer_id, {})
        seen = ", ".join(
            f"{code} ×{n}" for code, n in sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        lines.append(f"{answer_id:<{width}}  {share:4.0f}%  {seen}".rstrip())
    return "\n".join(lines) + "\n"
