"""Shared fixtures: the repository's rubrics, their answer keys, and golden-file control."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import AnswerKey, Rubric, load_rubric, solve

ROOT = Path(__file__).resolve().parent.parent
RUBRICS = ROOT / "rubrics"
EXAMPLES = ROOT / "submissions_example"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the golden files from the current output instead of comparing.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when golden files are to be regenerated (pytest --update-golden)."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def hw_rubric() -> Rubric:
    return load_rubric(RUBRICS / "hw.yaml")


@pytest.fixture(scope="session")
def hw_key(hw_rubric: Rubric) -> AnswerKey:
    return solve(hw_rubric)


@pytest.fixture(scope="session")
def wide_key() -> AnswerKey:
    return solve(load_rubric(RUBRICS / "wide-sigmoid.yaml"))


def check_golden(name: str, actual: str, update: bool) -> None:
    """Compare ``actual`` with ``tests/golden/<name>``; rewrite it only under
    ``pytest --update-golden`` (a missing golden file fails, it is never made silently)."""
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {name}: run pytest --update-golden"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs (pytest --update-golden)"


def class_of_copies(tmp_path: Path, students: int = 600) -> tuple[list[str], Path]:
    """A class of copies of ada under ``tmp_path``: the `grade` command for it, and
    the output folder it writes."""
    folder = tmp_path / "class"
    folder.mkdir()
    text = (EXAMPLES / "ada-perfect.json").read_text(encoding="utf-8")
    for number in range(students):
        (folder / f"s{number:04}.json").write_text(text.replace('"ada"', f'"s{number}"'))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "grade", str(folder), "--rubric"]
    command += [str(RUBRICS / "hw.yaml"), "--out", str(out)]
    return command, out


def start_and_wait_for_staging(command: list[str], out: Path) -> subprocess.Popen[bytes]:
    """Run ``command`` until its staging folder in ``out`` holds a feedback file."""
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(out.glob(".staging-*/feedback/*.md")) and time.monotonic() < deadline:
        time.sleep(0.02)
    return run
