"""Item analysis: per answer id, how the class did on it and whether it tells strong
students from weak ones; and the spread of the totals.

Everything here is computed with pandas from a ``ClassTable`` (``grader.stats.table``).

- **Shares** of each outcome (right, partial, ecf, wrong, missing, unreadable) are over
  every student in the gradebook, a file that could not be read counting as unreadable
  answers: they add up to 1.
- **Discrimination** is the corrected item–rest correlation: the Pearson correlation,
  over the students whose file was read, between the points on the answer and the
  points on all the other answers (the total less this answer, so that the answer is
  not correlated with itself). It runs from −1 to 1; near 0 the answer says nothing
  about how a student does otherwise, below 0 the stronger students do worse on it
  (often a key or a rubric worth checking). Where either side is constant (everyone
  earned the same on the answer, or on the rest, or fewer than two students were read)
  the correlation is undefined and the index is **0**: the answer tells nobody apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from grader.stats.table import OUTCOMES, ClassTable

ANALYSIS_COLUMNS = ("points", "mean_score", *OUTCOMES, "discrimination", "diagnoses")
"""The columns of ``item_analysis`` (and of ``items.csv``, after ``answer_id``)."""

SHOWN_STUDENTS = 10
"""Students named per diagnosis in ``item_analysis``'s text (the rest are counted)."""


def item_analysis(table: ClassTable, *, top: int = 3) -> pd.DataFrame:
    """One row per answer id (rubric order): its points, the mean points earned, the share
    of each outcome, the discrimination index, and the ``top`` commonest diagnoses as
    text (``sign_flip ×2 (alice, bob); ...``)."""
    answer_ids = table.scores.columns
    count = len(table.scores)
    shares = pd.DataFrame(
        {name: (table.outcomes == name).sum() / count if count else 0.0 for name in OUTCOMES},
        index=answer_ids,
    )
    found = diagnosis_table(table)
    texts = {
        answer_id: "; ".join(_diagnosis_text(row) for row in rows.head(top).itertuples())
        for answer_id, rows in found.groupby("answer_id", sort=False)
    }
    analysis = pd.DataFrame(
        {
            "points": table.points.reindex(answer_ids),
            "mean_score": table.scores.mean() if count else 0.0,
        },
        index=answer_ids,
    )
    analysis = analysis.join(shares)
    analysis["discrimination"] = discrimination(table.scores[table.graded])
    analysis["diagnoses"] = pd.Series(texts, dtype=object).reindex(answer_ids).fillna("")
    return analysis[list(ANALYSIS_COLUMNS)]


def _diagnosis_text(row: object) -> str:
    students: tuple[str, ...] = getattr(row, "students")  # noqa: B009 (a namedtuple field)
    named = ", ".join(students[:SHOWN_STUDENTS])
    more = f" and {len(students) - SHOWN_STUDENTS} more" if len(students) > SHOWN_STUDENTS else ""
    return f"{getattr(row, 'code')} ×{getattr(row, 'count')} ({named}{more})"  # noqa: B009


def discrimination(scores: pd.DataFrame) -> pd.Series:
    """The corrected item–rest correlation of each column of ``scores`` (rows students,
    columns answer ids): see the module's docstring; 0 where a side is constant."""
    rest = -scores.sub(scores.sum(axis=1), axis=0)
    item_dev = scores - scores.mean()
    rest_dev = rest - rest.mean()
    covariance = (item_dev * rest_dev).sum()
    spread = ((item_dev**2).sum() * (rest_dev**2).sum()) ** 0.5
    # constant means exactly constant (a mean of equal floats need not be exact)
    varies = (scores.max() > scores.min()) & (rest.max() > rest.min())
    index = (covariance / spread.where(varies)).clip(-1.0, 1.0)
    return index.where(varies, 0.0).fillna(0.0).rename("discrimination")


def diagnosis_table(table: ClassTable) -> pd.DataFrame:
    """One row per answer id and diagnosis code: ``answer_id``, ``code``, ``count`` and the
    ``students`` who got it (a tuple, in gradebook order); answer ids in rubric order,
    the commonest code first (ties by code)."""
    found = table.diagnoses
    columns = ["answer_id", "code", "count", "students"]
    if found.empty:
        return pd.DataFrame(columns=columns)
    grouped = found.groupby(["answer_id", "code"], sort=False)["student_id"].agg(tuple)
    frame = grouped.rename("students").reset_index()
    frame["count"] = frame["students"].map(len)
    order = {answer_id: n for n, answer_id in enumerate(table.scores.columns)}
    frame["_order"] = frame["answer_id"].map(order)
    frame = frame.sort_values(["_order", "count", "code"], ascending=[True, False, True])
    return frame[columns].reset_index(drop=True)


@dataclass(frozen=True)
class ScoreStatistics:
    """The spread of the class's totals (over every student in the gradebook)."""

    students: int
    unreadable: int
    mean: float
    median: float
    sd: float
    """The sample standard deviation (n − 1); NaN for fewer than two students."""
    minimum: float
    maximum: float
    max_score: float


def score_statistics(table: ClassTable) -> ScoreStatistics:
    totals = table.totals
    empty = totals.empty
    return ScoreStatistics(
        students=len(totals),
        unreadable=int((~table.graded).sum()),
        mean=math.nan if empty else float(totals.mean()),
        median=math.nan if empty else float(totals.median()),
        sd=float(totals.std(ddof=1)) if len(totals) > 1 else math.nan,
        minimum=math.nan if empty else float(totals.min()),
        maximum=math.nan if empty else float(totals.max()),
        max_score=table.max_score,
    )


HISTOGRAM_BINS = 10


def score_histogram(table: ClassTable, bins: int = HISTOGRAM_BINS) -> pd.DataFrame:
    """Students per band of the total: ``bins`` equal bands from 0 to the rubric's
    points (``low`` included, ``high`` not, but the last band holds the full score);
    columns ``low``, ``high``, ``students``."""
    top = table.max_score if table.max_score > 0 else 1.0
    edges = np.linspace(0.0, top, bins + 1)
    band = np.clip(np.floor(table.totals.to_numpy() * bins / top), 0, bins - 1).astype(int)
    counts = pd.Series(band).value_counts().reindex(range(bins), fill_value=0)
    return pd.DataFrame({"low": edges[:-1], "high": edges[1:], "students": counts.to_numpy()})
