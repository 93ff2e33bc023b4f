"""``similar.csv``: pairs of students whose submissions are suspiciously alike, with the
evidence, for the instructor to look at (never a penalty by itself). The rules that list
a pair are ``grader.run.copies``'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grader.render.gradebook import csv_text, safe_text

SIMILAR = "similar.csv"
HEADER = ("student_a", "student_b", "kind", "answers", "evidence")


@dataclass(frozen=True)
class SimilarPair:
    """Two students, why they are listed, and on how many answers."""

    student_a: str
    student_b: str
    kind: str
    """``other_variant`` (one has the other's variant's answers), ``same_wrong`` (the
    same rare wrong values), or both joined by ``+``."""
    answers: int
    """How many answers are evidence."""
    evidence: tuple[str, ...]


def render_similar(pairs: Sequence[SimilarPair]) -> str:
    """The CSV: a header, then one row per pair (the strongest first)."""
    rows = [
        (
            safe_text(pair.student_a),
            safe_text(pair.student_b),
            pair.kind,
            str(pair.answers),
            safe_text("; ".join(pair.evidence)),
        )
        for pair in pairs
    ]
    return csv_text([HEADER, *rows])
