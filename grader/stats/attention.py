"""Students to talk to: who in a class needs the instructor's eye, and why.

A gradebook row is listed, with every reason that applies, when
- its total is **low**: below ``LOW_SHARE`` (half) of the rubric's points;
- the student made one **conceptual mistake on several answers**: one of ``CONCEPTUAL``
  diagnosed on two or more answer ids (the same misunderstanding, not a slip);
- the file, or some of its answers, **could not be read**;
- the submission is one of **several for one id**: two submissions claiming one id (an
  id conflict: who is who is for the instructor to decide), or a student's repeated
  uploads in an LMS download (a resubmission: which one counted).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from grader.intake.submission import ID_CONFLICT, RESUBMISSION
from grader.stats.table import ClassTable

LOW_SHARE = 0.5
"""A total below this share of the rubric's points is low."""

CONCEPTUAL = ("factor_two", "missing_bias", "sign_flip", "transposed", "wrong_derivative")
"""Diagnoses of method rather than of one slipped entry (``power_of_ten``, ``too_coarse``,
``other_answer:<id>`` and ``ecf`` are left out)."""

SEVERAL = (ID_CONFLICT, RESUBMISSION)
"""The warnings of a submission that is one of several for its id."""

ATTENTION_COLUMNS = ("student_id", "total", "percent", "reasons")


def students_to_talk_to(
    table: ClassTable,
    *,
    errors: Sequence[str | None],
    warnings: Sequence[Sequence[str]],
) -> pd.DataFrame:
    """One row per gradebook row to talk about: ``student_id``, ``total``, ``percent``
    and ``reasons`` (a tuple of sentences), lowest total first (then gradebook order).
    ``errors``: per row, why the file could not be read (None: it was read);
    ``warnings``: per row, the result's warnings."""
    ids = [str(student_id) for student_id in table.scores.index]
    totals = [float(total) for total in table.totals.tolist()]
    graded = [bool(flag) for flag in table.graded.tolist()]
    max_score = table.max_score
    reasons: list[list[str]] = [[] for _ in ids]
    for row, total in enumerate(totals):
        if graded[row] and total < LOW_SHARE * max_score:
            reasons[row].append(f"low total: {total:g} of {max_score:g} points")
    found = table.diagnoses
    conceptual = found[found["code"].isin(CONCEPTUAL)]
    spread = conceptual.groupby(["row", "code"], sort=True)["answer_id"].agg(tuple).reset_index()
    repeated = zip(
        spread["row"].tolist(), spread["code"].tolist(), spread["answer_id"].tolist(), strict=True
    )
    for row, code, answer_ids in repeated:
        if len(set(answer_ids)) > 1:
            reasons[int(row)].append(
                f"{code} on {len(answer_ids)} answers: {', '.join(answer_ids)}"
            )
    unreadable = (table.outcomes == "unreadable").to_numpy()
    answer_ids_all = [str(answer_id) for answer_id in table.scores.columns]
    for row in range(len(ids)):
        if graded[row] and unreadable[row].any():
            which = [a for a, flag in zip(answer_ids_all, unreadable[row], strict=True) if flag]
            reasons[row].append(f"{len(which)} answer(s) could not be read: {', '.join(which)}")
        if errors[row] is not None:
            reasons[row].append(f"the file could not be read: {errors[row]}")
        reasons[row] += [w for w in warnings[row] if w.startswith(SEVERAL)]
    listed = [row for row in range(len(ids)) if reasons[row]]
    listed.sort(key=lambda row: (totals[row], row))
    return pd.DataFrame(
        {
            "student_id": pd.Series([ids[row] for row in listed], dtype=object),
            "total": pd.Series([totals[row] for row in listed], dtype=float),
            "percent": pd.Series(
                [100.0 * totals[row] / max_score if max_score else 0.0 for row in listed],
                dtype=float,
            ),
            "reasons": pd.Series([tuple(reasons[row]) for row in listed], dtype=object),
        },
        columns=list(ATTENTION_COLUMNS),
    )
