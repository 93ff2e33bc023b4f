"""Reading submission files as spreadsheets, editors and LMS downloads produce them:
encodings, delimiters, decimal commas, duplicates (the last counts, and it is reported),
folders and links; for any bytes, submissions or the project's own error."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import AnswerKey, grade_submission
from grader.errors import GraderError, SubmissionError
from grader.intake.readers import answers_file, decode, discover, read_all, read_bytes, read_file
from grader.intake.submission import DUPLICATE_ANSWER, Submission, Unreadable
from grader.limits import DEFAULT_LIMITS, Limits
from grader.solver.key import Expressions

from .conftest import EXAMPLES

KNOWN = ["q1.yhat", "q2d.yhat"]


def cell(value: Any, decimal_comma: bool) -> str:
    """A key value as a person types it in a spreadsheet cell (MATLAB style for arrays)."""
    if isinstance(value, Expressions):
        return "; ".join(value.texts)
    array = np.asarray(value, dtype=np.float64)
    rows = array.reshape(1, -1) if array.ndim < 2 else array
    text = "; ".join(" ".join(f"{number:.10g}" for number in row) for row in rows)
    return text.replace(".", ",") if decimal_comma else text


def spreadsheet(key: AnswerKey, delimiter: str, decimal_comma: bool, line_end: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(["question", "answer"])
    for entry in key:
        writer.writerow([entry.answer.id, cell(entry.expected, decimal_comma)])
    return buffer.getvalue()


def grade_file(path: Path, key: AnswerKey) -> Any:
    known = [answer.id for answer in key.rubric.answers]
    (submission,) = read_file(path, known)
    assert isinstance(submission, Submission)
    return grade_submission(submission, key)


SPREADSHEETS = [
    ("European Excel: ; and decimal commas", ";", True, "utf-8-sig", "\r\n"),
    ("Excel Unicode text: UTF-16, tab, decimal commas", "\t", True, "utf-16", "\r\n"),
    ("Unicode text with decimal points", "\t", False, "utf-16", "\r\n"),
    ("UTF-16 big-endian with a BOM", "\t", False, "utf-16-be-bom", "\n"),
    ("UTF-16 without a BOM", "\t", True, "utf-16-le", "\r\n"),
    ("UTF-32 with a BOM", ";", True, "utf-32", "\n"),
    ("; with decimal points", ";", False, "utf-8", "\n"),
    ("plain CSV, CRLF", ",", False, "utf-8", "\r\n"),
    ("Windows-1252", ";", True, "cp1252", "\r\n"),
]


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return text.encode(encoding)


@pytest.mark.parametrize(
    ("case", "delimiter", "decimal_comma", "encoding", "line_end"),
    SPREADSHEETS,
    ids=[s[0] for s in SPREADSHEETS],
)
@pytest.mark.parametrize("key_name", ["hw_key", "wide_key"])
def test_the_key_typed_into_any_spreadsheet_format_scores_full_marks(
    case: str,
    delimiter: str,
    decimal_comma: bool,
    encoding: str,
    line_end: str,
    key_name: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    """Every encoding and delimiter a spreadsheet writes, with decimal commas where
    European spreadsheets put them, reads the key's own values as all correct."""
    key: AnswerKey = request.getfixturevalue(key_name)
    text = spreadsheet(key, delimiter, decimal_comma, line_end)
    path = tmp_path / "answers.csv"
    path.write_bytes(encode(text, encoding))
    result = grade_file(path, key)
    wrong = {item.id: item.message for item in result.items if item.status != "correct"}
    assert wrong == {}
    assert result.score == key.rubric.max_score


def test_the_decimal_comma_hint_comes_from_the_delimiter(tmp_path: Path) -> None:
    """';' and tab files may hold decimal commas; ',' files cannot."""
    hints = {}
    for name, delimiter in (("comma", ","), ("semicolon", ";"), ("tab", "\t")):
        path = tmp_path / f"{name}.csv"
        path.write_text(f"question{delimiter}answer\nq2d.yhat{delimiter}0.5\n", encoding="utf-8")
        (submission,) = read_file(path, KNOWN)
        assert isinstance(submission, Submission)
        hints[name] = submission.decimal_comma
    assert hints == {"comma": False, "semicolon": True, "tab": True}


