"""Class CSVs as spreadsheets and hand edits leave them: every student keeps their row,
and nothing that is not a student gets one (docs/untrusted-input.md, "Files")."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from grader.cli import app

from .conftest import EXAMPLES, RUBRICS

ANSWERS: dict[str, object] = json.loads((EXAMPLES / "ada-perfect.json").read_text())["answers"]
IDS = list(ANSWERS)


def _class_csv(students: list[str], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["student_id", *IDS])
    for student in students:
        writer.writerow([student, *(json.dumps(ANSWERS[i]) for i in IDS)])
    return buffer.getvalue()


def _grade(path: Path, out: Path) -> tuple[int, list[dict[str, str]]]:
    result = CliRunner().invoke(
        app, ["grade", str(path), "--rubric", str(RUBRICS / "hw.yaml"), "--out", str(out)]
    )
    with (out / "gradebook.csv").open(encoding="utf-8", newline="") as file:
        return result.exit_code, list(csv.DictReader(file))


def test_excels_sep_line_names_the_delimiter_and_is_no_header(tmp_path: Path) -> None:
    """Excel writes ``sep=;`` above the header when asked to keep the delimiter; the
    file's students are read (before: one error row, 'unrecognised header')."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "comma.csv").write_text("sep=,\r\n" + _class_csv(["p1", "p2"]), newline="")
    semicolon = "\ufeff" + '"sep=;"\r\n' + _class_csv(["p3", "p4"], ";")
    (folder / "semicolon.csv").write_text(semicolon, encoding="utf-8", newline="")
    tab = "sep=\t\n" + _class_csv(["p5"], "\t")
    (folder / "tab.csv").write_bytes(b"\xff\xfe" + tab.encode("utf-16-le"))
    code, rows = _grade(folder, tmp_path / "out")
    assert code == 0
    assert sorted(row["student_id"] for row in rows) == ["p1", "p2", "p3", "p4", "p5"]
    assert {row["status"] for row in rows} == {"graded"}
    assert {row["total"] for row in rows} == {rows[0]["max_total"]}


def _transposed_csv(first: str, students: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([first, *students])
    for answer_id in IDS:
        writer.writerow([answer_id, *(json.dumps(ANSWERS[answer_id]) for _ in students)])
    return buffer.getvalue()


def test_a_transposed_class_csv_gives_each_column_its_student(tmp_path: Path) -> None:
    """One column per student, the answer ids down the first column (a sheet pasted
    transposed): before, every answer id became a student graded 0 and the students
    were lost."""
    for first in ("student_id", "question"):
        path = tmp_path / f"{first}.csv"
        path.write_text(_transposed_csv(first, ["t1", "t2", "t3"]))
        code, rows = _grade(path, tmp_path / f"out-{first}")
        assert code == 0
        assert [row["student_id"] for row in rows] == ["t1", "t2", "t3"]
        assert {row["total"] for row in rows} == {rows[0]["max_total"]}
        assert {row["status"] for row in rows} == {"graded"}
        lines = (tmp_path / f"out-{first}" / "results.jsonl").read_text().splitlines()
        records = [json.loads(line) for line in lines]
        assert [record["source"] for record in records] == [f"{path} column {n}" for n in (2, 3, 4)]
        assert all("one column per student" in record["warnings"][0] for record in records)


def test_a_transposed_upload_is_one_students_only(tmp_path: Path) -> None:
    """In a student's folder a transposed file may hold that student's one column."""
    folder = tmp_path / "class" / "kim"
    folder.mkdir(parents=True)
    (folder / "answers.csv").write_text(_transposed_csv("student_id", ["kim"]))
    (tmp_path / "class" / "lee").mkdir()
    (tmp_path / "class" / "lee" / "answers.csv").write_text(
        _transposed_csv("student_id", ["lee", "kim"])
    )
    code, rows = _grade(tmp_path / "class", tmp_path / "out")
    assert code == 1
    by_id = {row["student_id"]: row for row in rows}
    assert sorted(by_id) == ["kim", "lee"]
    assert by_id["kim"]["total"] == by_id["kim"]["max_total"]
    assert by_id["lee"]["total"] == "0"
    assert "only the instructor's class file" in by_id["lee"]["status"]


def test_a_row_delimited_otherwise_is_said_so_under_no_invented_id(tmp_path: Path) -> None:
    """A ``;`` row under a ``,`` header whose cells hold commas (JSON lists) splits into
    more cells than the header: before, its row's id was ``m2;[0.0567491``."""
    text = _class_csv(["m1", "m3"]) + _class_csv(["m2"], ";").splitlines()[1] + "\r\n"
    path = tmp_path / "mixed.csv"
    path.write_text(text, newline="")
    code, rows = _grade(path, tmp_path / "out")
    assert code == 1
    assert [row["student_id"] for row in rows] == ["m1", "m3", "?m2;[0.0567491"]
    assert "delimited by ';' but the header by ','" in rows[2]["status"]
