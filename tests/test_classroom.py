"""GitHub Classroom: `grader classroom`, the result the reporter reads, and action.yml."""

from __future__ import annotations

import base64
import functools
import json
import math
import operator
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from grader import AnswerKey, Submission, grade_submission
from grader.cli import app
from grader.intake.readers import read_file
from grader.integrations.classroom import PLACES, summing_scores
from grader.render.feedback import points

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "submissions_example"
HW = ROOT / "rubrics" / "hw.yaml"
WORKFLOW = ROOT / "docs" / "classroom" / ".github" / "workflows" / "classroom.yml"


def reporter_total(result: dict[str, Any]) -> float:
    """The reporter's sum: JavaScript's ``reduce`` over every test's score, from 0."""
    return functools.reduce(operator.add, (test["score"] for test in result["tests"]), 0)


def run_classroom(
    tmp_path: Path, answers: Path, rubric: Path = HW, *, output: bool = True
) -> tuple[Any, dict[str, Any] | None, str]:
    """Run the command as a workflow step would; return the CLI result, the decoded
    ``result`` output (None if none was written) and the step summary."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    github_output = tmp_path / "github_output"
    summary = tmp_path / "step_summary"
    env = {
        "GITHUB_OUTPUT": str(github_output) if output else None,
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    cli = CliRunner(env=env).invoke(app, ["classroom", str(answers), "--rubric", str(rubric)])
    decoded = None
    if github_output.exists():
        lines = github_output.read_text(encoding="utf-8").splitlines()
        results = [line.split("=", 1)[1] for line in lines if line.startswith("result=")]
        assert len(results) == 1
        decoded = json.loads(base64.b64decode(results[0], validate=True).decode("utf-8"))
    text = summary.read_text(encoding="utf-8") if summary.exists() else ""
    return cli, decoded, text


def our_total(path: Path, key: AnswerKey) -> float:
    known = [answer.id for answer in key.rubric.answers]
    [submission] = read_file(path, known)
    assert isinstance(submission, Submission)
    return grade_submission(submission, key).score


GRADED = [
    "ada-perfect.json",
    "emmy-decimal-slip.json",
    "grace-3sigfigs.csv",
    "kurt-half-missing.json",
    "linus-sign-errors.json",
    "seed-transcribed.json",
]


# --- the result ---------------------------------------------------------------------


@pytest.mark.parametrize("name", GRADED)
def test_reporter_sum_of_scores_is_our_total(tmp_path: Path, hw_key: AnswerKey, name: str) -> None:
    """The reporter's sum of the tests' scores is exactly the total, rounded as the gradebook."""
    cli, result, _ = run_classroom(tmp_path, EXAMPLES / name)
    assert cli.exit_code == 0, cli.output
    assert result is not None
    assert reporter_total(result) == round(our_total(EXAMPLES / name, hw_key), PLACES)
    assert result["max_score"] == hw_key.rubric.max_score


def test_one_test_per_answer_id_in_rubric_order(tmp_path: Path, hw_key: AnswerKey) -> None:
    """Each answer id is one test, with the fields the reporter reads and line_no 0."""
    _, result, _ = run_classroom(tmp_path, EXAMPLES / "kurt-half-missing.json")
    assert result is not None
    assert result["version"] == 1
    names = [test["name"].split(":")[0] for test in result["tests"]]
    assert names == [answer.id for answer in hw_key.rubric.answers]
    for test, answer in zip(result["tests"], hw_key.rubric.answers, strict=True):
        assert set(test) == {
            "name",
            "status",
            "score",
            "max_score",
            "message",
            "test_code",
            "filename",
            "line_no",
            "duration",
        }
        assert test["max_score"] == answer.points
        assert test["line_no"] == 0
        assert isinstance(test["score"], int | float)
        assert test["status"] == ("pass" if test["score"] == answer.points else "fail")


def test_all_right_is_pass_and_anything_less_is_fail(tmp_path: Path) -> None:
    """The runner passes only when every answer earns full points."""
    _, perfect, _ = run_classroom(tmp_path / "a", EXAMPLES / "ada-perfect.json")
    _, slip, _ = run_classroom(tmp_path / "b", EXAMPLES / "emmy-decimal-slip.json")
    assert perfect is not None and slip is not None
    assert perfect["status"] == "pass"
    assert {test["status"] for test in perfect["tests"]} == {"pass"}
    assert slip["status"] == "fail"


def test_step_summary_is_the_students_feedback(tmp_path: Path, hw_key: AnswerKey) -> None:
    """The feedback Markdown goes to the job summary, with the student's score."""
    cli, _, summary = run_classroom(tmp_path, EXAMPLES / "emmy-decimal-slip.json")
    total = our_total(EXAMPLES / "emmy-decimal-slip.json", hw_key)
    assert summary.startswith("# ")
    assert f"**Score: {points(total)} / {points(hw_key.rubric.max_score)}**" in summary
    assert "| `q1c.dW.x2` |" in summary
    assert summary.strip() in cli.stdout


