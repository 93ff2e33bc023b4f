"""`grade --jobs N`: worker processes read and grade, the parent writes, and the outputs
are those of one process byte for byte; the writer streams a class of any size."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader import AnswerKey
from grader.cli import app
from grader.grading.results import StudentResult
from grader.memo import Memo
from grader.run import parallel as parallel_module
from grader.run.batch import grade_path
from grader.run.entries import Entries
from grader.run.parallel import CHUNK_ENTRIES, PART_BYTES, grade_in_workers
from grader.run.prepare import Prepared, prepare
from grader.run.rows import RowStore, row_from_text, row_text

from .conftest import EXAMPLES, RUBRICS
from .synthetic import generate

HW = str(RUBRICS / "hw.yaml")


def outputs(out: Path) -> dict[str, bytes]:
    """Every output file's bytes, by path inside ``out``."""
    return {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def big_class(tmp_path_factory: pytest.TempPathFactory, hw_key: AnswerKey) -> Path:
    """Several chunks' worth of per-student files, the examples (a student folder, a class
    CSV, a broken file, odd ids), and a class CSV large enough to be graded in parts
    whose students also submitted files of their own (duplicates across chunks)."""
    folder = tmp_path_factory.mktemp("class")
    generate(folder, 6 * CHUNK_ENTRIES, hw_key, seed=7)
    for each in EXAMPLES.iterdir():
        if each.is_dir():
            shutil.copytree(each, folder / each.name)
        else:
            shutil.copy(each, folder / each.name)
    sections = tmp_path_factory.mktemp("sections")
    generate(sections, 250, hw_key, seed=8, formats={"class_csv": 1.0}, section_size=250)
    big = folder / "zz-whole-class.csv"
    shutil.copy(next(sections.glob("*.csv")), big)
    assert big.stat().st_size > 2 * PART_BYTES
    return folder


def grade_cli(folder: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        app, ["grade", str(folder), "--rubric", HW, "--out", str(out), *extra]
    )
    assert result.exit_code == 1, result.output  # the class holds unreadable files
    return result.stdout


def test_jobs_two_writes_the_bytes_of_jobs_one(big_class: Path, tmp_path: Path) -> None:
    """--jobs 2 and --jobs 3 write the same gradebook, results.jsonl and feedback files,
    byte for byte, as --jobs 1, and print the same summary."""
    one = grade_cli(big_class, tmp_path / "one", "--jobs", "1")
    two = grade_cli(big_class, tmp_path / "two", "--jobs", "2")
    three = grade_cli(big_class, tmp_path / "three", "-j", "3")
    first = outputs(tmp_path / "one")
    assert len([name for name in first if name.startswith("feedback")]) > 6 * CHUNK_ENTRIES
    assert outputs(tmp_path / "two") == first
    assert outputs(tmp_path / "three") == first

    def strip(text: str) -> str:
        return text.split("\nWrote ")[0]  # the paths differ

    assert strip(one) == strip(two) == strip(three)


def test_duplicates_across_chunks_are_marked_as_in_one_process(
    big_class: Path, tmp_path: Path
) -> None:
    """A student id met in two chunks (a file of their own and a row of the large class
    CSV) is an id conflict in both records and both rows, as in one process."""
    grade_cli(big_class, tmp_path / "out", "--jobs", "2")
    records = [
        json.loads(line)
        for line in (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    ids = [record["student_id"] for record in records]
    repeated = {each for each in ids if ids.count(each) > 1}
    assert repeated
    claimants = [r for r in records if r["student_id"] in repeated]
    assert any("zz-whole-class" in r["source"] for r in claimants)
    assert all(any(w.startswith("id conflict") for w in r["warnings"]) for r in claimants)
    rows = (tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(rows) == len(ids)
    assert sum(row.split(",")[0] in repeated for row in rows) == len(claimants)


def test_workers_grade_and_the_parent_only_writes(
    big_class: Path, hw_key: AnswerKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The results are rendered in worker processes, not in the parent, and come back in
    the order one process reads the submissions."""

    def tagged(result: StudentResult, key: AnswerKey, memo: Memo | None = None) -> Prepared:
        return prepare(result, key, memo)._replace(feedback=str(os.getpid()))

    monkeypatch.setattr(parallel_module, "prepare", tagged)  # workers are forked from here
    prepared = list(grade_in_workers(Entries(big_class), hw_key, 2))
    pids = {int(each.feedback) for each in prepared}
    assert os.getpid() not in pids
    grade_path(big_class, hw_key, tmp_path / "one")
    order = [
        json.loads(line)["source"]
        for line in (tmp_path / "one" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [each.source for each in prepared] == order


def test_jobs_must_be_at_least_one(tmp_path: Path) -> None:
    """--jobs 0 is a bad command line: exit 2, nothing written."""
    result = CliRunner().invoke(
        app, ["grade", str(EXAMPLES), "--rubric", HW, "--out", str(tmp_path / "o"), "--jobs", "0"]
    )
    assert result.exit_code == 2
    assert not (tmp_path / "o").exists()


def test_a_text_utf8_cannot_encode_does_not_stop_the_batch(tmp_path: Path) -> None:
    """An answer holding a lone surrogate (a JSON \\ud800 escape) is written escaped, and
    results.jsonl reads back the answer as the student's file held it."""
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(EXAMPLES / "ada-perfect.json", folder / "ada.json")
    (folder / "odd.json").write_text(
        '{"student_id": "odd", "answers": {"q1.yhat": "0.05\\udc00"}}', encoding="ascii"
    )
    result = CliRunner().invoke(
        app, ["grade", str(folder), "--rubric", HW, "--out", str(tmp_path / "out")]
    )
    assert result.exit_code in (0, 1), result.output
    records = [
        json.loads(line)
        for line in (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    odd = next(r for r in records if r["student_id"].startswith("odd"))
    item = next(i for i in odd["items"] if i["id"] == "q1.yhat")
    assert item["raw"] == "0.05\udc00"
    assert len((tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8").splitlines()) == 3


def test_gradebook_rows_round_trip_through_the_row_store(hw_key: AnswerKey) -> None:
    """A row kept on disk reads back with the scores, statuses, diagnoses, the warnings
    the gradebook shows and the student's gradebook line; a replaced row reads back as
    its replacement, and iteration gives the rows in position order."""
    from grader.grading.grade import grade_submission
    from grader.intake.submission import Submission
    from grader.render.gradebook import render_gradebook

    ids = [entry.answer.id for entry in hw_key]
    answers = {answer_id: "1" for answer_id in ids}
    first = grade_submission(Submission("a", "a.json", answers, ("duplicate answer: x",)), hw_key)
    second = grade_submission(Submission("b", "b.json", {}, ("unknown answer id 'z'",)), hw_key)
    store = RowStore()
    try:
        kept = ("duplicate answer",)
        assert store.append(row_text(first, kept, ids)) == 0
        assert store.append(row_text(second, kept, ids)) == 1
        back = store[0]
        assert [(i.id, i.score, i.status, i.diagnoses) for i in back.items] == [
            (i.id, i.score, i.status, i.diagnoses) for i in first.items
        ]
        assert (back.score, back.max_score, back.warnings) == (
            first.score,
            first.max_score,
            ("duplicate answer: x",),
        )
        assert store[1].warnings == ()
        lines = "".join(row.line for row in store.rows())
        assert render_gradebook(list(store), ids).split("\n", 1)[1] == lines
        store.replace(0, row_text(second, kept, ids))
        assert [row.student_id for row in store] == ["b", "b"]
        assert len(store) == 2
        assert row_from_text(row_text(first, kept, ids)).source == "a.json"
    finally:
        store.close()
