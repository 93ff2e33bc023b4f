"""Students to talk to: who in a class needs the instructor's eye, and why.

A student is listed, with every reason that applies, when
- their total is **low**: below ``LOW_SHARE`` (half) of the rubric's points;
- they made one **conceptual mistake on several answers**: one of ``CONCEPTUAL``
  diagnosed on two or more answer ids (the same misunderstanding, not a slip);
- their file, or some of their answers, **could not be read**;
- they **submitted more than once** (which one counts is worth checking).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from grader.stats.table import ClassTable

LOW_SHARE = 0.5
"""A total below this share of the rubric's points is low."""

CONCEPTUAL = ("factor_two", "missing_bias", "sign_flip", "transposed", "wrong_derivative")
"""Diagnoses of method rather than of one slipped entry (``power_of_ten``, ``too_coarse``,
``other_answer:<id>`` and ``ecf`` are left out)."""

ATTENTION_COLUMNS = ("student_id", "total", "percent", "reasons")


def students_to_talk_to(
    table: ClassTable,
    *,
    errors: Mapping[str, str],
    duplicates: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    """One row per student to talk to: ``student_id``, ``total``, ``percent`` and
    ``reasons`` (a tuple of sentences), lowest total first (then gradebook order).
    ``errors``: why a student's file could not be read; ``duplicates``: the sources of a
    student who submitted more than once, in the order read (the last counts)."""
    reasons: dict[str, list[str]] = {}
    totals = table.totals
    max_score = table.max_score
    low = totals[table.graded & (totals < LOW_SHARE * max_score)]
    for student_id, total in low.items():
        reasons.setdefault(str(student_id), []).append(
            f"low total: {total:g} of {max_score:g} points"
        )
    found = table.diagnoses
    conceptual = found[found["code"].isin(CONCEPTUAL)]
    spread = (
        conceptual.groupby(["student_id", "code"], sort=False)["answer_id"].agg(tuple).reset_index()
    )
    repeated = zip(
        spread["student_id"].tolist(),
        spread["code"].tolist(),
        spread["answer_id"].tolist(),
        strict=True,
    )
    for student_id, code, answer_ids in repeated:
        if len(set(answer_ids)) > 1:
            reasons.setdefault(str(student_id), []).append(
                f"{code} on {len(answer_ids)} answers: {', '.join(answer_ids)}"
            )
    unreadable = table.outcomes[table.graded] == "unreadable"
    for student_id, row in unreadable[unreadable.any(axis=1)].iterrows():
        answer_ids = [str(answer_id) for answer_id, flag in row.items() if flag]
        if answer_ids:
            reasons.setdefault(str(student_id), []).append(
                f"{len(answer_ids)} answer(s) could not be read: {', '.join(answer_ids)}"
            )
    for student_id, error in errors.items():
        reasons.setdefault(student_id, []).append(f"the file could not be read: {error}")
    for student_id, sources in duplicates.items():
        reasons.setdefault(student_id, []).append(
            f"submitted {len(sources)} times: {', '.join(sources)} (the last counts)"
        )
    order = {student_id: n for n, student_id in enumerate(table.scores.index)}
    listed = [s for s in reasons if s in order]
    frame = pd.DataFrame(
        {
            "student_id": pd.Series(listed, dtype=object),
            "total": [float(totals[s]) for s in listed],
            "percent": [100.0 * float(totals[s]) / max_score if max_score else 0.0 for s in listed],
            "reasons": pd.Series([tuple(reasons[s]) for s in listed], dtype=object),
        }
    )
    frame["_order"] = frame["student_id"].map(order)
    frame = frame.sort_values(["total", "_order"]).drop(columns="_order")
    return frame.reset_index(drop=True)[list(ATTENTION_COLUMNS)]
