"""Canvas and Moodle gradebooks from `grade --format canvas|moodle --roster PATH`."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from grader import AnswerKey
from grader.cli import app
from grader.grading.results import StudentResult
from grader.integrations.lms import EXPORTERS, FORMATS
from grader.run.batch import ExportOutput, grade_path

from .conftest import check_golden

ROOT = Path(__file__).resolve().parent.parent
HW = ROOT / "rubrics" / "hw.yaml"
TITLE = "Homework 1: backpropagation"


# --- Canvas's importer, as documented (app/models/gradebook_importer.rb) -------------


def canvas_accepts_header(row: Sequence[str]) -> bool:
    """``row_has_student_headers?`` and ``header?``: the student-info prefix must end in a
    column containing "Section" (a transcription of the importer, kept apart from ours)."""

    def at(index: int) -> str:
        return row[index] if index < len(row) else ""

    if len(row) > 3 and "Student" in row[0] and "ID" in row[1]:
        names = 3
    elif len(row) > 4 and "LastName" in row[0] and "FirstName" in row[1] and "ID" in row[2]:
        names = 4
    else:
        return False
    columns = names
    if re.search(r"SIS\s+Login\s+ID", at(names - 1)):
        columns += 1
    elif re.search(r"SIS\s+User\s+ID", at(names - 1)) and re.search(r"SIS\s+Login\s+ID", at(names)):
        extra = 1 if re.search(r"Integration\s+ID", at(names + 1)) else 0
        columns += 2 + extra
        if re.search(r"Root\s+Account", at(names + 1 + extra)):
            columns += 1
    return "Section" in at(columns - 1)


def canvas_title_and_id(header: str) -> tuple[str, str | None]:
    """``Assignment.title_and_id``."""
    found = re.match(r"\A(.*)\s\((\d+)\)\Z", header)
    return (found.group(1), found.group(2)) if found else (header, None)


# --- a class and its rosters --------------------------------------------------------


def _six_digits(value: Any) -> Any:
    if isinstance(value, list):
        return [_six_digits(each) for each in value]
    return float(f"{value:.6g}") if isinstance(value, float) else value


def write_class(folder: Path, key: AnswerKey) -> Path:
    """ada: all right; bea: the first half only; cy: one matrix entry off; 104: not JSON;
    zed: on no roster."""
    folder.mkdir(parents=True, exist_ok=True)
    right = {answer_id: _six_digits(value) for answer_id, value in key.to_json().items()}
    half = dict(list(right.items())[: len(right) // 2])
    slipped = json.loads(json.dumps(right))
    slipped["q1c.dW.x2"][0][0] *= 1.5
    for student_id, answers in (("ada", right), ("bea", half), ("cy", slipped), ("zed", right)):
        text = json.dumps({"student_id": student_id, "answers": answers})
        (folder / f"{student_id}.json").write_text(text, encoding="utf-8")
    (folder / "104.json").write_text('{"answers": {"q1.yhat": [1, 2', encoding="utf-8")
    return folder


CANVAS_STUDENTS = [
    # name, LastName, FirstName, ID, SIS User ID, SIS Login ID, Section
    ("Lovelace, Ada", "Lovelace", "Ada", "101", "u-ada", "ada@uni.example", "Section A"),
    ("Byron, Bea", "Byron", "Bea", "102", "bea", "bbyron", "Section A"),
    ("Cy, Cyrus", "Cy", "Cyrus", "103", "s-cy", "cy", "Section B"),
    ("Dan, Dora", "Dan", "Dora", "104", "", "dd", "Section B"),
    ("Eve, Evelyn", "Eve", "Evelyn", "105", "s-eve", "eve", "Section B"),
]
FIELDS = ("Student", "LastName", "FirstName", "ID", "SIS User ID", "SIS Login ID", "Section")
EXTRA = {"Integration ID": "int-", "Root Account": "uni.example"}
ASSIGNMENTS = [f"{TITLE} (4321)", "Quiz 1 (4400)", "Current Score"]

LAYOUTS = {
    "minimal": ["Student", "ID", "Section"],
    "login": ["Student", "ID", "SIS Login ID", "Section"],
    "sis": ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"],
    "integration": ["Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section"],
    "root account": ["Student", "ID", "SIS User ID", "SIS Login ID", "Root Account", "Section"],
    "names": ["LastName", "FirstName", "ID", "SIS Login ID", "Section"],
}


def canvas_roster(
    path: Path,
    layout: Sequence[str] = LAYOUTS["sis"],
    assignments: Sequence[str] = ASSIGNMENTS,
    *,
    points_row: bool = True,
) -> Path:
    """A gradebook export as Canvas writes it, in one of the importer's layouts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*layout, *assignments])
    if points_row:
        writer.writerow(
            ["    Points Possible", *[""] * (len(layout) - 1), "100", "10", "(read only)"]
        )
    for student in CANVAS_STUDENTS:
        values = dict(zip(FIELDS, student, strict=True))
        row = [values.get(column, EXTRA.get(column, "") + values["ID"]) for column in layout]
        writer.writerow([*row, "", "8", "80"])
    path.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8")
    return path


