"""Shared fixtures: the repository's rubrics, their answer keys, and golden-file control."""

from __future__ import annotations

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


def check_golden(path: Path, actual: str, update: bool) -> None:
    """Compare ``actual`` with the golden file at ``path``, or rewrite it when updating."""
    if update or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not update:
            pytest.fail(f"golden file {path.name} did not exist; written, run again")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path.name} differs from its golden file (pytest --update-golden)"
