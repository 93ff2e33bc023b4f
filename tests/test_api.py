"""The Python API: ``grader.grade``, ``grader.load`` and ``grader.check`` give what the
commands give, as pandas DataFrames and a notebook display; the README's example runs;
the versions agree."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import grader
from grader.cli import app, grade_app
from grader.render.gradebook import safe_text
from tests.conftest import EXAMPLES, ROOT

HW = ROOT / "rubrics" / "hw.yaml"


def test_the_public_surface_lists_the_api() -> None:
    """grade, load and check (and their result types) are in __all__ and importable."""
    for name in ("grade", "load", "check", "ClassResults", "Feedback"):
        assert name in grader.__all__
        assert getattr(grader, name) is not None
    with pytest.raises(AttributeError):
        _ = grader.no_such_name


def test_grade_returns_the_gradebook_as_a_dataframe_and_leaves_nothing(tmp_path: Path) -> None:
    """Without out, grade writes nothing where it runs; its gradebook has the rows and
    numbers of gradebook.csv."""
    before = sorted(tmp_path.iterdir())
    results = grader.grade(EXAMPLES, HW)
    assert sorted(tmp_path.iterdir()) == before
    out = tmp_path / "out"
    CliRunner().invoke(app, ["grade", str(EXAMPLES), "--rubric", str(HW), "--out", str(out)])
    rows = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8"))))
    frame = results.gradebook
    assert isinstance(frame, pd.DataFrame)
    # gradebook.csv makes text cells inert for spreadsheets (safe_text); the frame holds
    # the text itself
    assert [safe_text(str(s)) for s in frame.index] == [row["student_id"] for row in rows]
    assert list(frame.columns) == list(rows[0])[1:]
    for column in list(rows[0])[1:-1]:  # the csv has 4 decimals (percent: 2)
        written = [float(row[column]) for row in rows]
        assert frame[column].to_numpy(dtype=float) == pytest.approx(written, abs=5e-3)
    assert [safe_text(str(s)) for s in frame["status"]] == [row["status"] for row in rows]


def test_items_has_one_row_per_student_and_answer(hw_key: grader.AnswerKey) -> None:
    """Score, status, outcome, diagnoses and carried-forward sources of every answer."""
    results = grader.grade(EXAMPLES, HW)
    items = results.items
    answer_ids = [answer.id for answer in hw_key.rubric.answers]
    assert len(items) == len(results.gradebook) * len(answer_ids)
    assert list(items.columns) == [
        "student_id",
        "answer_id",
        "score",
        "max_score",
        "status",
        "outcome",
        "diagnoses",
        "carried_forward_from",
    ]
    carried = items[items["outcome"] == "ecf"]
    assert len(carried) > 0
    assert all("ecf" in codes for codes in carried["diagnoses"])
    assert all(len(sources) > 0 for sources in carried["carried_forward_from"])
    totals = items.groupby("student_id", sort=False)["score"].sum()
    assert totals.to_numpy() == pytest.approx(results.gradebook["total"].to_numpy(), abs=1e-6)


def test_grade_with_out_writes_the_outputs_and_load_reads_them_back(tmp_path: Path) -> None:
    """grade(out=...) writes what the command writes; load gives the same tables."""
    written = grader.grade(EXAMPLES, str(HW), out=tmp_path / "g", jobs=2)
    assert (tmp_path / "g" / "items.csv").is_file() and (tmp_path / "g" / "summary.md").is_file()
    again = grader.load(tmp_path / "g")
    pd.testing.assert_frame_equal(written.gradebook, again.gradebook)
    pd.testing.assert_frame_equal(written.items, again.items)
    pd.testing.assert_frame_equal(written.item_analysis, again.item_analysis)


def test_a_loaded_rubric_works_like_its_path() -> None:
    """rubric may be a Rubric object."""
    by_path = grader.grade(EXAMPLES / "ada-perfect.json", HW)
    by_object = grader.grade(EXAMPLES / "ada-perfect.json", grader.load_rubric(HW))
    pd.testing.assert_frame_equal(by_path.gradebook, by_object.gradebook)


def test_check_shows_the_feedback_grader_check_prints(tmp_path: Path) -> None:
    """check(path) is grader check's feedback; its HTML holds the same marks, points and
    messages."""
    path = EXAMPLES / "linus-sign-errors.json"
    shown = grader.check(path, HW)
    done = CliRunner().invoke(app, ["check", str(path), "--rubric", str(HW)])
    assert shown.markdown == done.output.removesuffix("\n")
    html = shown._repr_html_()
    for item in shown.result.items:
        assert f"<code>{item.id}</code>" in html
        message = item.message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert message.replace('"', "&quot;").replace("'", "&#x27;") in html
    assert f"Score: {shown.score:g} / {shown.max_score:g}" in html
    assert str(shown) == shown.markdown


def test_check_grades_a_file_as_the_one_file_platforms_do(tmp_path: Path) -> None:
    """check(path) reads a student's folder as grader check, Classroom and Gradescope do
    (its one answers file), and refuses a class CSV of several students, saying so."""
    folder = EXAMPLES / "hw1-alan"
    shown = grader.check(folder, HW)
    done = CliRunner().invoke(app, ["check", str(folder), "--rubric", str(HW)])
    assert shown.result.status == "graded"
    assert shown.markdown == done.output.removesuffix("\n")
    several = grader.check(EXAMPLES / "section-b-class.csv", HW)
    assert several.result.status == "error"
    assert several.result.error is not None
    assert "students' answers; grader.check grades one student's answers" in several.result.error


def test_check_takes_a_dict_with_numpy_arrays(hw_key: grader.AnswerKey) -> None:
    """The answers as a dict (numpy arrays or lists) grade as the same JSON file would;
    student-written text is escaped in the HTML."""
    key = hw_key.to_json()
    answers = {"q1.yhat": np.array(key["q1.yhat"]), "q1c.dL_dyhat": "<b>oops</b>"}
    shown = grader.check(answers, HW)
    assert shown.result.item("q1.yhat").status == "correct"
    assert shown.result.item("q1c.dL_dyhat").status == "unreadable"
    assert "<b>oops</b>" not in shown.html and "&lt;b&gt;oops&lt;/b&gt;" in shown.html
    wrapped = grader.check({"student_id": "ada", "answers": {"q1.yhat": key["q1.yhat"]}}, HW)
    assert wrapped.result.student_id == "ada"
    assert wrapped.score == shown.result.item("q1.yhat").score
    broken = grader.check({"answers": [1, 2]}, HW)
    assert broken.result.status == "error" and "could not be read" in broken.markdown


def test_the_readme_python_example_runs(tmp_path: Path) -> None:
    """The README's notebook-ready example, run as it is from a copy of the repository's
    examples (it writes grades/ there)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    marker = readme.index("<!-- python-example:")
    block = re.search(r"```python\n(.*?)```", readme[marker:], re.DOTALL)
    assert block is not None
    shutil.copytree(EXAMPLES, tmp_path / "submissions_example")
    shutil.copytree(ROOT / "rubrics", tmp_path / "rubrics")
    script = tmp_path / "example.py"
    script.write_text(block.group(1), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "grades" / "items.csv").is_file()
    assert "discrimination" in done.stdout and "/ 100" in done.stdout


