"""Grading under a rubric with variants: every command grades each student against the
key of their own variant."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from grader.rubric.load import load_rubric
from grader.solver.key import AnswerKey
from grader.variants.keys import answer_key
from tests.conftest import RUBRICS

HW_VARIANTS = RUBRICS / "hw-variants.yaml"
STUDENTS = ["alice", "bob", "carol", "dave", "erin", "frank"]


@pytest.fixture(scope="module")
def key() -> AnswerKey:
    return answer_key(load_rubric(HW_VARIANTS))


def _sig(value: Any, digits: int = 5) -> Any:
    if isinstance(value, list):
        return [_sig(each, digits) for each in value]
    return value if isinstance(value, str) else float(f"{value:.{digits}g}")


def own_answers(key: AnswerKey, student: str) -> dict[str, Any]:
    """A student's perfect answers, to five significant figures, from their own key."""
    return {answer: _sig(value) for answer, value in key.for_student(student).to_json().items()}


def _write(folder: Path, name: str, student: str | None, answers: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"answers": answers}
    if student is not None:
        data["student_id"] = student
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def grader(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], capture_output=True, text=True, **kwargs
    )


def _results(out: Path) -> dict[str, dict[str, Any]]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return {record["student_id"]: record for record in map(json.loads, lines)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, key: AnswerKey) -> Path:
    """A class of six with their own answers, one of them (`mallory`) handing in bob's."""
    folder = tmp_path_factory.mktemp("class")
    for student in STUDENTS:
        _write(folder / "subs", student, student, own_answers(key, student))
    _write(folder / "subs", "mallory", "mallory", own_answers(key, "bob"))
    # an id written as an email, in upper case: alice2's variant is drawn for "alice2"
    _write(folder / "subs", "alice2", " Alice2@Uni.EDU ", own_answers(key, "alice2"))
    return folder


def test_each_students_own_answers_score_full_marks(graded: Path, key: AnswerKey) -> None:
    """grade: every student's own key scores 100; bob's answers under mallory's id score low."""
    out = graded / "out1"
    done = grader("grade", str(graded / "subs"), "--rubric", str(HW_VARIANTS), "--out", str(out))
    assert done.returncode == 0, done.stderr
    results = _results(out)
    for student in [*STUDENTS, "Alice2@Uni.EDU"]:  # the reader strips the spaces
        assert results[student]["score"] == key.rubric.max_score, student
    # what is not drawn (problem 2 a-c, 14 points) and sums right given the copied
    # per-example answers (ecf) are all that can be right
    assert results["mallory"]["score"] < 0.4 * key.rubric.max_score


def test_jobs_2_writes_the_bytes_of_jobs_1(graded: Path) -> None:
    """grade --jobs 2 under variants: every output byte for byte that of --jobs 1."""
    outs = []
    for jobs in ("1", "2"):
        out = graded / f"jobs{jobs}"
        done = grader(
            "grade", str(graded / "subs"), "--rubric", str(HW_VARIANTS), "--out", str(out),
            "--jobs", jobs,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert outs[0] == outs[1]


def test_merge_of_shards_is_one_run(graded: Path) -> None:
    """Two shards graded apart and merged are the outputs of one run (expected values
    restored from each student's own key)."""
    subs = graded / "subs"
    one = graded / "one"
    rubric = ["--rubric", str(HW_VARIANTS)]
    grader("grade", str(subs), *rubric, "--out", str(one), check=True)
    for part in ("1", "2"):
        grader(
            "grade", str(subs), *rubric, "--out", str(graded / f"shard{part}"),
            "--shard", f"{part}/2", check=True,
        )  # fmt: skip
    merged = graded / "merged"
    shards = [str(graded / f"shard{part}" / "results.jsonl") for part in ("1", "2")]
    grader("merge", *shards, *rubric, "--out", str(merged), check=True)
    for name in ("gradebook.csv", "results.jsonl"):
        assert (merged / name).read_bytes() == (one / name).read_bytes()


def test_check_grades_against_the_files_id_or_student(tmp_path: Path, key: AnswerKey) -> None:
    """grader check: a file without a student_id is graded as --student says."""
    path = _write(tmp_path, "answers", None, own_answers(key, "carol"))
    right = grader("check", str(path), "--rubric", str(HW_VARIANTS), "--student", "Carol")
    assert right.returncode == 0
    assert f"**Score: {key.rubric.max_score:g} / {key.rubric.max_score:g}**" in right.stdout
    wrong = grader("check", str(path), "--rubric", str(HW_VARIANTS))  # id = stem "answers"
    assert f"**Score: {key.rubric.max_score:g} / " not in wrong.stdout


def test_classroom_grades_the_student_input(tmp_path: Path, key: AnswerKey) -> None:
    """grader classroom --student (the action's input): that student's variant; with
    strip_prefix, the repository name hw1-dave is student dave."""
    text = HW_VARIANTS.read_text(encoding="utf-8").replace(
        'seed: "hw1-2026"', 'seed: "hw1-2026"\n  strip_prefix: "hw1-"'
    )
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(text, encoding="utf-8")
    answers = _write(tmp_path, "answers", None, own_answers(key, "dave"))
    output = tmp_path / "github_output"
    done = grader(
        "classroom", str(answers), "--rubric", str(rubric), "--student", "hw1-dave",
        "--github-output", str(output),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    encoded = output.read_text(encoding="utf-8").strip().removeprefix("result=")
    result = json.loads(base64.b64decode(encoded))
    assert sum(test["score"] for test in result["tests"]) == key.rubric.max_score


def test_gradescope_takes_the_id_from_submission_metadata(tmp_path: Path, key: AnswerKey) -> None:
    """grader gradescope: the first submitter's email in submission_metadata.json."""
    submission = tmp_path / "submission"
    _write(submission, "answers", None, own_answers(key, "erin"))
    users = [{"email": "Erin@school.edu", "name": "Erin", "sid": "123"}]
    (tmp_path / "submission_metadata.json").write_text(json.dumps({"users": users}))
    out = tmp_path / "results.json"
    done = grader("gradescope", str(submission), "--rubric", str(HW_VARIANTS), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["score"] == key.rubric.max_score
    (tmp_path / "submission_metadata.json").unlink()  # no metadata: the file's stem
    grader("gradescope", str(submission), "--rubric", str(HW_VARIANTS), "--out", str(out))
    assert json.loads(out.read_text())["score"] < key.rubric.max_score
