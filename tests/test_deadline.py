"""The time limit per file read and per submission graded (``grader.deadline``), in every
command that reads and grades, and without the timer (outside the main thread).

The slow input is within the caps it is graded under (the expression caps raised with
``--limit``, as an instructor may): an expression answer whose grading takes far longer
than the 1 s limit these tests set, so that only the limit can stop it in time.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import grader
import grader.deadline
from grader import Limits
from grader.cli import app
from grader.deadline import Overtime, checkpoint, within
from grader.run.batch import grade_path
from tests.synthetic import long_expression_class

ROOT = Path(__file__).resolve().parent.parent
HW = str(ROOT / "rubrics" / "hw.yaml")
PERFECT = json.loads((ROOT / "submissions_example" / "ada-perfect.json").read_text("utf-8"))[
    "answers"
]

SLOW_TERMS = 400_000
"""Terms of the slow expression answer: some 2.8 MB, reading and grading it takes many
seconds (several times the 1 s limit even on a fast machine)."""
BIG = 10**8
RAISED = {
    "max_answer_text": BIG,
    "max_expression_length": BIG,
    "max_expression_nodes": BIG,
}
"""The caps the slow answer is within (every other cap keeps its default)."""
LIMITS = Limits(max_seconds_per_submission=1, **RAISED)
OPTIONS = ["--limit", "max_seconds_per_submission=1"] + [
    item for name, value in RAISED.items() for item in ("--limit", f"{name}={value}")
]
BUDGET = 30.0
"""Wall-clock seconds a command may take here (the limit is 1 s; the rest is margin for a
loaded machine): the unlimited grading of the slow answer takes several times longer."""
GRADING = "grading took more than 1 s (Limits.max_seconds_per_submission)"
READING = "reading the file took more than 1 s (Limits.max_seconds_per_submission)"


def _slow_answers(folder: Path, name: str = "answers.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    slow = "+".join(f"{n % 97}*x*y" for n in range(SLOW_TERMS))
    path = folder / name
    path.write_text(
        json.dumps({"student_id": "slow", "answers": {**PERFECT, "q2a.grad_f": [slow, "y"]}}),
        encoding="utf-8",
    )
    return path


def _invoke(*args: str, env: dict[str, str] | None = None) -> tuple[Any, float]:
    start = time.perf_counter()
    done = CliRunner().invoke(app, list(args), env=env)
    return done, time.perf_counter() - start


def _classroom_result(output: Path) -> Any:
    """The reporter's JSON that `grader classroom` appended to $GITHUB_OUTPUT."""
    line = output.read_text(encoding="utf-8").strip()
    assert line.startswith("result=")
    return json.loads(base64.b64decode(line.removeprefix("result=")))


# --- through each command, with the timer ------------------------------------------------


def test_check_stops_grading_at_the_limit_and_says_so(tmp_path: Path) -> None:
    """`grader check` ran on for as long as grading took: over the limit, its feedback
    says the submission was not graded, and it exits 1 (a file that could not be graded)."""
    answers = _slow_answers(tmp_path)
    done, seconds = _invoke("check", str(answers), "--rubric", HW, *OPTIONS)
    assert seconds < BUDGET
    assert done.exit_code == 1, done.output
    assert GRADING in done.output


def test_classroom_stops_grading_at_the_limit_and_writes_its_error_result(
    tmp_path: Path,
) -> None:
    """`grader classroom` over the limit: a result of status error with the reason, zero
    points, and exit 0 (a result was written: the reporter fails the job)."""
    answers = _slow_answers(tmp_path / "repo")
    output = tmp_path / "github_output"
    done, seconds = _invoke(
        "classroom",
        str(answers),
        "--rubric",
        HW,
        *OPTIONS,
        env={"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")},
    )
    assert seconds < BUDGET
    assert done.exit_code == 0, done.output
    result = _classroom_result(output)
    assert result["status"] == "error"
    assert [test["score"] for test in result["tests"]] == [0]
    assert GRADING in result["tests"][0]["message"]
    assert GRADING in done.output


def test_gradescope_stops_grading_at_the_limit_and_writes_results_json(tmp_path: Path) -> None:
    """`grader gradescope` over the limit: results.json is written, score 0, the reason in
    its output, exit 0."""
    upload = tmp_path / "submission"
    _slow_answers(upload)
    out = tmp_path / "results" / "results.json"
    done, seconds = _invoke("gradescope", str(upload), "--rubric", HW, "--out", str(out), *OPTIONS)
    assert seconds < BUDGET
    assert done.exit_code == 0, done.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["score"] == 0
    assert GRADING in data["output"]


def test_grade_stops_grading_at_the_limit_and_grades_the_rest(tmp_path: Path) -> None:
    """`grade` (the same `--limit`): the slow submission is an error row, the others are
    graded."""
    folder = tmp_path / "class"
    _slow_answers(folder, "slow.json")
    (folder / "ada.json").write_text(json.dumps({"answers": PERFECT}), encoding="utf-8")
    out = tmp_path / "out"
    done, seconds = _invoke("grade", str(folder), "--rubric", HW, "--out", str(out), *OPTIONS)
    assert seconds < BUDGET
    assert done.exit_code == 1, done.output
    rows = {
        row["student_id"]: row
        for row in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8")))
    }
    assert rows["slow"]["status"].startswith(GRADING)
    assert float(rows["ada"]["total"]) == 100


