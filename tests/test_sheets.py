"""grader sheet: each student's handout with their own numbers, laid out like the
homework, and answers templates that the readers read and that grade as missing until
filled in."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from grader.cli import app
from grader.grading.grade import grade_submission
from grader.intake.identity import looks_like_placeholder
from grader.intake.readers import read_file
from grader.intake.submission import Submission
from grader.rubric.load import load_rubric
from grader.solver.key import AnswerKey
from grader.variants.keys import VariantKeys
from tests.conftest import RUBRICS

HW_VARIANTS = RUBRICS / "hw-variants.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def keys() -> VariantKeys:
    return VariantKeys(load_rubric(HW_VARIANTS), source=str(HW_VARIANTS))


def sheet(out: Path, *args: str) -> str:
    result = runner.invoke(app, ["sheet", "--rubric", str(HW_VARIANTS), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return result.output


def variant_data(student: str) -> dict[str, Any]:
    result = runner.invoke(app, ["variant", "--rubric", str(HW_VARIANTS), "--student", student])
    data: dict[str, Any] = yaml.safe_load(result.output)
    return data


def _number(value: float) -> str:
    return f"{value:g}"


@pytest.mark.parametrize("student", ["alice", "s000"])
def test_the_handout_shows_the_students_own_numbers_like_the_homework(
    tmp_path: Path, student: str
) -> None:
    """Each row of W with its entries labelled w_j0.., then V, then each example as
    x_i, y_i = [(x_i1, x_i2), y_i], with the numbers of `grader variant` for that student;
    and a line for every answer id under its problem."""
    sheet(tmp_path, "--student", student)
    text = (tmp_path / student / "handout.md").read_text(encoding="utf-8")
    net = variant_data(student)["problems"]["net"]
    for j, row in enumerate(net["W"], start=1):
        cells = ", ".join(
            f"\\overset{{w_{{{j}{k}}}}}{{{_number(value)}}}" for k, value in enumerate(row)
        )
        assert f"$$W_{j} = ({cells})$$" in text
    cells = ", ".join(f"\\overset{{v_{k}}}{{{_number(value)}}}" for k, value in enumerate(net["v"]))
    assert f"$$V = ({cells})$$" in text
    for i, example in enumerate(net["examples"], start=1):
        x = ", ".join(_number(value) for value in example["x"])
        assert f"$$x_{i}, y_{i} = [({x}), {_number(example['y'])}]$$" in text
    assert "`f(x, y) = (2x + 3y)^2`" in text
    for answer in load_rubric(HW_VARIANTS).answers:
        assert f"| `{answer.id}` |" in text
    assert f"**Student: `{student}`**" in text


def test_two_students_get_different_numbers(tmp_path: Path) -> None:
    """alice's and bob's handouts differ in their numbers, not in their layout."""
    sheet(tmp_path, "--student", "alice")
    sheet(tmp_path, "--student", "bob")
    alice = (tmp_path / "alice" / "handout.md").read_text(encoding="utf-8")
    bob = (tmp_path / "bob" / "handout.md").read_text(encoding="utf-8")
    assert alice != bob
    assert [line[:6] for line in alice.splitlines()] == [line[:6] for line in bob.splitlines()]


def _read(path: Path, key: AnswerKey) -> Submission:
    (read,) = read_file(path, [entry.answer.id for entry in key])
    assert isinstance(read, Submission)
    return read


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_a_template_reads_cleanly_and_grades_missing_everywhere(
    tmp_path: Path, keys: VariantKeys, kind: str
) -> None:
    """The readers read the template with no warning, its id is the student's (no
    placeholder), it holds every answer id, and every answer grades `missing`."""
    sheet(tmp_path, "--student", "Alice@Uni.edu")
    key = keys("alice")
    read = _read(tmp_path / "alice" / f"alice.{kind}", key)
    assert read.warnings == ()
    assert read.student_id == ("Alice@Uni.edu" if kind == "json" else "alice")
    assert not looks_like_placeholder(read.student_id)
    assert list(read.answers) == [entry.answer.id for entry in key]
    result = grade_submission(read, key)
    assert {item.status for item in result.items} == {"missing"}
    assert result.score == 0


def _sig(value: Any) -> Any:
    if isinstance(value, list):
        return [_sig(each) for each in value]
    return value if isinstance(value, str) else float(f"{value:.6g}")


def test_a_filled_in_template_scores_full_marks(tmp_path: Path, keys: VariantKeys) -> None:
    """The template filled in with the student's own key (JSON values, CSV cells), the
    `expects` entries left as they are, scores full marks with no warning."""
    sheet(tmp_path, "--student", "bob")
    key = keys("bob")
    own = {answer: _sig(value) for answer, value in key.to_json().items()}
    path = tmp_path / "bob" / "bob.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["answers"] = own
    path.write_text(json.dumps(data), encoding="utf-8")
    path = tmp_path / "bob" / "bob.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == ["question", "answer", "expects"]
    for row in rows[1:]:
        row[1] = json.dumps(own[row[0]])
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    for kind in ("json", "csv"):
        read = _read(tmp_path / "bob" / f"bob.{kind}", key)
        assert read.warnings == ()
        assert grade_submission(read, key).score == key.rubric.max_score


def test_expects_names_each_answers_shape(tmp_path: Path, keys: VariantKeys) -> None:
    """The JSON's `expects` has every id with its shape, as the CSV's column does."""
    sheet(tmp_path, "--student", "carol")
    data = json.loads((tmp_path / "carol" / "carol.json").read_text(encoding="utf-8"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "carol" / "carol.csv").read_text())))
    assert {row["question"]: row["expects"] for row in rows} == data["expects"]
    assert data["expects"]["q1c.dW.x1"].startswith("a 3×3 matrix: ∂L/∂W")
    assert data["expects"]["q2d.yhat"].startswith("a number: ŷ for example 1")
    assert data["expects"]["q2a.grad_f"].startswith("2 expressions")


def test_a_third_cell_under_expects_is_not_an_answer(tmp_path: Path, keys: VariantKeys) -> None:
    """A `question,answer,expects` file: the expects column is skipped (no warning), a
    fourth cell is still reported."""
    path = tmp_path / "dave.csv"
    path.write_text("question,answer,expects\nq2d.yhat,0.5,a number\nq2b.DF,1,x,y\n")
    read = _read(path, keys("dave"))
    assert read.answers["q2d.yhat"] == "0.5"
    assert len(read.warnings) == 1 and "q2b.DF" in read.warnings[0]


ROSTERS = {
    "plain": "student_id,name\nalice,Alice\n ALICE@uni.edu ,Alice again\nbob,Bob\n,nobody\n",
    "canvas": (
        "Student,ID,SIS User ID,SIS Login ID,Section,Homework 1 (7)\n"
        "    Points Possible,,,,,100\n"
        "Alice,1,u1,alice,S1,\nBob,2,u2,bob,S1,\n"
    ),
    "moodle": "First name,Last name,Username,Email address\nAlice,A,alice,a@x\nBob,B,bob,b@x\n",
}


@pytest.mark.parametrize("kind", sorted(ROSTERS))
def test_a_roster_gives_a_sheet_per_student(tmp_path: Path, kind: str) -> None:
    """A student_id column, a Canvas export (SIS Login ID) or a Moodle export (Username):
    a folder per student; ids that normalise alike are one student."""
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTERS[kind], encoding="utf-8")
    output = sheet(tmp_path / "out", "--roster", str(roster))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["alice", "bob"]
    assert "Wrote 2 handout(s)" in output


@pytest.mark.parametrize(
    ("kind", "column", "folders"),
    [
        ("canvas", "ID", ["1", "2"]),
        ("canvas", "sis login id", ["alice", "bob"]),
        ("worksheet", "Identifier", ["1234567", "1234568"]),
        ("gradescope", None, ["alice", "bob"]),
    ],
)
def test_id_column_picks_the_ids_submissions_will_carry(
    tmp_path: Path, kind: str, column: str | None, folders: list[str]
) -> None:
    """--id-column: Canvas's ID (a Canvas bulk download names files by it), Moodle's
    Identifier (its number); a Gradescope roster's Email (the local part, as variants
    normalise it) without one."""
    texts = {
        **ROSTERS,
        "worksheet": "Identifier,Full name,Email address\nParticipant 1234567,A,a@x\n"
        "Participant 1234568,B,b@x\n",
        "gradescope": "First Name,Last Name,SID,Email\nAlice,A,1,alice@uni.edu\n"
        "Bob,B,2,bob@uni.edu\n",
    }
    roster = tmp_path / "roster.csv"
    roster.write_text(texts[kind], encoding="utf-8")
    extra = ["--id-column", column] if column is not None else []
    sheet(tmp_path / "out", "--roster", str(roster), *extra)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == folders


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give one of --student ID or --roster"),
        (["--student", "a", "--roster", "r.csv"], "give one of --student ID or --roster"),
    ],
)
def test_sheet_needs_one_source_of_students(tmp_path: Path, args: list[str], message: str) -> None:
    """Neither or both of --student and --roster: exit 2 with a message."""
    result = runner.invoke(
        app, ["sheet", "--rubric", str(HW_VARIANTS), "--out", str(tmp_path), *args]
    )
    assert result.exit_code == 2
    assert message in result.output


def test_sheet_refuses_a_rubric_without_variants(tmp_path: Path) -> None:
    """hw.yaml has no variants: there is no one's own numbers to hand out."""
    result = runner.invoke(
        app, ["sheet", "--rubric", str(RUBRICS / "hw.yaml"), "--student", "a", "--out", "x"]
    )
    assert result.exit_code == 2
    assert "no variants block" in result.output