def test_the_example_european_file_is_read_as_its_author_meant(hw_key: AnswerKey) -> None:
    """hw1-alan: '[0,05675 0,05715 0,05722]' is three numbers, '≈ 0,0567' one; the one
    number given for a vector of three is refused with a message about the comma."""
    result = grade_file(EXAMPLES / "hw1-alan" / "answers.csv", hw_key)
    assert result.item("q1.yhat").read == [0.05675, 0.05715, 0.05722]
    assert result.item("q1.yhat").status == "correct"
    assert result.item("q2d.yhat").read == 0.0567
    dl = result.item("q1c.dL_dyhat")
    assert dl.status == "unreadable" and "decimal comma" in dl.message


def test_trailing_empty_rows_and_columns_and_blank_lines_are_ignored(tmp_path: Path) -> None:
    """Spreadsheets pad files with ;;; and empty lines; they change nothing."""
    path = tmp_path / "padded.csv"
    path.write_text(
        "\r\n\r\nquestion;answer;;;\r\nq1.yhat;0,1 0,2 0,3;;\r\n;;;\r\n"
        "q2d.yhat;0,5;;\r\n;;;\r\n\r\n",
        encoding="utf-8",
    )
    (submission,) = read_file(path, KNOWN)
    assert isinstance(submission, Submission)
    assert submission.answers == {"q1.yhat": "0,1 0,2 0,3", "q2d.yhat": "0,5"}
    assert submission.warnings == ()


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"caf\xc3\xa9", "café"),
        (codecs.BOM_UTF8 + b"caf\xc3\xa9", "café"),
        ("café".encode("utf-16"), "café"),
        ("café".encode("utf-16-le"), "café"),
        ("café".encode("utf-32"), "café"),
        (b"caf\xe9 \x96 1", "café – 1"),  # Windows-1252: é and an en dash
        (b"caf\xe9 \x81", "café \x81"),  # 0x81 is not in Windows-1252: Latin-1
    ],
    ids=["utf-8", "utf-8 BOM", "utf-16 BOM", "utf-16 no BOM", "utf-32", "cp1252", "latin-1"],
)
def test_every_common_encoding_is_decoded(data: bytes, text: str) -> None:
    """UTF-8 (BOM or not), UTF-16/32, Windows-1252, else Latin-1: decoding never fails."""
    assert decode(data, "f") == text


# --- duplicates: the last counts, and it is reported ---------------------------------