MOODLE_ROSTER = (
    "First name,Last name,ID number,Email address,Quiz 1,Last downloaded from this course\n"
    "Ada,Lovelace,u-ada,ada@uni.example,8,1700000000\n"
    "Bea,Byron,bea,bbyron@uni.example,,1700000000\n"
    "Cyrus,Cy,s-cy,cy@uni.example,,1700000000\n"
    "Dora,Dan,104,dd@uni.example,,1700000000\n"
    "Evelyn,Eve,s-eve,eve@uni.example,,1700000000\n"
)


def grade(submissions: Path, out: Path, *options: str) -> Any:
    """`grade SUBMISSIONS --rubric hw.yaml --out OUT [options]` through CliRunner."""
    return CliRunner().invoke(
        app, ["grade", str(submissions), "--rubric", str(HW), "--out", str(out), *options]
    )


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def scores(out: Path) -> dict[str, float]:
    """Each student's total as results.jsonl records it."""
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["student_id"]: row["score"] for row in map(json.loads, lines)}


@pytest.fixture
def submissions(tmp_path: Path, hw_key: AnswerKey) -> Path:
    return write_class(tmp_path / "submissions", hw_key)


# --- Canvas -------------------------------------------------------------------------


def test_grade_names_every_output_it_wrote(tmp_path: Path, submissions: Path) -> None:
    """The printed summary names every file and folder grade wrote into --out, the
    export's gradebook included, each by its path."""
    roster = canvas_roster(tmp_path / "canvas.csv")
    out = tmp_path / "grades"
    result = grade(submissions, out, "--format", "canvas", "--roster", str(roster))
    written = sorted(path.name for path in out.iterdir())
    assert {"canvas.csv", "items.csv", "summary.md", "feedback", "similar.csv"} <= set(written)
    lines = [line for line in result.stdout.splitlines() if line.startswith("Wrote ")]
    named = " ".join(lines)
    for name in written:
        path = out / name
        assert f"{path}/" in named if path.is_dir() else f"{path}" in named, name
    assert f"{out / 'gradebook.csv'}, {out / 'results.jsonl'}, {out / 'feedback'}/" in lines[0]


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_canvas_export_passes_the_importers_header_rule(
    tmp_path: Path, submissions: Path, layout: list[str]
) -> None:
    """In every layout Canvas accepts, the export keeps the student columns as they were,
    passes the header rule, and names its one assignment column `Title (id)`."""
    roster = canvas_roster(tmp_path / "canvas.csv", layout)
    out = tmp_path / "grades"
    result = grade(submissions, out, "--format", "canvas", "--roster", str(roster))
    assert result.exit_code == 1, result.output  # 104.json cannot be read
    header, *rows = read_csv(out / "canvas.csv")
    assert canvas_accepts_header(header)
    assert header[:-1] == layout
    assert canvas_title_and_id(header[-1]) == (TITLE, "4321")
    assert rows[0][0].strip() == "Points Possible" and rows[0][-1] == "100"
    students = [row[: len(layout)] for row in read_csv(roster)[2:]]
    assert [row[:-1] for row in rows[1:]] == students
    assert len(students) == len(CANVAS_STUDENTS)


def test_canvas_scores_are_matched_by_login_user_id_and_id(
    tmp_path: Path, submissions: Path
) -> None:
    """ada by her login's e-mail name, bea by SIS User ID, cy by SIS Login ID, 104 by ID;
    Eve, with no submission, is left blank; zed, on no roster, is left out."""
    out = tmp_path / "grades"
    roster = canvas_roster(tmp_path / "canvas.csv")
    grade(submissions, out, "--format", "canvas", "--roster", str(roster))
    total = scores(out)
    cells = {row[0]: row[-1] for row in read_csv(out / "canvas.csv")[2:]}
    assert cells == {
        "Lovelace, Ada": f"{total['ada']:g}",
        "Byron, Bea": f"{total['bea']:g}",
        "Cy, Cyrus": f"{round(total['cy'], 4):g}",
        "Dan, Dora": "0",
        "Eve, Evelyn": "",
    }
    assert 0 < total["cy"] < total["ada"] and total["bea"] < total["ada"]


