"""Outputs cannot be lost or turned against their reader: interrupted runs leave the
previous outputs intact, student ids become safe distinct file names, CSV cells cannot
run as formulas, results are strict JSON, and the same inputs give the same bytes."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import AnswerKey
from grader.render import gradebook
from grader.render.feedback import render_feedback
from grader.render.gradebook import safe_text
from grader.run import output, prepare
from grader.run.batch import grade_path
from grader.run.output import FileNames, atomic_write, safe_stem, staging
from grader.solver.key import to_plain

from .conftest import EXAMPLES, class_of_copies, start_and_wait_for_staging


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too), by relative path."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def gradebook_rows(out: Path) -> list[dict[str, str]]:
    text = (out / "gradebook.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")


# --- interrupted runs -----------------------------------------------------------------


@pytest.mark.parametrize("stage", ["feedback", "gradebook"])
def test_an_interrupted_run_leaves_the_previous_outputs_intact(
    tmp_path: Path, hw_key: AnswerKey, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    """A crash midway through the feedback, or at the gradebook, changes no output file
    and leaves no temporary file behind."""
    out = tmp_path / "grades"
    grade_path(EXAMPLES, hw_key, out)
    before = snapshot(out)
    assert "gradebook.csv" in before and any(name.startswith("feedback/") for name in before)

    calls = {"n": 0}
    real_row = gradebook.row

    def feedback_then_crash(*args: Any) -> str:
        calls["n"] += 1
        if stage == "feedback" and calls["n"] == 3:
            raise KeyboardInterrupt  # the instructor presses Ctrl-C
        return render_feedback(*args)

    def gradebook_row_crash(*args: Any) -> list[str]:
        if stage == "gradebook":
            raise RuntimeError("disk full")
        return real_row(*args)

    monkeypatch.setattr(prepare, "render_feedback", feedback_then_crash)
    monkeypatch.setattr(gradebook, "row", gradebook_row_crash)
    with pytest.raises((KeyboardInterrupt, RuntimeError)):
        grade_path(EXAMPLES, hw_key, out)
    assert snapshot(out) == before


def test_atomic_write_keeps_the_old_file_when_the_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the new file cannot replace the old, the old stays and no temporary is left."""
    path = tmp_path / "gradebook.csv"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o640)

    def failing_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, "new\n")
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]
    assert path.read_text(encoding="utf-8") == "old\n"
    atomic_write(path, "new\n")
    assert path.read_text(encoding="utf-8") == "new\n"
    assert path.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions


# --- file names from student ids --------------------------------------------------------

HOSTILE_IDS = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "",
    "a/b",
    "a\\b",
    "a_b",
    "A_B",
    "CON",
    "nul.txt",
    "-rf",
    ".bashrc",
    "x" * 500,
    "Zoë",
    "Zoe",
    "名前",
    "a\x00b",
    "C:\\Windows\\system32",
]


def test_student_ids_become_safe_distinct_file_names() -> None:
    """No separators, no '..', no hidden or option-like names, no Windows device names,
    at most MAX_STEM characters and a hash, distinct ids get distinct names, and the same
    id always gets the same name, whatever the order."""
    names = FileNames()
    given = [names(student_id) for student_id in HOSTILE_IDS]
    for name in given:
        assert "/" not in name and "\\" not in name and "\x00" not in name
        assert name not in ("", ".", "..") and not name.startswith((".", "-"))
        assert name.split(".")[0].upper() not in {"CON", "NUL", "PRN", "AUX"}
        assert len(name) <= output.MAX_STEM + 17
    assert len(set(given)) == len(set(HOSTILE_IDS))
    assert [FileNames()(student_id) for student_id in reversed(HOSTILE_IDS)] == given[::-1]


def test_a_safe_id_keeps_its_own_feedback_file() -> None:
    """'a_b' is feedback/a_b.md even when 'a/b' (which sanitises alike) came first."""
    names = FileNames()
    assert names("a/b") != "a_b"
    assert names("a_b") == "a_b"
    assert names("a/b").startswith("a_b~")