def test_both_commands_print_the_version_of_the_distribution() -> None:
    """grade --version and grader --version: the distribution's name and pyproject's
    version, which grader.__version__ is too."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "backprop-grader" and project["version"] == grader.__version__
    for application in (app, grade_app):
        done = CliRunner().invoke(application, ["--version"])
        assert done.exit_code == 0
        assert done.output == f"backprop-grader {grader.__version__}\n"


def _gradebook_rows(out: Path) -> list[dict[str, str]]:
    text = (out / "gradebook.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_two_files_claiming_one_id_are_two_rows_as_in_the_gradebook(tmp_path: Path) -> None:
    """An id conflict: each submission keeps its row, saying so, as in gradebook.csv."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(EXAMPLES / "ada-perfect.json", folder / "a-first.json")
    text = (EXAMPLES / "linus-sign-errors.json").read_text(encoding="utf-8")
    (folder / "b-second.json").write_text(text.replace('"linus"', '"ada"'), encoding="utf-8")
    results = grader.grade(folder, HW, out=tmp_path / "out")
    rows = _gradebook_rows(tmp_path / "out")
    assert list(results.gradebook.index) == ["ada", "ada"] == [r["student_id"] for r in rows]
    assert list(results.gradebook["status"]) == [r["status"] for r in rows]
    assert all(r["status"].startswith("id conflict") for r in rows)
    reasons = results.students_to_talk_to["reasons"].tolist()
    assert len(reasons) == 2 and all(
        any(r.startswith("id conflict") for r in each) for each in reasons
    )
    assert grader.load(tmp_path / "out").gradebook.equals(results.gradebook)


def test_a_resubmission_is_one_row_the_later_upload(tmp_path: Path) -> None:
    """Two uploads of one student in a Canvas download: one row, the later upload's, as
    in gradebook.csv, whichever order the files are read in."""
    folder = tmp_path / "in"
    folder.mkdir()
    later = "lovelaceada_123456_7890124_answers-1.json"
    shutil.copy(EXAMPLES / "ada-perfect.json", folder / later)
    shutil.copy(
        EXAMPLES / "linus-sign-errors.json", folder / "lovelaceada_123456_7890123_answers.json"
    )
    results = grader.grade(folder, HW, out=tmp_path / "out")
    rows = _gradebook_rows(tmp_path / "out")
    assert len(rows) == 1 and "; resubmission: " in rows[0]["status"]
    assert list(results.gradebook.index) == [rows[0]["student_id"]]
    assert list(results.gradebook["status"]) == [rows[0]["status"]]
    assert results.results[0].source.endswith(later)
    assert float(results.gradebook["total"].iloc[0]) == float(rows[0]["total"])