def test_canvas_golden(tmp_path: Path, submissions: Path, update_golden: bool) -> None:
    """canvas.csv and roster-report.csv of a class against a full Canvas export."""
    out = tmp_path / "grades"
    roster = canvas_roster(tmp_path / "canvas.csv")
    grade(submissions, out, "--format", "canvas", "--roster", str(roster))
    check_golden("canvas.csv", (out / "canvas.csv").read_text(encoding="utf-8"), update_golden)
    report = (out / "roster-report.csv").read_text(encoding="utf-8")
    check_golden(
        "roster-report.csv", report.replace(str(submissions), "SUBMISSIONS"), update_golden
    )


def test_unmatched_submissions_are_reported_on_stderr_and_in_a_file(
    tmp_path: Path, submissions: Path
) -> None:
    """zed matches no roster student: named on stderr and in roster-report.csv, with
    Eve's missing submission."""
    out = tmp_path / "grades"
    result = grade(
        submissions, out, "--format", "canvas", "--roster", str(canvas_roster(tmp_path / "c.csv"))
    )
    assert "zed: not on the roster" in result.stderr
    assert "1 roster student(s) have no submission" in result.stderr
    report = {(row[0], row[1] or row[2]) for row in read_csv(out / "roster-report.csv")[1:]}
    assert report == {("no submission", "Eve, Evelyn (eve)"), ("not on the roster", "zed")}


def test_a_second_submission_for_one_roster_student_is_reported(
    tmp_path: Path, submissions: Path, hw_key: AnswerKey
) -> None:
    """An id differing from a roster student's only in case (CY for cy) takes no cell,
    whichever is read first: it is reported as not on the roster, naming that student."""
    (submissions / "upper.json").write_text(
        json.dumps({"student_id": "CY", "answers": {}}), encoding="utf-8"
    )
    out = tmp_path / "grades"
    result = grade(
        submissions, out, "--format", "canvas", "--roster", str(canvas_roster(tmp_path / "c.csv"))
    )
    assert "CY: not on the roster (differs only in case from Cy, Cyrus" in result.stderr
    cells = {row[0]: row[-1] for row in read_csv(out / "canvas.csv")[2:]}
    assert cells["Cy, Cyrus"] == f"{round(scores(out)['cy'], 4):g}"


def test_assignment_id_option_names_the_column(tmp_path: Path, submissions: Path) -> None:
    """--assignment-id picks the roster's column with that id, or names a new `Title (id)`."""
    roster = canvas_roster(tmp_path / "canvas.csv")
    for assignment_id, column in (("4400", "Quiz 1 (4400)"), ("999", f"{TITLE} (999)")):
        out = tmp_path / assignment_id
        grade(
            submissions,
            out,
            "--format",
            "canvas",
            "--roster",
            str(roster),
            "--assignment-id",
            assignment_id,
        )
        assert read_csv(out / "canvas.csv")[0][-1] == column


def test_without_an_assignment_id_nothing_is_written(tmp_path: Path, submissions: Path) -> None:
    """No column titled like the rubric and no --assignment-id: exit 2, no outputs at all
    (Canvas would otherwise create a new assignment)."""
    roster = canvas_roster(tmp_path / "canvas.csv", assignments=["Quiz 1 (4400)"])
    out = tmp_path / "grades"
    result = grade(submissions, out, "--format", "canvas", "--roster", str(roster))
    assert result.exit_code == 2
    assert "--assignment-id" in result.stderr and "Quiz 1 (4400)" in result.stderr
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "canvas"], "--format canvas needs --roster"),
        (["--roster", "ROSTER"], "--roster needs --format canvas or --format moodle"),
        (["--format", "excel"], "--format must be one of"),
        (["--format", "moodle", "--assignment-id", "1"], "--assignment-id is for --format canvas"),
    ],
)
def test_bad_option_combinations_exit_2(
    tmp_path: Path, submissions: Path, args: list[str], message: str
) -> None:
    """Options that do not go together stop the command before anything is written."""
    roster = canvas_roster(tmp_path / "canvas.csv")
    args = [str(roster) if arg == "ROSTER" else arg for arg in args]
    result = grade(submissions, tmp_path / "g", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "g" / "gradebook.csv").exists()