@pytest.mark.parametrize(("student_id", "stem"), [("alice", "alice"), ("Zoë O'Neil", "Zoe_O_Neil")])
def test_ordinary_ids_stay_readable(student_id: str, stem: str) -> None:
    """Sanitising keeps an ordinary id recognisable."""
    assert safe_stem(student_id) == stem


def test_feedback_for_hostile_ids_stays_inside_the_feedback_folder(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """A class file of hostile ids writes one feedback file each, all inside feedback/,
    and nothing anywhere else."""
    submissions = tmp_path / "in"
    submissions.mkdir()
    ids = [i for i in HOSTILE_IDS if i.strip() and "\x00" not in i]
    lines = ["student_id,q2d.yhat"] + [f'"{i}",0.5' for i in ids]
    (submissions / "class.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    grade_path(submissions, hw_key, out)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    feedback = [p for p in written if p.parts[:2] == ("out", "feedback")]
    assert len(feedback) == len(ids)
    assert sorted(set(written) - set(feedback)) == [
        Path("in/class.csv"),
        Path("out/gradebook.csv"),
        Path("out/items.csv"),
        Path("out/results.jsonl"),
        Path("out/similar.csv"),
        Path("out/summary.md"),
    ]


# --- the gradebook against formula injection ---------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("x")'])
def test_text_that_a_spreadsheet_would_run_is_neutralised(text: str) -> None:
    """OWASP: a leading = + - @ tab or CR gets a quote, so it shows as text."""
    assert safe_text(text) == "'" + text


def test_ordinary_text_is_left_alone() -> None:
    """Ids and statuses that are not formulas are unchanged."""
    assert safe_text("alice") == "alice" and safe_text("graded") == "graded"


def test_gradebook_cells_from_students_are_inert_and_scores_stay_numbers(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """Formula-like student ids are quoted in the gradebook; every score cell is a number."""
    submissions = tmp_path / "in"
    submissions.mkdir()
    ids = ["=1+1", "+cmd", "-2", "@SUM(A1)", '=HYPERLINK("http://x")']
    rows = ["student_id,q2d.yhat"] + ['"' + i.replace('"', '""') + '",-0.5' for i in ids]
    (submissions / "class.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    grade_path(submissions, hw_key, out)
    table = gradebook_rows(out)
    assert sorted(row["student_id"] for row in table) == sorted("'" + i for i in ids)
    answer_ids = [answer.id for answer in hw_key.rubric.answers]
    for row in table:
        for column in [*answer_ids, "total", "max_total", "percent"]:
            float(row[column])  # a number, never quoted


# --- reproducible, strict, complete outputs ----------------------------------------------


def test_grading_the_same_inputs_twice_gives_byte_identical_outputs(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """Two runs over the examples write the same bytes in every file."""
    grade_path(EXAMPLES, hw_key, tmp_path / "first")
    grade_path(EXAMPLES, hw_key, tmp_path / "second")
    first, second = snapshot(tmp_path / "first"), snapshot(tmp_path / "second")
    assert first.keys() == second.keys() and len(first) > 3
    assert [name for name in first if first[name] != second[name]] == []


def test_a_second_run_into_the_same_folder_replaces_everything_cleanly(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """Re-grading into the same folder leaves no stale feedback and no staging folder."""
    submissions = tmp_path / "in"
    shutil.copytree(EXAMPLES, submissions)
    out = tmp_path / "out"
    grade_path(submissions, hw_key, out)
    (submissions / "ada-perfect.json").unlink()
    grade_path(submissions, hw_key, out)
    assert not (out / "feedback" / "ada.md").exists()
    assert sorted(p.name for p in out.iterdir()) == [
        "feedback",
        "gradebook.csv",
        "items.csv",
        "results.jsonl",
        "similar.csv",
        "summary.md",
    ]


def test_results_are_strict_json_and_keep_the_raw_answer(tmp_path: Path, hw_key: AnswerKey) -> None:
    """NaN and Infinity are recorded as text (json.dumps would write invalid NaN), and
    every item keeps the raw answer beside the value read, for JSON and CSV alike."""
    submissions = tmp_path / "in"
    submissions.mkdir()
    (submissions / "nan.json").write_text(
        '{"answers": {"q2d.yhat": NaN, "q1.yhat": [Infinity, 1e400, 0.5], "q2b.DF": "1 2; 3 4"}}',
        encoding="utf-8",
    )
    (submissions / "cells.csv").write_text(
        'question;answer\nq1.yhat;"0,1 0,2 0,3"\nq2d.yhat;≈ 0,5\n', encoding="utf-8"
    )
    out = tmp_path / "out"
    grade_path(submissions, hw_key, out)

    def refuse(name: str) -> None:
        raise AssertionError(f"results.jsonl holds {name}, which is not JSON")

    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    results = {r["student_id"]: r for r in (json.loads(x, parse_constant=refuse) for x in lines)}
    items = {k: {i["id"]: i for i in r["items"]} for k, r in results.items()}
    assert items["nan"]["q2d.yhat"]["raw"] == "NaN"
    assert items["nan"]["q1.yhat"]["raw"] == ["Infinity", "Infinity", 0.5]
    assert items["nan"]["q2d.yhat"]["status"] == "incorrect"
    assert items["nan"]["q2b.DF"]["raw"] == "1 2; 3 4"
    assert items["nan"]["q2b.DF"]["read"] == [[1.0, 2.0], [3.0, 4.0]]
    assert items["cells"]["q1.yhat"]["raw"] == "0,1 0,2 0,3"
    assert items["cells"]["q1.yhat"]["read"] == [0.1, 0.2, 0.3]
    assert items["cells"]["q2d.yhat"]["raw"] == "≈ 0,5"
    assert items["cells"]["q2d.yhat"]["read"] == 0.5


def test_an_unreadable_submission_still_has_its_row_with_the_reason(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """A broken file is a gradebook row of zeros whose status is the reason; exit 1."""
    submissions = tmp_path / "in"
    submissions.mkdir()
    (submissions / "broken.json").write_text('{"answers": {', encoding="utf-8")
    report = grade_path(submissions, hw_key, tmp_path / "out")
    (row,) = gradebook_rows(tmp_path / "out")
    assert row["student_id"] == "broken" and row["total"] == "0"
    assert row["status"].startswith("not valid JSON")
    assert report.exit_code == 1
    feedback = (tmp_path / "out" / "feedback" / "broken.md").read_text(encoding="utf-8")
    assert "could not be read" in feedback and "not valid JSON" in feedback


# --- duplicates: nothing replaced quietly, and everyone is told ---------------------------


def test_two_loose_files_claiming_one_id_are_a_conflict_shown_in_both_rows(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """alice.json, and resubmit.json saying it is alice's: before, the later replaced
    alice's row and feedback. Now each keeps its own row, record and feedback file, all
    saying 'id conflict', and neither takes feedback/alice.md."""
    right = to_plain(hw_key["q2d.yhat"].expected)
    submissions = tmp_path / "in"
    submissions.mkdir()
    write_json(submissions / "alice.json", {"answers": {"q2d.yhat": right * 10}})
    write_json(
        submissions / "resubmit.json", {"student_id": "alice", "answers": {"q2d.yhat": right}}
    )
    out = tmp_path / "out"
    report = grade_path(submissions, hw_key, out)
    points = hw_key["q2d.yhat"].answer.points
    first, second = gradebook_rows(out)
    assert (first["student_id"], second["student_id"]) == ("alice", "alice")
    assert (float(first["q2d.yhat"]), float(second["q2d.yhat"])) == (0.0, points)
    assert first["status"].startswith("id conflict: ") and "resubmit.json" in first["status"]
    assert second["status"].startswith("id conflict: ") and "alice.json" in second["status"]
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [record["score"] for record in records] == [0.0, points]
    assert all(any("id conflict" in w for w in record["warnings"]) for record in records)
    feedback = sorted((out / "feedback").iterdir())
    assert len(feedback) == 2 and not (out / "feedback" / "alice.md").exists()
    assert all("id conflict" in path.read_text(encoding="utf-8") for path in feedback)
    assert report.conflicts == (
        f"alice: claimed by {submissions / 'alice.json'}, {submissions / 'resubmit.json'}",
    )
    assert report.exit_code == 0


def test_an_answer_given_twice_in_a_file_shows_in_the_gradebook_status(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """The 'last counts' rule is applied and reported where the instructor looks."""
    submissions = tmp_path / "in"
    submissions.mkdir()
    right = float(np.asarray(hw_key["q2d.yhat"].expected))
    (submissions / "bob.csv").write_text(
        f"question,answer\nq2d.yhat,{right * 10}\nq2d.yhat,{right}\n", encoding="utf-8"
    )
    grade_path(submissions, hw_key, tmp_path / "out")
    (row,) = gradebook_rows(tmp_path / "out")
    assert float(row["q2d.yhat"]) == hw_key["q2d.yhat"].answer.points
    assert row["status"].startswith("graded; duplicate answer: q2d.yhat")
    feedback = (tmp_path / "out" / "feedback" / "bob.md").read_text(encoding="utf-8")
    assert "duplicate answer: q2d.yhat" in feedback


def test_the_output_folder_inside_the_submissions_is_not_graded(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """`grade . --out grades` twice: the second run does not read grades/ as a student."""
    submissions = tmp_path / "in"
    submissions.mkdir()
    write_json(submissions / "a.json", {"answers": {}})
    out = submissions / "grades"
    grade_path(submissions, hw_key, out)
    report = grade_path(submissions, hw_key, out)
    assert report.students == 1 and report.exit_code == 0
    assert [row["student_id"] for row in gradebook_rows(out)] == ["a"]
    assert not any(name.startswith(".staging") for name in os.listdir(out))


def _dead_pid() -> int:
    """The id of a process that has run and is gone."""
    import subprocess
    import sys

    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def test_a_run_removes_what_killed_runs_of_this_machine_left_and_nothing_else(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """A run killed outright (SIGKILL) cannot clean up: the next run into the same folder
    removes its staging folder. Those of running processes, of other machines, and
    folders merely named alike are left."""
    out = tmp_path / "out"
    out.mkdir()
    with staging(tmp_path / "probe") as stage:  # named .staging-<host>-<pid>-<random>
        host, pid, _ = stage.name.removeprefix(".staging-").rsplit("-", 2)
    assert pid == str(os.getpid())
    stale = out / f".staging-{host}-{_dead_pid()}-abc123"
    (stale / "feedback").mkdir(parents=True)
    (stale / "feedback" / "ada.md").write_text("half")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))  # a lockless folder, an hour old
    kept = [
        out / f".staging-{host}-{os.getpid()}-running",
        out / f".staging-other-machine-{_dead_pid()}-x1",
        out / ".staging-not-a-pid-here",
        out / ".staging-old-style",
    ]
    for each in kept:
        each.mkdir()
    grade_path(EXAMPLES, hw_key, out)
    assert not stale.exists()
    assert all(each.is_dir() for each in kept)
    assert (out / "gradebook.csv").is_file()
    left = {p.name for p in out.iterdir() if p.name.startswith(".")}
    assert left == {each.name for each in kept}  # no staging or swapped-out folder of its own


def test_a_grade_killed_outright_is_cleaned_up_by_the_next(tmp_path: Path) -> None:
    """SIGKILL mid-run leaves a staging folder; the next `grade` removes it and writes
    whole outputs."""
    import signal
    import subprocess

    command, out = class_of_copies(tmp_path)
    run = start_and_wait_for_staging(command, out)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=60)
    assert list(out.glob(".staging-*"))
    again = subprocess.run(command, capture_output=True, check=False)
    assert again.returncode == 0, again.stderr
    assert not list(out.glob(".staging-*"))
    assert len(list((out / "feedback").glob("*.md"))) == 600
