"""LMS bulk downloads: the student id is the one the LMS encoded in the file or folder
name, it matches the LMS's roster, and a resubmission replaces the earlier upload and
says so."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app
from grader.intake.lms_names import CANVAS, MOODLE, LmsName, canvas_file, lms_source, moodle_name

from .conftest import EXAMPLES

HW = "rubrics/hw.yaml"
PERFECT = json.loads((EXAMPLES / "ada-perfect.json").read_text(encoding="utf-8"))["answers"]
HALF = dict(list(PERFECT.items())[: len(PERFECT) // 2])


def _canvas(user: str, name: str, late: bool, order: tuple[int, int]) -> LmsName:
    return LmsName(CANVAS, user, name, late, order)


def _moodle(participant: str, name: str) -> LmsName:
    return LmsName(MOODLE, participant, name, False, ())


def _write(path: Path, answers: dict[str, object], student_id: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {"answers": answers}
    if student_id is not None:
        data["student_id"] = student_id
    path.write_text(json.dumps(data), encoding="utf-8")


def _grade(folder: Path, out: Path, *extra: str) -> tuple[int, str]:
    done = CliRunner().invoke(
        app, ["grade", str(folder), "--rubric", HW, "--out", str(out), *extra]
    )
    return done.exit_code, done.stderr


def _rows(out: Path, name: str = "gradebook.csv") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / name).read_text(encoding="utf-8"))))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("smithjane_123456_789_answers.json", _canvas("123456", "smithjane", False, (789, 0))),
        ("smithjane_late_123456_790_ans-2.json", _canvas("123456", "smithjane", True, (790, 2))),
        ("smithjane_LATE_123456_7_my_answers-1.csv", _canvas("123456", "smithjane", True, (7, 1))),
        ("doe_5_6_answers-v2.json", LmsName(CANVAS, "5", "doe", False, (6, 0))),
        ("alice.json", None),
        ("alice_smith.json", None),
        ("smith_jane_answers.json", None),
        ("smithjane_123_x_answers.json", None),
        ("smithjane_123_456_", None),
    ],
)  # fmt: skip
def test_canvas_file_names(name: str, expected: LmsName | None) -> None:
    """<name>_[late_]<user id>_<file id>_<file>: the user id is the student's; the file
    id and Canvas's -N suffix order one student's uploads."""
    assert canvas_file(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Jane Doe_1234567_assignsubmission_file_", _moodle("1234567", "Jane Doe")),
        ("Jane_Q_Doe_42_assignsubmission_file_answers.json", _moodle("42", "Jane_Q_Doe")),
        ("Zoë Ö_7_assignsubmission_onlinetext_", LmsName(MOODLE, "7", "Zoë Ö", False, ())),
        ("_7_assignsubmission_file_", None),
        ("Jane Doe_x7_assignsubmission_file_", None),
        ("Jane Doe", None),
    ],
)  # fmt: skip
def test_moodle_names(name: str, expected: LmsName | None) -> None:
    """<Full Name>_<participant id>_assignsubmission_<plugin>_: the participant id."""
    assert moodle_name(name) == expected


def test_names_are_read_in_linear_time() -> None:
    """Hostile names of a million separators are read with str methods: all of them in
    well under the stated budget of one second."""
    start = time.process_time()
    assert lms_source("_" * 1_000_000 + ".json") is None
    assert lms_source("a_assignsubmission_" * 50_000 + ".json") is None
    assert lms_source("1_" * 500_000 + ".json") == LmsName(CANVAS, "1", "1", False, (1, 0))
    assert time.process_time() - start < 1.0


def test_a_canvas_download_grades_each_student_by_user_id_and_matches_the_roster(
    tmp_path: Path,
) -> None:
    """Canvas's flat names give the user id, which is the export's ID column: the grade
    lands in that student's cell (not by the name Canvas wrote, not by a student_id
    typed in the file)."""
    folder = tmp_path / "submissions"
    _write(folder / "smithjane_123456_7890123_answers.json", PERFECT, "YOUR_ID_HERE")
    _write(folder / "doejohn_late_222_7890124_answers.json", HALF, "doejohn")
    roster = tmp_path / "canvas.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Homework 1: backpropagation (77)\n"
        "    Points Possible,,,,,100\n"
        '"Smith, Jane",123456,s1,jsmith,A,\n'
        '"Doe, John",222,s2,jdoe,A,\n',
        encoding="utf-8",
    )
    code, stderr = _grade(folder, tmp_path / "out", "--format", "canvas", "--roster", str(roster))
    assert code == 0, stderr
    rows = {row["student_id"]: row for row in _rows(tmp_path / "out")}
    assert set(rows) == {"123456", "222"}
    assert rows["123456"]["status"] == "graded"  # the placeholder is no claim
    assert rows["222"]["status"].startswith("graded; student id mismatch")
    cells = {
        row["ID"]: row["Homework 1: backpropagation (77)"]
        for row in _rows(tmp_path / "out", "canvas.csv")[1:]
    }
    assert float(cells["123456"]) == 100 and float(cells["222"]) < 100
    feedback = (tmp_path / "out" / "feedback" / "222.md").read_text(encoding="utf-8")
    assert "Canvas user 222 (doejohn, late)" in feedback


@pytest.mark.parametrize("older_sorts_first", [True, False])
def test_a_canvas_resubmission_replaces_the_earlier_upload_and_says_so(
    tmp_path: Path, older_sorts_first: bool
) -> None:
    """answers.json, then answers-1.json uploaded later (a larger file id): one row, the
    later upload's, whichever the file names sort first; both records say which counts,
    and the summary lists it. Two loose files claiming one id would be a conflict."""
    folder = tmp_path / "submissions"
    older = (
        "smithjane_123456_500_answers.json"
        if older_sorts_first
        else "smithjane_late_123456_500_answers.json"
    )
    _write(folder / older, HALF)
    _write(folder / "smithjane_123456_900_answers-1.json", PERFECT)
    code, stderr = _grade(folder, tmp_path / "out")
    assert code == 0
    (row,) = _rows(tmp_path / "out")
    assert row["student_id"] == "123456" and float(row["total"]) == 100
    assert "resubmission: " in row["status"] and "answers-1.json" in row["status"]
    records = [
        json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    ]
    assert len(records) == 2
    counted = next(r for r in records if r["source"].endswith("answers-1.json"))
    replaced = next(r for r in records if r["source"].endswith(older))
    assert any("replaces the earlier upload" in w for w in counted["warnings"])
    assert any("not counted" in w for w in replaced["warnings"])
    feedback = (tmp_path / "out" / "feedback" / "123456.md").read_text(encoding="utf-8")
    assert "**Score: 100 / 100**" in feedback
    assert "1 resubmission(s) in the LMS download" in stderr and "id conflict" not in stderr


def test_a_moodle_download_grades_each_folder_by_participant_id(tmp_path: Path) -> None:
    """Moodle's folders give the participant id; the grading worksheet's Identifier
    column (Participant N) matches it, and moodle.csv identifies the student by e-mail."""
    folder = tmp_path / "submissions"
    _write(folder / "Jane Doe_1234567_assignsubmission_file_" / "answers.json", PERFECT, "jane")
    _write(folder / "John Roe_7654321_assignsubmission_file_" / "answers.json", HALF)
    roster = tmp_path / "worksheet.csv"
    roster.write_text(
        "Identifier,Full name,Email address,Status,Grade,Maximum Grade\n"
        "Participant 1234567,Jane Doe,jane@uni.example,Submitted,,100\n"
        "Participant 7654321,John Roe,john@uni.example,Submitted,,100\n",
        encoding="utf-8",
    )
    code, stderr = _grade(folder, tmp_path / "out", "--format", "moodle", "--roster", str(roster))
    assert code == 0, stderr
    assert {row["student_id"] for row in _rows(tmp_path / "out")} == {"1234567", "7654321"}
    moodle = list(csv.reader(io.StringIO((tmp_path / "out" / "moodle.csv").read_text())))
    grades = {line[0]: line[1] for line in moodle[1:]}
    assert float(grades["jane@uni.example"]) == 100 and float(grades["john@uni.example"]) < 100


def test_a_student_id_matching_two_roster_students_in_two_columns_is_reported(
    tmp_path: Path,
) -> None:
    """An id that is one student's SIS User ID and another's Canvas ID took the first
    column's student; it is now reported as matching several, and takes no cell."""
    folder = tmp_path / "submissions"
    _write(folder / "123.json", PERFECT)
    roster = tmp_path / "canvas.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Homework 1: backpropagation (77)\n"
        '"Smith, Jane",123,900,jsmith,A,\n'
        '"Doe, John",555,123,jdoe,A,\n',
        encoding="utf-8",
    )
    code, stderr = _grade(folder, tmp_path / "out", "--format", "canvas", "--roster", str(roster))
    assert "123: matches several roster students" in stderr
    cells = [
        row["Homework 1: backpropagation (77)"] for row in _rows(tmp_path / "out", "canvas.csv")
    ]
    assert cells == ["", ""]
    assert code == 0


def test_an_id_conflict_takes_no_lms_cell(tmp_path: Path) -> None:
    """Two loose files claiming one id: neither is written to canvas.csv (until the
    instructor decides), and roster-report.csv says why."""
    folder = tmp_path / "submissions"
    _write(folder / "jsmith.json", HALF)
    _write(folder / "mallory.json", PERFECT, "jsmith")
    roster = tmp_path / "canvas.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Homework 1: backpropagation (77)\n"
        '"Smith, Jane",123,900,jsmith,A,\n',
        encoding="utf-8",
    )
    code, stderr = _grade(folder, tmp_path / "out", "--format", "canvas", "--roster", str(roster))
    assert code == 0
    (cell,) = [
        row["Homework 1: backpropagation (77)"] for row in _rows(tmp_path / "out", "canvas.csv")
    ]
    assert cell == ""
    report = (tmp_path / "out" / "roster-report.csv").read_text(encoding="utf-8")
    assert report.count("id conflict") == 2
    assert "claimed by more than one submission" in stderr