def test_a_semicolon_export_with_a_bom_is_read(tmp_path: Path, submissions: Path) -> None:
    """Canvas exports in decimal-comma locales use `;`; the export reads them the same."""
    roster = canvas_roster(tmp_path / "canvas.csv")
    text = roster.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    roster.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8")
    out = tmp_path / "grades"
    grade(submissions, out, "--format", "canvas", "--roster", str(roster))
    header, _, *students = read_csv(out / "canvas.csv")
    assert header[:-1] == LAYOUTS["sis"]
    assert [row[0] for row in students] == [student[0] for student in CANVAS_STUDENTS]


def test_a_roster_canvas_would_reject_is_refused(tmp_path: Path, submissions: Path) -> None:
    """SIS User ID without SIS Login ID after it is not a Canvas layout: exit 2."""
    roster = canvas_roster(tmp_path / "c.csv", ["Student", "ID", "SIS User ID", "Section"])
    assert not canvas_accepts_header([*["Student", "ID", "SIS User ID", "Section"], "HW (1)"])
    result = grade(submissions, tmp_path / "g", "--format", "canvas", "--roster", str(roster))
    assert result.exit_code == 2
    assert "not a Canvas gradebook export" in result.stderr


def test_the_plain_gradebook_is_written_unchanged(tmp_path: Path, submissions: Path) -> None:
    """gradebook.csv (README.md, "What `grade` writes") is the same with or without an LMS
    format."""
    grade(submissions, tmp_path / "plain")
    grade(
        submissions,
        tmp_path / "canvas",
        "--format",
        "canvas",
        "--roster",
        str(canvas_roster(tmp_path / "c.csv")),
    )
    plain = (tmp_path / "plain" / "gradebook.csv").read_text(encoding="utf-8")
    assert plain == (tmp_path / "canvas" / "gradebook.csv").read_text(encoding="utf-8")
    assert sorted(path.name for path in (tmp_path / "plain").iterdir()) == [
        "feedback",
        "gradebook.csv",
        "items.csv",
        "results.jsonl",
        "similar.csv",
        "summary.md",
    ]


# --- Moodle -------------------------------------------------------------------------


def test_moodle_with_a_roster(tmp_path: Path, submissions: Path, update_golden: bool) -> None:
    """Identifier, grade and feedback per roster student; no submission: empty grade and
    "no submission"; zed, whom Moodle would refuse, is left out and reported."""
    roster = tmp_path / "moodle-roster.csv"
    roster.write_text(MOODLE_ROSTER, encoding="utf-8")
    out = tmp_path / "grades"
    result = grade(submissions, out, "--format", "moodle", "--roster", str(roster))
    assert "zed: not on the roster" in result.stderr
    header, *rows = read_csv(out / "moodle.csv")
    assert header == ["Email address", TITLE, f"Feedback: {TITLE}"]
    total = scores(out)
    by_email = {row[0]: row[1:] for row in rows}
    assert by_email["ada@uni.example"] == [
        f"{total['ada']:g}",
        "Score 100 / 100: every answer right.",
    ]
    assert by_email["eve@uni.example"] == ["", "no submission"]
    assert (
        by_email["dd@uni.example"][0] == "0"
        and "could not be read" in by_email["dd@uni.example"][1]
    )
    assert "q1c.dW.x2" in by_email["cy@uni.example"][1]
    assert len(rows) == 5
    check_golden("moodle.csv", (out / "moodle.csv").read_text(encoding="utf-8"), update_golden)


def test_moodle_without_a_roster(tmp_path: Path, submissions: Path, update_golden: bool) -> None:
    """Without a roster, one row per submission, identified by its student id."""
    (submissions / "mallory.json").write_text(
        json.dumps({"student_id": "=cmd|' /C calc'!A0", "answers": {}}), encoding="utf-8"
    )
    out = tmp_path / "grades"
    result = grade(submissions, out, "--format", "moodle")
    assert result.exit_code == 1
    header, *rows = read_csv(out / "moodle.csv")
    assert header == ["Username", TITLE, f"Feedback: {TITLE}"]
    assert [row[0] for row in rows] == ["104", "ada", "bea", "cy", "'=cmd|' /C calc'!A0", "zed"]
    assert not (out / "roster-report.csv").exists()
    check_golden(
        "moodle-no-roster.csv", (out / "moodle.csv").read_text(encoding="utf-8"), update_golden
    )


