"""Class statistics: the item analysis of a small class computed by hand (shares of each
outcome, the corrected item–rest correlation, 0 for a constant column), the spread and
histogram of the totals, the students to talk to, and the files ``grade`` writes
(``items.csv``, ``summary.md``) agreeing with the same analysis of ``results.jsonl``."""

from __future__ import annotations

import csv
import io
import math
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from grader import AnswerKey, ItemResult, StudentResult
from grader.run.batch import grade_path
from grader.run.graded import class_results, load_graded
from grader.stats.attention import students_to_talk_to
from grader.stats.items import (
    diagnosis_table,
    discrimination,
    item_analysis,
    score_histogram,
    score_statistics,
)
from grader.stats.table import OUTCOMES, table_from_results
from tests.conftest import EXAMPLES

POINTS = {"a1": 1.0, "a2": 1.0, "a3": 1.0, "a4": 1.0}


def _student(student_id: str, *items: tuple[str, float, str, tuple[str, ...]]) -> StudentResult:
    made = tuple(
        ItemResult(id=answer_id, score=score, max_score=1.0, status=status, message="", diagnoses=d)  # type: ignore[arg-type]
        for answer_id, score, status, d in items
    )
    return StudentResult(
        student_id=student_id,
        source=f"{student_id}.json",
        score=sum(item.score for item in made),
        max_score=4.0,
        status="graded",
        items=made,
    )


def _unreadable(student_id: str) -> StudentResult:
    items = tuple(
        ItemResult(id=a, score=0.0, max_score=1.0, status="unreadable", message="") for a in POINTS
    )
    return StudentResult(
        student_id=student_id,
        source=f"{student_id}.json",
        score=0.0,
        max_score=4.0,
        status="error",
        error="not valid JSON",
        items=items,
    )


def small_class() -> list[StudentResult]:
    """Five students, four answers of one point each (a4 everyone gets right):

    ======  ====================  ============  ============  ====  =====
    who     a1                    a2            a3            a4    total
    ======  ====================  ============  ============  ====  =====
    A       1 right               1 right       1 right       1     4
    B       1 ecf (from a0)       0 sign_flip   1 right       1     3
    C       0 wrong               1 right       0.5 partial   1     2.5
    D       0 missing             0 sign_flip   0 sign_flip   1     1
    E       the file could not be read                              0
    ======  ====================  ============  ============  ====  =====
    """
    return [
        _student(
            "A",
            ("a1", 1, "correct", ()),
            ("a2", 1, "correct", ()),
            ("a3", 1, "correct", ()),
            ("a4", 1, "correct", ()),
        ),
        _student(
            "B",
            ("a1", 1, "partial", ("ecf",)),
            ("a2", 0, "incorrect", ("sign_flip",)),
            ("a3", 1, "correct", ()),
            ("a4", 1, "correct", ()),
        ),
        _student(
            "C",
            ("a1", 0, "incorrect", ()),
            ("a2", 1, "correct", ()),
            ("a3", 0.5, "partial", ()),
            ("a4", 1, "correct", ()),
        ),
        _student(
            "D",
            ("a1", 0, "missing", ()),
            ("a2", 0, "incorrect", ("sign_flip",)),
            ("a3", 0, "incorrect", ("sign_flip",)),
            ("a4", 1, "correct", ()),
        ),
        _unreadable("E"),
    ]


@pytest.fixture
def analysis() -> pd.DataFrame:
    return item_analysis(table_from_results(small_class(), POINTS, 4.0))


def test_shares_of_each_outcome_are_over_the_whole_class(analysis: pd.DataFrame) -> None:
    """Each outcome's share counts every student in the gradebook (E's unreadable file
    too), carried-forward credit apart from partial credit; the shares add up to 1."""
    a1 = analysis.loc["a1", list(OUTCOMES)].to_dict()
    assert a1 == {
        "right": 1 / 5,
        "partial": 0.0,
        "ecf": 1 / 5,
        "wrong": 1 / 5,
        "missing": 1 / 5,
        "unreadable": 1 / 5,
    }
    assert analysis.loc["a3", "partial"] == 1 / 5 and analysis.loc["a3", "right"] == 2 / 5
    assert analysis.loc["a2", "wrong"] == 2 / 5
    assert analysis[list(OUTCOMES)].sum(axis=1).tolist() == pytest.approx([1.0] * 4)
    assert analysis["mean_score"].tolist() == pytest.approx([2 / 5, 2 / 5, 2.5 / 5, 4 / 5])


def test_discrimination_is_the_item_rest_correlation_of_the_students_read(
    analysis: pd.DataFrame,
) -> None:
    """By hand, over A-D (E's file was not read), with rest = total − the answer:
    a1: x = (1, 1, 0, 0), rest = (3, 2, 2.5, 1): deviations (.5, .5, −.5, −.5) and
    (.875, −.125, .375, −1.125), cross sum .75, squares 1 and 2.1875.
    a2: x = (1, 0, 1, 0), rest = (3, 3, 1.5, 1): cross sum .25, squares 1 and 3.1875.
    a3: x = (1, 1, .5, 0), rest = (3, 2, 2, 1): cross sum 1, squares .6875 and 2.
    a4: everyone earned 1, a constant column: 0 by definition."""
    expected = [
        0.75 / math.sqrt(1 * 2.1875),
        0.25 / math.sqrt(1 * 3.1875),
        1 / math.sqrt(0.6875 * 2),
        0.0,
    ]
    assert analysis["discrimination"].tolist() == pytest.approx(expected, abs=1e-12)