def test_existing_outputs_are_kept(tmp_path: Path) -> None:
    """The result is appended to GITHUB_OUTPUT: earlier steps' outputs stay."""
    (tmp_path / "github_output").write_text("earlier=1\n", encoding="utf-8")
    _, result, _ = run_classroom(tmp_path, EXAMPLES / "ada-perfect.json")
    assert result is not None
    assert (tmp_path / "github_output").read_text(encoding="utf-8").startswith("earlier=1\nresult=")


# --- errors -------------------------------------------------------------------------


def test_missing_answers_file_is_an_error_result(tmp_path: Path, hw_key: AnswerKey) -> None:
    """No answers file: a result with status error, zero points, the reason; exit 0."""
    cli, result, summary = run_classroom(tmp_path, tmp_path / "answers.json")
    assert cli.exit_code == 0
    assert result is not None
    assert result["status"] == "error"
    assert result["max_score"] == hw_key.rubric.max_score
    assert reporter_total(result) == 0
    [test] = result["tests"]
    assert test["status"] == "error"
    assert "answers.json" in test["message"] and "commit your answers" in test["message"]
    assert "could not be read" in summary


def test_unreadable_answers_file_is_an_error_result(tmp_path: Path) -> None:
    """A file that is not valid JSON: status error, with the parser's reason."""
    cli, result, _ = run_classroom(tmp_path, EXAMPLES / "broken-upload.json")
    assert cli.exit_code == 0
    assert result is not None
    assert result["status"] == "error"
    assert "not valid JSON" in result["tests"][0]["message"]


def test_class_csv_is_an_error_result(tmp_path: Path) -> None:
    """A whole-class CSV is not one student's answers."""
    _, result, _ = run_classroom(tmp_path, EXAMPLES / "section-b-class.csv")
    assert result is not None
    assert result["status"] == "error"
    assert "students' answers" in result["tests"][0]["message"]


def test_invalid_rubric_is_an_error_result_worth_no_points(tmp_path: Path) -> None:
    """A broken rubric: status error and max_score 0, so the reporter records no points."""
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text("schema_version: 1\ntitle: [unclosed\n", encoding="utf-8")
    cli, result, summary = run_classroom(tmp_path, EXAMPLES / "ada-perfect.json", rubric)
    assert cli.exit_code == 0
    assert result is not None
    assert (result["status"], result["max_score"]) == ("error", 0)
    assert "rubric" in result["tests"][0]["message"]
    assert "tell your instructor" in summary


def test_without_github_output_exits_2(tmp_path: Path) -> None:
    """Outside GitHub Actions there is nowhere to put the result: exit 2, a hint."""
    cli, result, _ = run_classroom(tmp_path, EXAMPLES / "ada-perfect.json", output=False)
    assert cli.exit_code == 2
    assert result is None
    assert "GITHUB_OUTPUT" in cli.stderr