def test_moodle_roster_needs_an_identifier_column(tmp_path: Path, submissions: Path) -> None:
    """A roster with no username, e-mail or ID number column: exit 2, saying which it needs."""
    roster = tmp_path / "roster.csv"
    roster.write_text("First name,Last name\nAda,Lovelace\n", encoding="utf-8")
    result = grade(submissions, tmp_path / "g", "--format", "moodle", "--roster", str(roster))
    assert result.exit_code == 2
    assert "no identifier column" in result.stderr


# --- the exporters ------------------------------------------------------------------


def test_the_format_choices_are_the_exporters(tmp_path: Path, submissions: Path) -> None:
    """``--format`` is plain or one of the registered exporters: each is named in the
    help of `grade` and `grader merge`, and an unknown one is refused listing them all."""
    assert ("plain", *EXPORTERS) == FORMATS
    for command in ("grade", "merge"):
        shown = CliRunner().invoke(app, [command, "--help"], terminal_width=200).stdout
        assert all(name in shown for name in EXPORTERS), shown
    result = grade(submissions, tmp_path / "g", "--format", "blackboard")
    assert result.exit_code == 2
    assert f"--format must be one of {', '.join(FORMATS)}" in result.stderr


def test_an_export_gets_the_full_result_of_each_gradebook_row(
    tmp_path: Path, submissions: Path, hw_key: AnswerKey
) -> None:
    """What an export receives is the whole result of each gradebook row (answers,
    messages and diagnoses, as results.jsonl records it), in row order: two claimants
    of one id are two rows, each saying so."""
    (submissions / "zz-ada-again.json").write_text(
        json.dumps({"student_id": "ada", "answers": {"q1.yhat": [1, 2, 3]}}), encoding="utf-8"
    )
    seen: list[StudentResult] = []

    def capture(results: Sequence[StudentResult], key: AnswerKey) -> ExportOutput:
        seen.extend(results)
        return ExportOutput((("seen.txt", f"{len(results)} rows\n"),), ("checked",))

    report = grade_path(submissions, hw_key, tmp_path / "out", exports=[capture])
    assert (report.exported, report.export_problems) == (("seen.txt",), ("checked",))
    assert (tmp_path / "out" / "seen.txt").read_text(encoding="utf-8") == "6 rows\n"
    gradebook = read_csv(tmp_path / "out" / "gradebook.csv")[1:]
    assert [result.student_id for result in seen] == [row[0] for row in gradebook]
    lines = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    by_source = {record["source"]: record for record in map(json.loads, lines)}
    for result in seen:
        record = by_source[result.source]
        assert (result.student_id, result.warnings) == (
            record["student_id"],
            tuple(record["warnings"]),
        )
        assert [(i.message, i.raw, i.diagnoses) for i in result.items] == [
            (i["message"], i["raw"], tuple(i["diagnoses"])) for i in record["items"]
        ]
    assert sorted(
        result.source.rsplit("/", 1)[-1] for result in seen if result.student_id == "ada"
    ) == [
        "ada.json",
        "zz-ada-again.json",
    ]
    assert any(item.message and item.status != "correct" for item in seen[3].items)


@pytest.mark.parametrize("format", ["canvas", "moodle"])
def test_merge_writes_the_lms_gradebook_grade_writes(
    tmp_path: Path, submissions: Path, format: str
) -> None:
    """`grader merge --format F --roster R` of a run's results.jsonl writes the same LMS
    files, byte for byte, as `grade --format F --roster R` over the submissions."""
    if format == "canvas":
        roster = canvas_roster(tmp_path / "canvas.csv")
    else:
        roster = tmp_path / "moodle-roster.csv"
        roster.write_text(MOODLE_ROSTER, encoding="utf-8")
    options = ["--format", format, "--roster", str(roster)]
    grade(submissions, tmp_path / "one", *options)
    grade(submissions, tmp_path / "plain")
    shard = str(tmp_path / "plain" / "results.jsonl")
    merged = CliRunner().invoke(
        app, ["merge", shard, "--rubric", str(HW), "--out", str(tmp_path / "merged"), *options]
    )
    assert merged.exit_code == 1, merged.output  # 104.json could not be read
    assert "zed: not on the roster" in merged.stderr
    for name in (f"{format}.csv", "roster-report.csv"):
        assert (tmp_path / "merged" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
