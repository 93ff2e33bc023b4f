"""Every student accounted for: ids no student can forge, no row lost or merged.

Each test is one attack (a hostile student) or one accident (a sloppy spreadsheet, a
template left unfilled) and what the grader must do about it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader import AnswerKey
from grader.cli import app
from grader.errors import SubmissionError
from grader.grading.results import StudentResult
from grader.intake.identity import canonical_id, fallback_id, looks_like_placeholder
from grader.intake.readers import read_entry, read_file
from grader.intake.submission import Unreadable
from grader.integrations.roster import Roster, RosterStudent, match_roster
from grader.limits import Limits
from grader.run.batch import grade_path
from grader.run.output import feedback_stem

from .conftest import EXAMPLES

HW = "rubrics/hw.yaml"
PERFECT = json.loads((EXAMPLES / "ada-perfect.json").read_text(encoding="utf-8"))["answers"]


def _answers(folder: Path, student_id: str | None = None, answers: object = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {"answers": PERFECT if answers is None else answers}
    if student_id is not None:
        data["student_id"] = student_id
    path = folder / "answers.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _gradebook(out: Path) -> dict[str, dict[str, str]]:
    text = (out / "gradebook.csv").read_text(encoding="utf-8")
    return {row["student_id"]: row for row in csv.DictReader(io.StringIO(text))}


def _gradebook_rows(out: Path) -> list[dict[str, str]]:
    text = (out / "gradebook.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _grade(folder: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["grade", str(folder), "--rubric", HW, "--out", str(out), *extra]
    )
    return result.exit_code, result.stderr if result.stderr_bytes is not None else result.output


# --- identity by where a file was found --------------------------------------------------


def test_in_a_student_folder_the_folder_name_wins_over_a_student_id_in_the_file(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """mallory writes alice's id into her answers: she gets her own row (with a warning
    the gradebook shows), and alice's row and feedback stay alice's."""
    folder = tmp_path / "class"
    _answers(folder / "alice", "alice", answers={"q1.yhat": [1, 2, 3]})
    _answers(folder / "mallory", "alice")
    grade_path(folder, hw_key, tmp_path / "out")
    rows = _gradebook(tmp_path / "out")
    assert sorted(rows) == ["alice", "mallory"]
    assert float(rows["alice"]["total"]) == 0
    assert float(rows["mallory"]["total"]) == 100
    assert "student id mismatch" in rows["mallory"]["status"]
    assert "'alice'" in rows["mallory"]["status"]
    assert rows["alice"]["status"] == "graded"
    feedback = (tmp_path / "out" / "feedback" / "alice.md").read_text(encoding="utf-8")
    assert "mallory" not in feedback


def test_a_class_csv_in_a_student_folder_cannot_grade_classmates(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """A student's folder holding a student_id,... CSV of several rows is that student's
    unreadable row; no classmate gets a row from it. One row is that student's answers."""
    folder = tmp_path / "class"
    (folder / "mallory").mkdir(parents=True)
    (folder / "mallory" / "answers.csv").write_text(
        "student_id,q1.yhat\nalice,0\nbob,0\nmallory,1\n", encoding="utf-8"
    )
    (folder / "trudy").mkdir()
    (folder / "trudy" / "answers.csv").write_text(
        "student_id,q2d.yhat\nalice,0.0567\n", encoding="utf-8"
    )
    grade_path(folder, hw_key, tmp_path / "out")
    rows = _gradebook(tmp_path / "out")
    assert sorted(rows) == ["mallory", "trudy"]
    assert "a class CSV (student_id,...) of 3 rows" in rows["mallory"]["status"]
    assert "student id mismatch" in rows["trudy"]["status"]


def test_an_uploaded_class_csv_is_read_as_one_student_only(tmp_path: Path) -> None:
    """A file a student uploads (read with classes=False, as Classroom and Gradescope
    read it) may hold one row, never a class."""
    path = tmp_path / "upload.csv"
    path.write_text("student_id,q1.yhat\nalice,0\nbob,0\n", encoding="utf-8")
    with pytest.raises(SubmissionError, match="of 2 rows"):
        read_file(path, ["q1.yhat"], classes=False)
    path.write_text("student_id,q1.yhat\nbob,0\n", encoding="utf-8")
    [one] = read_file(path, ["q1.yhat"], classes=False)
    assert one.student_id == "bob"


