"""Gradescope: `grader gradescope`, its results.json, and the setup.sh/run_autograder pair."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from grader import AnswerKey, Submission, grade_submission
from grader.cli import app
from grader.integrations.gradescope import gradescope_results

from .conftest import check_golden

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "submissions_example"
HW = ROOT / "rubrics" / "hw.yaml"
DOCS = ROOT / "docs" / "gradescope"


def answers_with_slips(key: AnswerKey) -> dict[str, Any]:
    """The key's answers to 6 significant digits, with one matrix entry off, a wrong
    gradient, and problem 2d left out."""
    answers: dict[str, Any] = {}
    for answer_id, value in key.to_json().items():
        answers[answer_id] = _six_digits(value)
    answers["q1c.dW.x2"][0][0] *= 1.5
    answers["q2a.grad_f"] = ["x + y", "x - y"]
    for answer_id in ("q2d.yhat", "q2d.dv", "q2d.dW"):
        del answers[answer_id]
    return {"student_id": "cy", "answers": answers}


def _six_digits(value: Any) -> Any:
    if isinstance(value, list):
        return [_six_digits(each) for each in value]
    return float(f"{value:.6g}") if isinstance(value, float) else value


def grade_file(path: Path, key: AnswerKey) -> dict[str, Any]:
    """What results.json should hold for ``path``, graded in-process."""
    from grader.intake.readers import read_file

    [submission] = read_file(path, [answer.id for answer in key.rubric.answers])
    assert isinstance(submission, Submission)
    return gradescope_results(grade_submission(submission, key), key.rubric)


def run(args: list[str]) -> Any:
    return CliRunner().invoke(app, args)


# --- results.json -------------------------------------------------------------------


def test_results_score_is_the_total_and_tests_are_the_answers(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """score is our total; one test per answer id with its points, passed only if correct."""
    upload = tmp_path / "submission"
    upload.mkdir()
    (upload / "answers.json").write_text(json.dumps(answers_with_slips(hw_key)), encoding="utf-8")
    out = tmp_path / "results" / "results.json"
    cli = run(["gradescope", str(upload), "--rubric", str(HW), "--out", str(out)])
    assert cli.exit_code == 0, cli.output
    results = json.loads(out.read_text(encoding="utf-8"))
    [submission] = [answers_with_slips(hw_key)]
    graded = grade_submission(Submission("cy", "x", submission["answers"]), hw_key)
    assert results["score"] == round(graded.score, 4)
    assert results["score"] == pytest.approx(sum(test["score"] for test in results["tests"]))
    assert [test["name"].split(":")[0] for test in results["tests"]] == [
        answer.id for answer in hw_key.rubric.answers
    ]
    for test, item in zip(results["tests"], graded.items, strict=True):
        assert test["max_score"] == item.max_score
        assert test["status"] == ("passed" if item.status == "correct" else "failed")
        assert test["visibility"] == "visible"
        assert item.message in test["output"]
    statuses = {test["name"].split(":")[0]: test["status"] for test in results["tests"]}
    assert statuses["q1c.dW.x2"] == statuses["q2d.dv"] == statuses["q2a.grad_f"] == "failed"
    assert statuses["q1.yhat"] == "passed"


def test_results_golden(tmp_path: Path, hw_key: AnswerKey, update_golden: bool) -> None:
    """results.json of a submission with a slip, a wrong gradient and a missing problem."""
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers_with_slips(hw_key)), encoding="utf-8")
    text = json.dumps(grade_file(path, hw_key), indent=2, ensure_ascii=False) + "\n"
    check_golden("gradescope-results.json", text, update_golden)


def test_unreadable_upload_still_gets_results(tmp_path: Path, hw_key: AnswerKey) -> None:
    """A file that cannot be read: score 0 and the reason in the output the student sees."""
    upload = tmp_path / "submission"
    upload.mkdir()
    shutil.copy(EXAMPLES / "broken-upload.json", upload / "answers.json")
    out = tmp_path / "results.json"
    cli = run(["gradescope", str(upload), "--rubric", str(HW), "--out", str(out)])
    assert cli.exit_code == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["score"] == 0
    assert "could not be read" in results["output"] and "not valid JSON" in results["output"]
    assert len(results["tests"]) == len(hw_key.rubric.answers)


def test_upload_without_answers_file_says_so(tmp_path: Path) -> None:
    """An upload with no JSON or CSV file: score 0, and the output says what to upload."""
    upload = tmp_path / "submission"
    upload.mkdir()
    (upload / "notes.pdf").write_bytes(b"%PDF")
    out = tmp_path / "results.json"
    assert run(["gradescope", str(upload), "--rubric", str(HW), "--out", str(out)]).exit_code == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["score"] == 0
    assert "no answers file" in results["output"]


def test_invalid_rubric_writes_nothing(tmp_path: Path) -> None:
    """A broken rubric is the instructor's: exit 2 and no results.json (no silent zero)."""
    upload = tmp_path / "submission"
    upload.mkdir()
    shutil.copy(EXAMPLES / "ada-perfect.json", upload / "answers.json")
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text("title: no schema\n", encoding="utf-8")
    out = tmp_path / "results.json"
    cli = run(["gradescope", str(upload), "--rubric", str(rubric), "--out", str(out)])
    assert cli.exit_code == 2
    assert not out.exists()


# --- the setup.sh / run_autograder pair ---------------------------------------------


def build_wheel(destination: Path) -> Path:
    """A wheel of the working tree, zipped by hand (no build backend, no network)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name, version = project["name"], project["version"]
    stem = name.replace("-", "_")  # a wheel's file and dist-info folder names use _ for -
    info = f"{stem}-{version}.dist-info"
    scripts = "".join(f"{script} = {target}\n" for script, target in project["scripts"].items())
    files: dict[str, bytes] = {
        path.relative_to(ROOT).as_posix(): path.read_bytes()
        for path in sorted((ROOT / "grader").rglob("*.py"))
    }
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = f"[console_scripts]\n{scripts}".encode()
    record = [
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for path, data in files.items()
    ]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    wheel = destination / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


@pytest.mark.slow  # builds a virtual environment (about 15 s)
def test_setup_and_run_autograder_in_an_autograder_layout(
    tmp_path: Path, hw_key: AnswerKey
) -> None:
    """In a folder laid out like /autograder, setup.sh installs grader in a virtual
    environment and run_autograder writes results/results.json for the upload."""
    root = tmp_path / "autograder"
    source, upload = root / "source", root / "submission"
    source.mkdir(parents=True)
    upload.mkdir()
    for script in ("setup.sh", "run_autograder"):
        shutil.copy(DOCS / script, source / script)
    shutil.copy(HW, source / "rubric.yaml")
    build_wheel(source)
    answers = upload / "answers.json"
    answers.write_text(json.dumps(answers_with_slips(hw_key)), encoding="utf-8")
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "GRADER_PYTHON": sys.executable,
        "GRADER_PIP_OPTIONS": "--no-index --no-deps",  # offline: the tests' own packages serve
    }
    subprocess.run(["bash", str(source / "setup.sh")], env=env, check=True, timeout=120)
    [site] = (root / "venv").glob("lib/python*/site-packages")
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    shutil.copy(source / "run_autograder", root / "run_autograder")  # as Gradescope does
    done = subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        env=env,
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results == grade_file(answers, hw_key)
    installed = subprocess.run(
        [str(root / "venv" / "bin" / "python"), "-c", "import grader; print(grader.__file__)"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert installed.startswith(str(site)), "run_autograder used the grader setup.sh installed"
