"""Every reader on adversarial inputs at the caps, within a stated time budget: the inputs
that stalled a whole class before (a backtracking pattern, quadratic duplicate detection,
crafted CSV cells) now take well under it, in `grade`, `check`, Classroom and Gradescope.

Budget: ``BUDGET_SECONDS`` of CPU per input (each took from 98 s to forever before)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader import AnswerKey
from grader.cli import app
from grader.run.batch import grade_path

BUDGET_SECONDS = 5.0
HW = "rubrics/hw.yaml"
ANSWER_IDS = ["q1.yhat", "q1c.dW.x1", "q2a.grad_f", "q2d.yhat", "q2c.DfG"]


def _backtracking(path: Path) -> None:
    """']', 99,990 newlines and 'x' in every answer: a nested repetition never finished."""
    text = "]" + "\n" * 99_990 + "x"
    answers = {each: [text, text] if each == "q2a.grad_f" else text for each in ANSWER_IDS}
    path.write_text(json.dumps({"answers": answers}), encoding="utf-8")


def _repeated_keys(path: Path) -> None:
    """400,000 repeated keys in a 9.4 MB file: duplicate detection was quadratic."""
    body = ",".join(f'"q1.yhat":{n}' for n in range(400_000))
    path.write_text('{"answers": {' + body + "}}", encoding="utf-8")


def _crafted_cells(path: Path) -> None:
    """A class CSV whose cells are long runs of what the cell readers look for."""
    cells = ["[" * 20_000 + "1", "1 " * 20_000, "1," * 20_000, "(" * 9_000, "0,5 " * 20_000]
    rows = ["student_id," + ",".join(ANSWER_IDS)]
    rows += [
        f's{n},"{cell}","{cell}","{cell}",{cell.replace(",", ";")},x'
        for n, cell in enumerate(cells)
    ]
    path.with_suffix(".csv").write_text("\n".join(rows), encoding="utf-8")


def _quotes_and_delimiters(path: Path) -> None:
    """A student CSV of 9 MB of quotes, delimiters and line ends."""
    path.with_suffix(".csv").write_text(
        "question,answer\n" + '",;\t\r\n' * 1_500_000, encoding="utf-8"
    )


INPUTS: dict[str, Callable[[Path], None]] = {
    "backtracking": _backtracking,
    "repeated-keys": _repeated_keys,
    "crafted-cells": _crafted_cells,
    "quotes-and-delimiters": _quotes_and_delimiters,
}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_grade_reads_each_adversarial_input_within_the_budget(
    name: str, tmp_path: Path, hw_key: AnswerKey
) -> None:
    """`grade` on the file: a row for it, under the budget."""
    folder = tmp_path / "in"
    folder.mkdir()
    INPUTS[name](folder / f"{name}.json")
    start = time.process_time()
    report = grade_path(folder, hw_key, tmp_path / "out")
    assert time.process_time() - start < BUDGET_SECONDS
    assert report.students >= 1


@pytest.mark.parametrize("command", ["check", "classroom", "gradescope"])
def test_a_students_upload_of_the_backtracking_input_is_read_within_the_budget(
    command: str, tmp_path: Path
) -> None:
    """The commands a student's upload goes through finish within the budget too."""
    upload = tmp_path / "upload"
    upload.mkdir()
    _backtracking(upload / "answers.json")
    arguments = {
        "check": [str(upload / "answers.json")],
        "classroom": [str(upload / "answers.json")],
        "gradescope": [str(upload), "--out", str(tmp_path / "results.json")],
    }[command]
    env = {"GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "s")}
    start = time.process_time()
    done = CliRunner().invoke(app, [command, *arguments, "--rubric", HW], env=env)
    assert time.process_time() - start < BUDGET_SECONDS
    assert done.exit_code == 0, done.output