# --- reading a file past the limit -------------------------------------------------------


class _Clock:
    """A monotonic clock on which each reading is a minute after the one before: every
    ``checkpoint`` finds its deadline passed (reading a file is bounded by the caps, so
    no input within them is slow enough to pass a 1 s limit on any machine)."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 60.0
        return self.now


@pytest.fixture
def late(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grader.deadline, "time", _Clock())


def _class_of_one(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "answers.csv"
    path.write_text("question,answer\nq2d.yhat,0.0567\n", encoding="utf-8")
    return path


@pytest.mark.usefixtures("late")
def test_each_command_reports_a_file_whose_reading_passed_the_limit(tmp_path: Path) -> None:
    """Reading under the limit in `check`, `classroom` and `gradescope` too (it was only in
    `grade`): the file is an error saying so, in each command's own output."""
    answers = _class_of_one(tmp_path / "repo")
    done, _ = _invoke("check", str(answers), "--rubric", HW, *OPTIONS)
    assert done.exit_code == 1 and READING in done.output

    output = tmp_path / "github_output"
    done, _ = _invoke(
        "classroom", str(answers), "--rubric", HW, *OPTIONS, env={"GITHUB_OUTPUT": str(output)}
    )
    assert done.exit_code == 0, done.output
    result = _classroom_result(output)
    assert result["status"] == "error" and READING in result["tests"][0]["message"]

    out = tmp_path / "results.json"
    done, _ = _invoke(
        "gradescope", str(answers.parent), "--rubric", HW, "--out", str(out), *OPTIONS
    )
    assert done.exit_code == 0, done.output
    assert READING in json.loads(out.read_text(encoding="utf-8"))["output"]

    feedback = grader.check(answers, HW, limits=LIMITS)
    assert feedback.result.status == "error" and READING in (feedback.result.error or "")


# --- without the timer: outside the main thread -------------------------------------------


def _in_a_thread(work: Any) -> Any:
    """``work()`` run in a thread other than the main one (where no timer can be armed)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as error:  # handed back to the test
            box["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(BUDGET * 2)
    assert not thread.is_alive(), "the limit did not stop the work"
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_grader_check_in_a_thread_stops_at_the_limit(tmp_path: Path) -> None:
    """The Python API called from a thread (a web server, a notebook's job) had no time
    limit at all: the checkpoints stop grading there too, with the same error."""
    answers = _slow_answers(tmp_path)
    start = time.process_time()
    feedback = _in_a_thread(lambda: grader.check(answers, HW, limits=LIMITS))
    assert time.process_time() - start < BUDGET
    assert feedback.result.status == "error"
    assert GRADING in (feedback.result.error or "")


def test_grader_grade_in_a_thread_stops_the_slow_submission_only(tmp_path: Path) -> None:
    """``grader.grade`` in a thread: the slow submission is an error row, the class goes on."""
    folder = tmp_path / "class"
    _slow_answers(folder, "slow.json")
    (folder / "ada.json").write_text(json.dumps({"answers": PERFECT}), encoding="utf-8")
    results = _in_a_thread(lambda: grader.grade(folder, HW, limits=LIMITS))
    gradebook = results.gradebook  # indexed by student_id
    assert str(gradebook.loc["slow", "status"]).startswith(GRADING)
    assert float(gradebook.loc["ada", "total"]) == 100


def test_a_checkpoint_raises_once_the_deadline_has_passed_in_any_thread() -> None:
    """``checkpoint`` outside any ``within`` block never raises; inside one, once its
    seconds have passed (here without the timer: in a thread); and an inner block keeps
    the outer limit."""

    def work() -> str:
        checkpoint()  # no limit: nothing happens
        with within(1), within(100):  # the outer limit holds
            start = time.monotonic()
            try:
                while time.monotonic() - start < BUDGET:
                    checkpoint()
            except Overtime:
                return "stopped"
        return "ran on"

    assert _in_a_thread(work) == "stopped"


# --- bounded work per byte -----------------------------------------------------------------


def test_a_class_csv_of_long_expressions_grades_in_bounded_cpu_time(
    tmp_path: Path, hw_key: grader.AnswerKey
) -> None:
    """A 10 MB class CSV of long expressions (10,000 rows) took some 50 s of CPU: the
    expression parser now reads a byte in linear time, in C where it can. Budget: 400
    such rows (some 400 KB) in under 10 s of CPU, several times what they take."""
    path = tmp_path / "class.csv"
    path.write_text(long_expression_class(hw_key, 400, 1_070), encoding="utf-8")
    start = time.process_time()
    report = grade_path(path, hw_key, tmp_path / "out")
    assert time.process_time() - start < 10
    assert report.exit_code == 0
    rows = (tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 401 and all(row.endswith(",graded") for row in rows[1:])