def test_discrimination_is_zero_where_either_side_is_constant() -> None:
    """A constant answer, a constant rest (one answer only) and a class of one all give
    0, never NaN."""
    scores = pd.DataFrame({"a": [1.0, 1.0, 1.0], "b": [0.0, 1.0, 0.5]})
    assert discrimination(scores).tolist() == [0.0, 0.0]  # b's rest is a: constant
    assert discrimination(pd.DataFrame({"a": [2.0]})).tolist() == [0.0]
    assert discrimination(pd.DataFrame({"a": [1.0, 0.0], "b": [1.0, 0.0]})).tolist() == [
        pytest.approx(1.0),
        pytest.approx(1.0),
    ]


def test_diagnoses_are_counted_with_the_students_who_made_them() -> None:
    """Per answer id, each code with its count and students, commonest first; the item
    analysis says the same as text."""
    table = table_from_results(small_class(), POINTS, 4.0)
    found = diagnosis_table(table)
    rows = [tuple(row) for row in found[["answer_id", "code", "count", "students"]].to_numpy()]
    assert rows == [
        ("a1", "ecf", 1, ("B",)),
        ("a2", "sign_flip", 2, ("B", "D")),
        ("a3", "sign_flip", 1, ("D",)),
    ]
    assert item_analysis(table).loc["a2", "diagnoses"] == "sign_flip ×2 (B, D)"


def test_spread_and_histogram_of_the_totals() -> None:
    """Mean, median, sample sd, min and max of the totals (4, 3, 2.5, 1, 0); ten bands
    of 0.4 points, the full score in the last."""
    table = table_from_results(small_class(), POINTS, 4.0)
    stats = score_statistics(table)
    assert (stats.students, stats.unreadable) == (5, 1)
    assert stats.mean == pytest.approx(2.1)
    assert stats.median == 2.5
    deviations = [4 - 2.1, 3 - 2.1, 2.5 - 2.1, 1 - 2.1, 0 - 2.1]
    assert stats.sd == pytest.approx(math.sqrt(sum(d * d for d in deviations) / 4))
    assert (stats.minimum, stats.maximum) == (0.0, 4.0)
    bands = score_histogram(table)
    assert bands["students"].tolist() == [1, 0, 1, 0, 0, 0, 1, 1, 0, 1]
    assert bands["low"].tolist() == pytest.approx([0.4 * n for n in range(10)])


def test_students_to_talk_to_name_each_reason() -> None:
    """D: a low total and sign_flip on two answers (B's one sign_flip is a slip); E: the
    file; C is not low (2.5 of 4); a submission that is one of two claiming an id says
    so; A alone is nobody to talk to."""
    results = small_class()
    claimed = replace(results[0], warnings=("id conflict: 'A2.json' also claims student id A",))
    graded = class_results([claimed, *results[1:]], points=POINTS)
    listed = graded.students_to_talk_to
    reasons = dict(zip(listed["student_id"], listed["reasons"], strict=True))
    assert list(listed["student_id"]) == ["E", "D", "A"]  # lowest total first
    assert reasons["D"] == ("low total: 1 of 4 points", "sign_flip on 2 answers: a2, a3")
    assert reasons["E"] == ("the file could not be read: not valid JSON",)
    assert reasons["A"] == ("id conflict: 'A2.json' also claims student id A",)
    alone = students_to_talk_to(
        table_from_results(results[:1], POINTS, 4.0), errors=[None], warnings=[()]
    )
    assert alone.empty


def test_grade_writes_items_csv_and_summary_md_from_the_same_analysis(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """items.csv is the item analysis of the class in results.jsonl (to four decimals);
    summary.md has the spread of the totals and a row per answer id."""
    out = tmp_path / "out"
    grade_path(EXAMPLES, hw_key, out)
    expected = load_graded(out).item_analysis
    rows = list(csv.DictReader(io.StringIO((out / "items.csv").read_text(encoding="utf-8"))))
    assert [row["answer_id"] for row in rows] == [a.id for a in hw_key.rubric.answers]
    for row in rows:
        assert row["diagnoses"] == expected.at[row["answer_id"], "diagnoses"]
    for column in ("mean_score", *OUTCOMES, "discrimination"):
        written = [float(row[column]) for row in rows]
        assert expected[column].to_numpy(dtype=float) == pytest.approx(written, abs=5e-5)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    stats = load_graded(out).statistics
    assert f"| {stats.students} | {stats.unreadable} | {stats.mean:.2f} | {stats.median:.2f} |" in (
        summary
    )
    assert all(f"| `{a.id}` |" in summary for a in hw_key.rubric.answers)
    assert "broken-upload.json: not valid JSON" in summary


def test_a_file_name_cannot_break_out_of_summary_md(tmp_path: Path, hw_key: AnswerKey) -> None:
    """The unreadable files are listed in a fenced block longer than any backtick run in
    their names, so a name cannot end it."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(EXAMPLES / "ada-perfect.json", folder / "ada.json")
    (folder / "x````y.json").write_text("{", encoding="utf-8")
    grade_path(folder, hw_key, tmp_path / "out")
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "`````text\n" in summary and "x````y.json" in summary