def test_an_id_answered_twice_in_a_csv_counts_the_last_and_says_so(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """Lines 2 and 3 both answer q2d.yhat: line 3 is graded, and the warning names both."""
    right = float(np.asarray(hw_key["q2d.yhat"].expected))
    path = tmp_path / "twice.csv"
    path.write_text(f"question,answer\nq2d.yhat,{right * 10}\nq2d.yhat,{right}\n", encoding="utf-8")
    result = grade_file(path, hw_key)
    assert result.item("q2d.yhat").status == "correct"
    (warning,) = [w for w in result.warnings if w.startswith(DUPLICATE_ANSWER)]
    assert "lines 2, 3" in warning and "line 3" in warning


def test_an_id_answered_twice_in_json_counts_the_last_and_says_so(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """JSON keeps the last of two equal keys; the reader notices and reports it."""
    right = float(np.asarray(hw_key["q2d.yhat"].expected))
    path = tmp_path / "twice.json"
    path.write_text(
        f'{{"answers": {{"q2d.yhat": {right * 10}, "q2d.yhat": {right}}}}}', encoding="utf-8"
    )
    result = grade_file(path, hw_key)
    assert result.item("q2d.yhat").status == "correct"
    assert any(w.startswith(DUPLICATE_ANSWER) and "q2d.yhat" in w for w in result.warnings)


def test_ids_differing_only_by_surrounding_spaces_are_the_same_id(tmp_path: Path) -> None:
    """' q2d.yhat' and 'q2d.yhat' are one id, given twice."""
    path = tmp_path / "spaces.json"
    path.write_text('{"answers": {" q2d.yhat": 1, "q2d.yhat ": 2}}', encoding="utf-8")
    (submission,) = read_file(path, KNOWN)
    assert isinstance(submission, Submission)
    assert submission.answers == {"q2d.yhat": 2}
    assert any(w.startswith(DUPLICATE_ANSWER) for w in submission.warnings)


def test_a_column_given_twice_in_a_class_file_counts_the_last(tmp_path: Path) -> None:
    """A class CSV with two q2d.yhat columns grades the last one and warns every row."""
    path = tmp_path / "class.csv"
    path.write_text("student_id,q2d.yhat,q2d.yhat\na,1,2\nb,3,4\n", encoding="utf-8")
    read = read_file(path, KNOWN)
    assert [s.answers for s in read if isinstance(s, Submission)] == [
        {"q2d.yhat": "2"},
        {"q2d.yhat": "4"},
    ]
    assert all(
        isinstance(s, Submission) and s.warnings[0].startswith(DUPLICATE_ANSWER) for s in read
    )


# --- JSON and class CSV details --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("[1, 2]", "expected a JSON object"),
        ('{"answers": [1]}', 'expected "answers" to be an object'),
        ('{"student_id": "", "answers": {}}', "the student_id is empty"),
        ('{"student_id": {"a": 1}, "answers": {}}', "student_id must be text, got an object"),
        ('{"student_id": "' + "a" * 201 + '", "answers": {}}', "longer than 200 characters"),
        ('{"answers": {"q1.yhat": [1, 2}', "not valid JSON (line 1, column 30"),
        ('{"answers": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ],
    ids=["empty", "list", "answers list", "empty id", "object id", "long id", "syntax", "deep"],
)
def test_unreadable_json_says_why(tmp_path: Path, text: str, message: str) -> None:
    """A JSON file that cannot be a submission is refused with the reason."""
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SubmissionError, match=message.replace("(", r"\(")):
        read_file(path, KNOWN)


def test_student_ids_with_control_or_formatting_characters_are_refused(tmp_path: Path) -> None:
    """Newlines, NULs and bidi overrides are refused, not dropped (dropping them would
    merge two ids); a null id means 'use the file name'."""
    path = tmp_path / "stem.json"
    path.write_text('{"student_id": " a\\u0000l\\u202eic\\ne ", "answers": {}}', encoding="utf-8")
    with pytest.raises(SubmissionError, match=r"U\+0000"):
        read_file(path, KNOWN)
    path.write_text('{"student_id": null, "answers": {}}', encoding="utf-8")
    assert [s.student_id for s in read_file(path, KNOWN)] == ["stem"]


def test_integer_student_ids_are_text(tmp_path: Path) -> None:
    """A numeric student id (as LMS exports have) is kept as its digits."""
    path = tmp_path / "n.json"
    path.write_text('{"student_id": 1001, "answers": {}}', encoding="utf-8")
    assert [s.student_id for s in read_file(path, KNOWN)] == ["1001"]


def test_unknown_ids_are_listed_up_to_a_cap(tmp_path: Path) -> None:
    """Typos get a 'did you mean'; a flood of unknown ids is summarised, not listed."""
    answers = {"q1.yhatt": 1} | {f"junk{n}": n for n in range(1000)}
    path = tmp_path / "many.json"
    path.write_text(json.dumps({"answers": answers}), encoding="utf-8")
    (submission,) = read_file(path, KNOWN)
    assert isinstance(submission, Submission)
    assert "did you mean q1.yhat?" in submission.warnings[0]
    assert len(submission.warnings) == DEFAULT_LIMITS.max_warnings + 1
    assert "991 more unknown answer ids" in submission.warnings[-1]
    (fewer,) = read_file(path, KNOWN, limits=Limits(max_warnings=2))
    assert isinstance(fewer, Submission)
    assert len(fewer.warnings) == 3 and "999 more unknown answer ids" in fewer.warnings[-1]


def test_a_class_file_row_that_cannot_be_read_keeps_its_row_and_reason(tmp_path: Path) -> None:
    """A row without a student id, or with too many cells, is Unreadable; others are read."""
    path = tmp_path / "class.csv"
    path.write_text("Student ID,q2d.yhat\n,1\nb,2,3\nc,4\n", encoding="utf-8")
    read = read_file(path, KNOWN)
    assert [(type(s).__name__, s.student_id) for s in read] == [
        ("Unreadable", "?class line 2"),
        ("Unreadable", "b"),
        ("Submission", "c"),
    ]
    assert isinstance(read[1], Unreadable) and "3 cells but the header only 2" in read[1].error


def test_a_csv_with_an_unknown_header_is_refused(tmp_path: Path) -> None:
    """A file that is neither layout is refused, naming what its header held."""
    path = tmp_path / "x.csv"
    path.write_text("name,score\nalice,3\n", encoding="utf-8")
    with pytest.raises(SubmissionError, match="unrecognised header"):
        read_file(path, KNOWN)


# --- files and folders ------------------------------------------------------------------


def test_files_larger_than_the_cap_are_refused_before_reading(tmp_path: Path) -> None:
    """A 50 MB file is refused from its size; the cap is Limits.max_file_bytes."""
    path = tmp_path / "big.json"
    with path.open("wb") as file:
        file.truncate(50 * 1024 * 1024)  # sparse: no disk used
    with pytest.raises(SubmissionError, match="52,428,800 bytes"):
        read_file(path, KNOWN)
    small = tmp_path / "small.json"
    small.write_text('{"answers": {"q2d.yhat": 0.5}}', encoding="utf-8")
    with pytest.raises(SubmissionError, match="more than the 10 bytes allowed"):
        read_file(small, KNOWN, limits=Limits(max_file_bytes=10))
    assert len(read_file(small, KNOWN)) == 1


def test_discover_skips_hidden_entries_and_the_output_folder(tmp_path: Path) -> None:
    """Hidden files and folders, and the folder outputs go to, are not submissions."""
    (tmp_path / ".hidden.json").write_text("{}")
    (tmp_path / ".git").mkdir()
    (tmp_path / "grades").mkdir()
    (tmp_path / "grades" / "gradebook.csv").write_text("student_id\n")
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("x")
    found = discover(tmp_path, exclude=[tmp_path / "grades"])
    assert [(p.name, folder) for p, folder in found] == [("a.json", None)]


def test_a_spreadsheet_workbook_is_reported_not_skipped(tmp_path: Path) -> None:
    """answers.xlsx becomes a row saying 'save it as CSV', at the top or in a folder."""
    (tmp_path / "bob.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "carol").mkdir()
    (tmp_path / "carol" / "answers.xlsx").write_bytes(b"PK\x03\x04")
    read = list(read_all(tmp_path, KNOWN))
    assert [(type(s).__name__, s.student_id) for s in read] == [
        ("Unreadable", "bob"),
        ("Unreadable", "carol"),
    ]
    assert all(isinstance(s, Unreadable) and "save it as CSV" in s.error for s in read)


def test_a_folder_with_only_a_text_export_says_to_rename_it(tmp_path: Path) -> None:
    """Excel saves 'Unicode text' as answers.txt: the message says to name it .csv."""
    (tmp_path / "frank").mkdir()
    (tmp_path / "frank" / "answers.txt").write_bytes("question\tanswer\n".encode("utf-16"))
    with pytest.raises(SubmissionError, match=r"found answers\.txt: name it answers\.csv"):
        answers_file(tmp_path / "frank")


def test_symbolic_links_are_not_followed(tmp_path: Path) -> None:
    """A link to a file outside the submissions (a secret) is refused, never read."""
    secret = tmp_path / "secret.csv"
    secret.write_text("question,answer\nq2d.yhat,42\n")
    folder = tmp_path / "submissions"
    (folder / "mallory").mkdir(parents=True)
    (folder / "mallory" / "answers.csv").symlink_to(secret)
    (folder / "eve.csv").symlink_to(secret)
    (folder / "trent").symlink_to(tmp_path, target_is_directory=True)
    read = list(read_all(folder, KNOWN))
    assert sorted((type(s).__name__, s.student_id) for s in read) == [
        ("Unreadable", "eve"),
        ("Unreadable", "mallory"),
        ("Unreadable", "trent"),
    ]
    assert all(isinstance(s, Unreadable) and "symbolic link" in s.error for s in read)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    """A FIFO named like a submission (``ada.json``) is no regular file: it is reported,
    and reading it does not block the batch waiting for something to write to it."""
    os.mkfifo(tmp_path / "ada.json")
    (tmp_path / "bob.json").write_text('{"answers": {"q2d.yhat": 1}}')
    for read_it in (lambda path: read_file(path, KNOWN), read_bytes):
        with pytest.raises(SubmissionError, match="is not a regular file"):
            read_it(tmp_path / "ada.json")
    read = list(read_all(tmp_path, KNOWN))
    assert [type(s).__name__ for s in read] == ["Submission"]  # listed as no file at all


def test_discovery_says_what_each_entry_is_without_following_links(tmp_path: Path) -> None:
    """Files, folders and links to either are told apart from the listing: a folder
    named like a file is a student's folder, hidden entries are left out."""
    (tmp_path / "cara.json").write_text("{}")
    (tmp_path / "dora.json").mkdir()
    (tmp_path / ".hidden.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "link.json").symlink_to(tmp_path / "cara.json")
    found = [(path.name, folder_id) for path, folder_id in discover(tmp_path)]
    assert found == [("cara.json", None), ("dora.json", "dora.json"), ("link.json", None)]


def test_a_symbolic_link_loop_is_a_row_saying_so(tmp_path: Path) -> None:
    """A link that points at itself is still a link: reported, never silently dropped."""
    (tmp_path / "ada.json").write_text('{"answers": {"q2d.yhat": 1}}')
    (tmp_path / "loop.json").symlink_to(tmp_path / "loop.json")
    read = sorted(read_all(tmp_path, KNOWN), key=lambda s: s.student_id)
    assert [(type(s).__name__, s.student_id) for s in read] == [
        ("Submission", "ada"),
        ("Unreadable", "loop"),
    ]
    assert isinstance(read[1], Unreadable) and "symbolic link" in read[1].error


def test_a_path_through_a_file_is_not_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    with pytest.raises(SubmissionError, match="is not a regular file"):
        read_bytes(tmp_path / "a.json" / "x.json")


def test_a_student_folder_with_several_answers_files_prefers_answers_dot(tmp_path: Path) -> None:
    """answers.json wins over other JSON files; two candidates without it are refused."""
    folder = tmp_path / "dan"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "answers.json").write_text("{}")
    (folder / "draft.json").write_text("{}")
    assert answers_file(folder) == folder / "sub" / "answers.json"
    (folder / "sub" / "answers.json").unlink()
    (folder / "other.csv").write_text("")
    with pytest.raises(SubmissionError, match="several answers files"):
        answers_file(folder)


def test_a_huge_student_folder_is_refused_quickly(tmp_path: Path) -> None:
    """More entries than Limits.max_folder_entries (node_modules committed...) is a clear
    error."""
    folder = tmp_path / "erin"
    folder.mkdir()
    for n in range(30):
        (folder / f"f{n}.txt").write_text("")
    with pytest.raises(SubmissionError, match="more than 20 files"):
        answers_file(folder, limits=Limits(max_folder_entries=20))
    with pytest.raises(SubmissionError, match="no answers file"):
        answers_file(folder)


def test_an_unreadable_file_never_stops_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken file, an unlistable folder and a good file: two rows of reasons, one read."""
    (tmp_path / "a-broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "b-locked").mkdir()
    (tmp_path / "c-good.json").write_text('{"answers": {}}', encoding="utf-8")

    listing = os.scandir

    def denied(top: Any) -> Any:
        if Path(top).name == "b-locked":
            raise PermissionError(13, "Permission denied", str(top))
        return listing(top)

    monkeypatch.setattr(os, "scandir", denied)
    read = list(read_all(tmp_path, KNOWN))
    assert [(type(s).__name__, s.student_id) for s in read] == [
        ("Unreadable", "a-broken"),
        ("Unreadable", "b-locked"),
        ("Submission", "c-good"),
    ]
    assert isinstance(read[1], Unreadable) and "Permission denied" in read[1].error


# --- for any bytes: submissions or the project's own error ------------------------------

CSV_ALPHABET = st.sampled_from(
    [*"q1.yhat2d,;\t\"'\r\n []0123456789-−,≈e", "question,answer\n", "student_id;", "\x00"]
)


def read_bytes_as(tmp_path: Path, data: bytes, suffix: str) -> list[Submission | Unreadable]:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    return read_file(path, KNOWN)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300), st.sampled_from([".csv", ".json"]))
def test_any_bytes_are_submissions_or_the_projects_own_error(
    tmp_path: Path, data: bytes, suffix: str
) -> None:
    """Random bytes as a .csv or .json: a list of submissions, or a GraderError."""
    try:
        read = read_bytes_as(tmp_path, data, suffix)
    except GraderError:
        return
    assert all(isinstance(s, Submission | Unreadable) for s in read)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(CSV_ALPHABET, max_size=80).map("".join),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_any_csv_like_text_is_submissions_or_the_projects_own_error(
    tmp_path: Path, text: str, encoding: str
) -> None:
    """Text made of CSV pieces, in any encoding, reads or fails with a GraderError."""
    data = text.encode(encoding, errors="replace")
    try:
        read = read_bytes_as(tmp_path, b"question,answer\n" + data, ".csv")
    except GraderError:
        return
    assert all(isinstance(s, Submission | Unreadable) for s in read)


JSON_ANSWER = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children)
    ),
    max_leaves=10,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(st.sampled_from(["student_id", "answers", "x"]), JSON_ANSWER))
def test_any_json_document_is_a_submission_or_the_projects_own_error(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    """Any JSON object (NaN and all) is a submission or a GraderError."""
    data = json.dumps(document).encode()
    try:
        read = read_bytes_as(tmp_path, data, ".json")
    except GraderError:
        return
    assert len(read) == 1 and isinstance(read[0], Submission)


def test_answer_ids_differing_only_in_case_are_read_with_a_warning(tmp_path: Path) -> None:
    """'Q2d.yhat' in a class header, a CSV row or a JSON key is q2d.yhat, and the student
    is told; an id matching no answer id however cased stays unknown."""
    known = ["q2d.yhat", "q2b.DF"]
    (tmp_path / "class.csv").write_text("student_id,Q2d.yhat,Q2B.df\nbob,0.0567,1\n")
    (tmp_path / "dan.json").write_text('{"answers": {"Q2D.YHAT": 0.0567, "q9": 1}}')
    (bob,) = read_file(tmp_path / "class.csv", known)
    (dan,) = read_file(tmp_path / "dan.json", known)
    assert isinstance(bob, Submission) and isinstance(dan, Submission)
    assert set(bob.answers) == {"q2d.yhat", "q2b.DF"}
    assert set(dan.answers) == {"q2d.yhat", "q9"}
    assert "answer id 'Q2D.YHAT' read as q2d.yhat (write ids as the rubric does)" in dan.warnings
    assert any(w.startswith("unknown answer id 'q9'") for w in dan.warnings)


def test_a_cell_longer_than_csvs_own_cap_is_read_and_the_cap_put_back(tmp_path: Path) -> None:
    """csv refuses cells over its process-wide ``field_size_limit``: reading a file with a
    longer cell raises it for that read only, so the program around the grader keeps its
    own setting."""
    before = csv.field_size_limit()
    try:
        csv.field_size_limit(1_000)
        path = tmp_path / "s1.csv"
        path.write_text("question,answer\nq1.yhat," + "1" * 5_000 + "\n", encoding="utf-8")
        (submission,) = read_file(path, ["q1.yhat"])
        assert isinstance(submission, Submission)
        assert submission.answers["q1.yhat"] == "1" * 5_000
        assert csv.field_size_limit() == 1_000
    finally:
        csv.field_size_limit(before)