def test_template_ids_are_recognised(tmp_path: Path, hw_key: AnswerKey) -> None:
    """Three Classroom folders whose answers.json still says YOUR_ID_HERE are three
    students; a loose file with a placeholder id is named by its file; a class row with
    one is an error row."""
    folder = tmp_path / "class"
    for name in ("ann", "ben", "cat"):
        _answers(folder / name, "YOUR_ID_HERE")
    _answers(folder / "loose")  # the file answers.json holds no id: moved below
    (folder / "loose" / "answers.json").rename(folder / "dan.json")
    (folder / "loose").rmdir()
    data = json.loads((folder / "dan.json").read_text(encoding="utf-8"))
    (folder / "dan.json").write_text(json.dumps({**data, "student_id": "<your id>"}))
    (folder / "roll.csv").write_text("student_id,q1.yhat\nyour-name-here,0\neve,0\n")
    grade_path(folder, hw_key, tmp_path / "out")
    rows = _gradebook(tmp_path / "out")
    assert sorted(rows) == ["?your-name-here", "ann", "ben", "cat", "dan", "eve"]
    assert "placeholder" in rows["?your-name-here"]["status"]
    assert all(float(rows[name]["total"]) == 100 for name in ("ann", "ben", "cat", "dan"))
    for text in ("YOUR_ID_HERE", "your id", "<student id>", "TODO", "xxxx", "Enter ID here"):
        assert looks_like_placeholder(text), text
    for text in ("alice", "s1001", "max", "Xu", "idris", "todorov"):
        assert not looks_like_placeholder(text), text


# --- one rule for ids: refused or distinct, never merged -------------------------------


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("ali\u200bce", "U+200B"),  # zero-width space
        ("ali\u202ece", "U+202E"),  # bidi override
        ("alice\u00ad", "U+00AD"),  # soft hyphen
        ("al\u3164ice", "U+3164"),  # Hangul filler: a letter that renders as nothing
        ("ali\tce", "U+0009"),
        ("ali\u00a0ce", "U+00A0"),  # no-break space
        ("?alice", "begins with '?'"),  # the mark of refused ids' rows
    ],
)
def test_invisible_characters_in_an_id_are_refused_not_stripped(name: str, refused: str) -> None:
    """Stripping would make 'ali\\u200bce' alice; it is refused, naming the character."""
    with pytest.raises(SubmissionError, match=refused.replace("+", r"\+").replace("?", r"\?")):
        canonical_id(name)
    assert fallback_id(name) != "alice" and fallback_id(name).startswith("?")