# --- rounding -----------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(st.integers(0, 12), st.integers(1, 12)).map(lambda t: (min(t), t[1])),
        min_size=1,
        max_size=30,
    ),
    st.integers(1, 20),
)
def test_rounded_scores_add_up_exactly(parts: list[tuple[int, int]], points: int) -> None:
    """Per-entry scores (points × right / entries) round to values whose float sum is the
    rounded total (to the last bit where some score can absorb the rounding, which is
    nearly always; never off by more than a few ulps), each within one rounding unit of
    its own score."""
    scores = [points * right / total for right, total in parts]
    total = round(sum(scores), 6)
    rounded = summing_scores(scores, total)
    reporter_sum = functools.reduce(operator.add, rounded, 0)
    assert abs(reporter_sum - round(total, PLACES)) <= 4 * math.ulp(round(total, PLACES))
    for score, value in zip(scores, rounded, strict=True):
        assert abs(score - value) <= 10**-PLACES + 1e-9


# --- action.yml and the workflow ----------------------------------------------------


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return data


def test_action_is_composite_and_runs_grader_classroom(action: dict[str, Any]) -> None:
    """action.yml is a composite action whose steps call `grader classroom`."""
    assert action["runs"]["using"] == "composite"
    runs = [step.get("run", "") for step in action["runs"]["steps"]]
    grading = [
        step for step in action["runs"]["steps"] if "grader classroom" in step.get("run", "")
    ]
    assert len(grading) == 1
    assert "--rubric" in grading[0]["run"]
    assert all("${{" not in run for run in runs), "inputs reach scripts through env, not text"
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"


def test_action_inputs_and_result_output(action: dict[str, Any]) -> None:
    """Inputs rubric, answers, python-version; output result from the grading step."""
    assert {"rubric", "answers", "python-version"} <= set(action["inputs"])
    step_ids = {step.get("id") for step in action["runs"]["steps"]}
    found = re.fullmatch(
        r"\$\{\{ steps\.([\w-]+)\.outputs\.result \}\}", action["outputs"]["result"]["value"]
    )
    assert found and found.group(1) in step_ids
    grading = next(step for step in action["runs"]["steps"] if step.get("id") == found.group(1))
    assert "grader classroom" in grading["run"]


def test_action_installs_the_package_alone_with_a_cache(action: dict[str, Any]) -> None:
    """It installs grader from the action's own folder, no extras, with pip's cache keyed
    on the action's pyproject.toml."""
    steps = action["runs"]["steps"]
    installs = [step["run"] for step in steps if "pip install" in step.get("run", "")]
    assert installs == [
        'python -m pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"'
    ]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert "actions/setup-python" in uses and "actions/cache" in uses
    text = yaml.safe_dump(steps)
    assert "$GITHUB_ACTION_PATH/pyproject.toml" in text and "pip cache dir" in text


def test_pyproject_builds_what_the_action_installs() -> None:
    """The action installs a package whose console script `grader` the step calls."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^grader = "grader\.cli:main"$', text, re.MULTILINE)


def test_classroom_workflow_has_the_layout_classroom_requires(action: dict[str, Any]) -> None:
    """Named "Autograding Tests", one job run-autograding-tests, this action with an id,
    then the reporter reading <ID>_RESULTS for that id."""
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert workflow["name"] == "Autograding Tests"
    assert list(workflow["jobs"]) == ["run-autograding-tests"]
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    [grading] = [step for step in steps if set(step.get("with", {})) >= {"rubric", "answers"}]
    assert set(grading["with"]) <= set(action["inputs"])
    step_id = grading["id"]
    assert re.fullmatch(r"[a-zA-Z0-9]+", step_id), "the reporter's error path rejects other ids"
    reporter = steps[-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"]["runners"] == step_id
    assert reporter["env"] == {
        f"{step_id.upper()}_RESULTS": f"${{{{ steps.{step_id}.outputs.result }}}}"
    }