def test_a_file_named_with_a_zero_width_space_does_not_become_alice(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(EXAMPLES / "ada-perfect.json", folder / "ada.json")
    data = {"answers": {"q1.yhat": [0, 0, 0]}}
    (folder / "alice.json").write_text(json.dumps(data), encoding="utf-8")
    (folder / "ali\u200bce.json").write_text(json.dumps({"answers": PERFECT}), encoding="utf-8")
    report = grade_path(folder, hw_key, tmp_path / "out")
    rows = _gradebook(tmp_path / "out")
    assert sorted(rows) == ["?ali\\u200bce", "ada", "alice"]
    assert float(rows["alice"]["total"]) == 0
    assert "U+200B (ZERO WIDTH SPACE)" in rows["?ali\\u200bce"]["status"]
    assert report.exit_code == 1


def test_unicode_spellings_of_one_name_are_one_id_and_reported(tmp_path: Path) -> None:
    """'Zoe' + combining diaeresis (macOS) and 'Zoë' are one id (NFC): an id conflict,
    named in both rows' status and the summary printed for the instructor."""
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("Zoe\u0308.json", "Zo\u00eb.json"):
        (folder / name).write_text(json.dumps({"answers": PERFECT}), encoding="utf-8")
    if len(os.listdir(folder)) < 2:
        pytest.skip("this file system stores one spelling of a name")  # pragma: no cover
    code, stderr = _grade(folder, tmp_path / "out")
    rows = _gradebook_rows(tmp_path / "out")
    assert [row["student_id"] for row in rows] == ["Zo\u00eb", "Zo\u00eb"]
    assert all(row["status"].startswith("id conflict: ") for row in rows)
    assert "1 student id(s) are claimed by more than one submission" in stderr
    assert code == 0


@pytest.mark.skipif(sys.platform != "linux", reason="file names of any bytes: Linux")
def test_file_names_of_undecodable_bytes_stay_distinct_and_are_refused(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """Zo\\xeb.json and Zo\\xe9.json (Windows-1252 names from a zip) were both 'Zo', and
    a name of undecodable bytes only was the empty id: each is now its own error row."""
    folder = tmp_path / "class"
    folder.mkdir()
    for raw in (b"Zo\xeb.json", b"Zo\xe9.json", b"\xff\xfe.json"):
        with open(os.path.join(os.fsencode(folder), raw), "w", encoding="utf-8") as file:
            json.dump({"answers": PERFECT}, file)
    report = grade_path(folder, hw_key, tmp_path / "out")
    rows = _gradebook(tmp_path / "out")
    assert sorted(rows) == ["?Zo\\xe9", "?Zo\\xeb", "?\\xff\\xfe"]
    assert all("not UTF-8" in row["status"] for row in rows.values())
    assert len(list((tmp_path / "out" / "feedback").iterdir())) == 3
    assert report.students == 3 and report.exit_code == 1


def test_a_student_folder_with_a_refused_name_keeps_a_distinct_row(tmp_path: Path) -> None:
    _answers(tmp_path / "bo\u200bb")
    [row] = read_entry(tmp_path / "bo\u200bb", "bo\u200bb", ["q1.yhat"])
    assert row.student_id == "?bo\\u200bb" and "folder name" in getattr(row, "error", "")


def test_empty_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"student_id": "   ", "answers": {}}', encoding="utf-8")
    with pytest.raises(SubmissionError, match="the student_id is empty"):
        read_file(path, [])
    path = tmp_path / "class.csv"
    path.write_text("student_id,q1.yhat\n,1\n  ,2\n", encoding="utf-8")
    ids = [row.student_id for row in read_file(path, ["q1.yhat"])]
    assert ids == ["?class line 2", "?class line 3"]


def test_feedback_file_names_cannot_be_forged(tmp_path: Path, hw_key: AnswerKey) -> None:
    """An id equal to another id's hashed feedback name, and ids differing only in case
    (one file on macOS and Windows), all get files of their own."""
    victim = "a/b"
    forger = feedback_stem(victim)  # anyone can compute it
    folder = tmp_path / "class"
    folder.mkdir()
    lines = ["student_id,q2d.yhat"] + [f"{who},{n}" for n, who in enumerate((victim, forger))]
    lines += [f"{who},{n}" for n, who in enumerate(("alice", "Alice", "ALICE"), start=2)]
    (folder / "class.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    grade_path(folder, hw_key, tmp_path / "out")
    names = [path.name.casefold() for path in (tmp_path / "out" / "feedback").iterdir()]
    assert len(names) == len(set(names)) == 5
    assert (tmp_path / "out" / "feedback" / "alice.md").is_file()


def _result(student_id: str) -> StudentResult:
    return StudentResult(student_id, f"{student_id}.json", 0.0, 1.0, "graded", None, (), ())


def test_a_roster_matches_ids_exactly_so_case_takes_no_one_s_cell() -> None:
    """ALICE (read first, as sorted names put capitals first) does not take Alice's
    Canvas cell; it is reported, naming the student it resembles."""
    alice = RosterStudent(("Alice",), ("alice", "1001"), "Alice (alice)")
    roster = Roster("roster.csv", ("Student",), (alice,))
    match = match_roster(roster, [_result("ALICE"), _result("alice")])
    assert match.pairs[0][1] is not None and match.pairs[0][1].student_id == "alice"
    [(who, why)] = match.unmatched
    assert who.student_id == "ALICE" and "differs only in case from Alice (alice)" in why


# --- nothing lost, nothing invented ----------------------------------------------------


def test_an_unclosed_quote_loses_no_later_row(tmp_path: Path) -> None:
    """Before: every row after the quote was one cell, and gone. Now the row with the
    quote is an error row saying so, and every later line is read."""
    path = tmp_path / "class.csv"
    path.write_text(
        'student_id,q2d.yhat\nann,0.05\nben,"0.05\ncat,0.06\ndan,0.07\n', encoding="utf-8"
    )
    read = read_file(path, ["q2d.yhat"])
    assert [row.student_id for row in read] == ["ann", "?ben", "cat", "dan"]
    assert "never closed" in getattr(read[1], "error", "")
    assert read[3].answers == {"q2d.yhat": "0.07"}  # type: ignore[union-attr]


def test_an_unclosed_quote_in_a_student_csv_is_a_warning_and_later_lines_are_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bo.csv"
    path.write_text('question,answer\nq1,"[1, 2\nq2,3\n', encoding="utf-8")
    [read] = read_file(path, ["q1", "q2"])
    assert read.answers == {"q2": "3"}  # type: ignore[union-attr]
    assert any("line 2" in w and "never closed" in w for w in read.warnings)  # type: ignore[union-attr]


def test_a_quoted_cell_over_several_lines_is_still_one_answer(tmp_path: Path) -> None:
    """A pasted matrix with its line breaks, quoted and closed, is one cell as before."""
    path = tmp_path / "bo.csv"
    path.write_text('question,answer\nq1,"1 2\n3 4"\nq2,5\n', encoding="utf-8")
    [read] = read_file(path, ["q1", "q2"])
    assert read.answers == {"q1": "1 2\n3 4", "q2": "5"}  # type: ignore[union-attr]


def test_rows_delimited_otherwise_than_the_header_are_reported(tmp_path: Path) -> None:
    """A ';' header over ',' rows graded everyone 0 under ids like 'ann,0.05'."""
    path = tmp_path / "class.csv"
    path.write_text("student_id;q2d.yhat;q1.yhat\nann,0.05,1\nben;0.05;1\n", encoding="utf-8")
    read = read_file(path, ["q2d.yhat", "q1.yhat"])
    assert [row.student_id for row in read] == ["?ann,0.05,1", "ben"]
    assert "delimited by ',' but the header by ';'" in getattr(read[0], "error", "")


def test_repeated_headers_and_summary_rows_are_not_students(tmp_path: Path) -> None:
    """Two exports pasted together repeat the header; a spreadsheet adds an Average row.
    Neither is a student; both are reported rows (exit 1), never graded as students."""
    path = tmp_path / "class.csv"
    path.write_text(
        "student_id,q2d.yhat\nann,0.05\nStudent ID,q2d.yhat\nben,0.06\nAverage,0.055\n",
        encoding="utf-8",
    )
    read = read_file(path, ["q2d.yhat"])
    kinds = [(type(row).__name__, row.student_id) for row in read]
    assert kinds == [
        ("Submission", "ann"),
        ("Unreadable", "?Student ID"),
        ("Submission", "ben"),
        ("Unreadable", "?Average"),
    ]
    assert "repeated header row" in getattr(read[1], "error", "")
    assert "summary row" in getattr(read[3], "error", "")


def test_out_equal_to_the_submissions_folder_is_refused(tmp_path: Path) -> None:
    """Writing the gradebook into the submissions folder made the next run grade it."""
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(EXAMPLES / "ada-perfect.json", folder / "ada.json")
    code, stderr = _grade(folder, folder)
    assert code == 2 and "is the submissions folder" in stderr
    assert sorted(os.listdir(folder)) == ["ada.json"]
    code, _ = _grade(folder, folder / "grades")  # inside: fine, and not read next time
    code, _ = _grade(folder, folder / "grades")
    assert code == 0 and list(_gradebook(folder / "grades")) == ["ada"]


def test_deep_folder_nesting_is_one_student_s_error_not_a_crash(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """1,200 nested folders raised RecursionError and stopped the class."""
    folder = tmp_path / "class"
    deep = folder / "deep"
    os.makedirs(folder / "deep", exist_ok=True)
    here = os.open(deep, os.O_RDONLY)
    try:
        for _ in range(1200):  # relative steps: the full path would pass PATH_MAX
            os.mkdir("d", dir_fd=here)
            inner = os.open("d", os.O_RDONLY, dir_fd=here)
            os.close(here)
            here = inner
    finally:
        os.close(here)
    shutil.copy(EXAMPLES / "ada-perfect.json", folder / "ada.json")
    try:
        report = grade_path(folder, hw_key, tmp_path / "out")
    finally:
        _remove_chain(deep, 1200)  # shutil.rmtree recurses too (pytest's clean-up): bottom up
    rows = _gradebook(tmp_path / "out")
    assert sorted(rows) == ["ada", "deep"]
    assert "nested more than" in rows["deep"]["status"]
    assert report.exit_code == 1


def _remove_chain(top: Path, depth: int) -> None:
    descriptors = [os.open(top, os.O_RDONLY)]
    for _ in range(depth - 1):
        descriptors.append(os.open("d", os.O_RDONLY, dir_fd=descriptors[-1]))
    while descriptors:
        here = descriptors.pop()
        os.rmdir("d", dir_fd=here)
        os.close(here)


# --- output a student controls ----------------------------------------------------------


def test_file_names_reach_the_terminal_escaped(tmp_path: Path) -> None:
    """An ANSI escape or a '::' workflow command in a file name is printed inert."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "\x1b[2J::error::x.json").write_text("{", encoding="utf-8")
    code, stderr = _grade(folder, tmp_path / "out")
    assert code == 1
    assert "\x1b" not in stderr and "::error::" not in stderr
    assert "\\x1b[2J" in stderr


HOSTILE_TEXT = (
    "x\n\n# Score: 100 / 100\n<img src=x onerror=alert(1)> [link](http://e) \x1b[2J\u202e"
)


def _hostile_answers(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    answers = {**PERFECT, "q2d.yhat": HOSTILE_TEXT, "q2a.grad_f": [HOSTILE_TEXT, "y"]}
    answers[HOSTILE_TEXT] = 1  # an unknown answer id, quoted in a warning
    path = folder / "answers.json"
    path.write_text(json.dumps({"student_id": "s", "answers": answers}), encoding="utf-8")
    return path


def _assert_inert_markdown(text: str) -> None:
    """No heading but the grader's, no HTML tag, link or image outside a code span (where
    Markdown shows text as it is), no control character."""
    prose = re.sub(r"`[^`\n]*`", "", text)
    assert not re.search(r"(?<!\\)<img|(?<!\\)\]\(http", prose), "markup got through"
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert all("Score: 100" not in line for line in headings), headings
    assert not any(char in text for char in "\x1b\u202e"), "a control character got through"
    assert not any(line.startswith("::") for line in text.splitlines())


def test_what_a_student_wrote_is_escaped_in_the_feedback_and_the_job_summary(
    tmp_path: Path,
) -> None:
    """Unknown-id warnings and messages quoting an answer reached the feedback and the
    Classroom job summary raw: a fake '# Score: 100 / 100' heading, an <img> tag."""
    answers = _hostile_answers(tmp_path / "class" / "s")
    code, _ = _grade(tmp_path / "class", tmp_path / "out")
    assert code == 0
    feedback = (tmp_path / "out" / "feedback" / "s.md").read_text(encoding="utf-8")
    _assert_inert_markdown(feedback)
    assert "\\# Score: 100 / 100\\\\x0a\\<img" in feedback  # shown, as text
    output, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    done = CliRunner().invoke(
        app,
        ["classroom", str(answers), "--rubric", HW],
        env={"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert done.exit_code == 0, done.output
    _assert_inert_markdown(summary.read_text(encoding="utf-8"))
    _assert_inert_markdown(done.stdout)  # the job's log


def test_grader_check_prints_no_terminal_escape(tmp_path: Path) -> None:
    """What a student wrote reaches the terminal of `grader check` with its escapes shown."""
    answers = _hostile_answers(tmp_path / "s")
    done = CliRunner().invoke(app, ["check", str(answers), "--rubric", HW])
    assert done.exit_code == 0
    _assert_inert_markdown(done.stdout)
    assert "\\x1b[2J" in done.stdout


def test_a_small_class_csv_cannot_write_a_feedback_file_per_line(tmp_path: Path) -> None:
    """A 1.1 MB CSV of 200,000 empty rows wrote 200,000 feedback files (1.5 GB): a file
    gives at most Limits.max_rows_per_file students, and one error row says how many
    rows were not read, so none is lost without a word."""
    rows = "student_id,q1.yhat\n" + "".join(f"s{n}\n" for n in range(200_000))
    (tmp_path / "class.csv").write_text(rows, encoding="utf-8")
    read = read_file(tmp_path / "class.csv", ["q1.yhat"])
    assert len(read) == 10_001
    assert isinstance(read[-1], Unreadable)
    assert "190,000 rows more than the 10,000" in read[-1].error
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "class.csv").write_text(rows[: rows.index("s300\n")], encoding="utf-8")
    code, stderr = _grade(folder, tmp_path / "out", "--limit", "max_rows_per_file=50")
    assert code == 1 and "max_rows_per_file" in stderr
    assert len(list((tmp_path / "out" / "feedback").iterdir())) == 51
    assert len(_gradebook(tmp_path / "out")) == 51


# --- crashes that looked like success -----------------------------------------------------

SURROGATES = (
    '{"student_id": "s", "answers": {"q1.yhat": "0.05\\udc00", "q2a.grad_f": ["x\\ud800"]}}'
)


def test_lone_surrogates_do_not_crash_check_classroom_or_gradescope(tmp_path: Path) -> None:
    """A JSON \\udc00 escape crashed check (exit 1), classroom after its result (exit 1,
    documented 0) and gradescope (no results.json): each now finishes as documented."""
    answers = tmp_path / "answers.json"
    answers.write_text(SURROGATES, encoding="ascii")
    runner = CliRunner()
    done = runner.invoke(app, ["check", str(answers), "--rubric", HW])
    assert done.exit_code == 0 and "\\udc00" in done.stdout
    output, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    done = runner.invoke(
        app,
        ["classroom", str(answers), "--rubric", HW],
        env={"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert done.exit_code == 0, done.output
    assert output.read_text(encoding="utf-8").startswith("result=")
    assert "\\udc00" in summary.read_text(encoding="utf-8")
    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copy(answers, upload / "answers.json")
    results = tmp_path / "results" / "results.json"
    done = runner.invoke(app, ["gradescope", str(upload), "--rubric", HW, "--out", str(results)])
    assert done.exit_code == 0 and json.loads(results.read_text(encoding="utf-8"))["tests"]


def test_a_full_disk_is_its_own_exit_status_and_leaves_the_previous_outputs(
    tmp_path: Path, hw_key: AnswerKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk exited 1 with a traceback: the code a CI recipe (|| test $? -eq 1)
    accepts. It is now a WriteError (exit 3) and the previous outputs are untouched."""
    import errno

    from grader.errors import WriteError

    out = tmp_path / "out"
    grade_path(EXAMPLES, hw_key, out)
    before = (out / "gradebook.csv").read_bytes()

    def full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(WriteError, match="No space left on device") as caught:
        grade_path(EXAMPLES, hw_key, out)
    assert caught.value.exit_code == 3
    assert (out / "gradebook.csv").read_bytes() == before
    assert not list(out.glob(".staging-*"))


def test_an_unexpected_error_exits_4_with_one_line_and_the_traceback_in_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from grader import cli

    def broken() -> None:
        cli.OUTPUT_FOLDER.append(tmp_path / "grades")
        raise KeyError("surprise")

    with pytest.raises(SystemExit) as caught:
        cli.run(broken)
    assert caught.value.code == 4
    line = capsys.readouterr().err
    assert line.count("\n") == 1 and "internal error: KeyError" in line
    assert "Traceback" in (tmp_path / "grades" / "grader-error.txt").read_text(encoding="utf-8")

    def no_space() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(SystemExit) as caught:
        cli.run(no_space)
    assert caught.value.code == 3
    cli.OUTPUT_FOLDER.clear()


def test_merge_refuses_a_shard_graded_with_another_rubric_of_the_same_answer_ids(
    tmp_path: Path,
) -> None:
    """Same answer ids, same points, another tolerance: the records' rubric fingerprint
    differs, so merge stops (exit 2) and writes nothing."""
    other = tmp_path / "other.yaml"
    text = (Path(HW)).read_text(encoding="utf-8")
    assert "rtol: 0.02" in text
    other.write_text(text.replace("rtol: 0.02", "rtol: 0.05", 1), encoding="utf-8")
    runner = CliRunner()
    for name, rubric in (("a", HW), ("b", str(other))):
        done = runner.invoke(
            app,
            [
                "grade",
                str(EXAMPLES / "ada-perfect.json"),
                "--rubric",
                rubric,
                "--out",
                str(tmp_path / name),
            ],
        )
        assert done.exit_code == 0, done.output
    shards = [str(tmp_path / name / "results.jsonl") for name in ("a", "b")]
    done = runner.invoke(app, ["merge", *shards, "--rubric", HW, "--out", str(tmp_path / "m")])
    assert done.exit_code == 2
    assert "graded with another rubric (fingerprint" in done.output
    assert not (tmp_path / "m" / "gradebook.csv").exists()
    done = runner.invoke(app, ["merge", shards[0], "--rubric", HW, "--out", str(tmp_path / "m")])
    assert done.exit_code == 0


# --- a time limit per submission -----------------------------------------------------------

SLOW_TERMS = 400_000
"""An expression answer this long takes some 12 s to grade with its caps raised (caps the
instructor may raise), far beyond the 1 s limit the test sets."""


def _slow_class(folder: Path) -> Limits:
    folder.mkdir()
    slow = "+".join(f"{n % 97}*x*y" for n in range(SLOW_TERMS))
    _answers(folder / "ann")
    _answers(folder / "slow", answers={**PERFECT, "q2a.grad_f": [slow, "y"]})
    _answers(folder / "zed")
    big = 10**8
    return Limits(
        max_seconds_per_submission=1,
        max_answer_text=big,
        max_expression_length=big,
        max_expression_nodes=big,
    )


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_submission_over_the_time_limit_gets_an_error_row_and_the_class_goes_on(
    tmp_path: Path, hw_key: AnswerKey, jobs: int
) -> None:
    """One slow submission held up the class (and --jobs waited on its worker): over
    Limits.max_seconds_per_submission it is an error row saying so, everyone else is
    graded, with one process or several. Budget: the whole class in under 10 s of wall time
    (the slow answer alone takes some 12 s unlimited; the margin is for a loaded machine)."""
    limits = _slow_class(tmp_path / "class")
    start = time.perf_counter()
    report = grade_path(tmp_path / "class", hw_key, tmp_path / "out", jobs=jobs, limits=limits)
    assert time.perf_counter() - start < 10
    rows = _gradebook(tmp_path / "out")
    assert rows["slow"]["status"].startswith("grading took more than 1 s")
    assert float(rows["ann"]["total"]) == float(rows["zed"]["total"]) == 100
    assert report.exit_code == 1


def test_a_class_csv_with_no_student_rows_is_a_row_saying_so(tmp_path: Path) -> None:
    """A header-only class CSV gave no row at all: the file is now an error row."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "section-c.csv").write_text("student_id,q1.yhat\n", encoding="utf-8")
    code, stderr = _grade(folder, tmp_path / "out")
    assert code == 1 and "no student rows" in stderr
    assert list(_gradebook(tmp_path / "out")) == ["section-c"]
