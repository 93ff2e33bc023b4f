"""The caps are one frozen ``Limits`` value passed explicitly: the same grade with one
process or several, under every start method of ``multiprocessing``."""

from __future__ import annotations

import dataclasses
import multiprocessing
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader import DEFAULT_LIMITS, AnswerKey, Limits
from grader.cli import app
from grader.errors import UsageError
from grader.run.batch import grade_path
from tests.synthetic import generate

from .conftest import EXAMPLES, RUBRICS

LOWERED = Limits(max_number_text=6, max_answer_text=400, max_warnings=1)
"""Caps low enough to change the grade of many answers of an ordinary class (a cell's
``0.52341`` is refused, a JSON number is not: ``max_number_text`` caps texts)."""


def outputs(out: Path) -> dict[str, bytes]:
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def small_class(tmp_path_factory: pytest.TempPathFactory, hw_key: AnswerKey) -> Path:
    """The examples and enough generated students for several chunks of work."""
    folder = tmp_path_factory.mktemp("class")
    generate(folder, 80, hw_key, seed=11)
    for each in EXAMPLES.iterdir():
        if each.is_dir():
            shutil.copytree(each, folder / each.name)
        else:
            shutil.copy(each, folder / each.name)
    return folder


@pytest.fixture(params=["spawn", "forkserver"])
def start_method(request: pytest.FixtureRequest) -> Iterator[str]:
    """Workers started as on macOS and Windows (``spawn``) and as Python 3.14 does on Linux
    (``forkserver``): they share nothing with the parent but what is handed to them."""
    method: str = request.param
    if method not in multiprocessing.get_all_start_methods():
        raise RuntimeError(f"this platform has no {method} start method")
    before = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method(method, force=True)
    try:
        yield method
    finally:
        multiprocessing.set_start_method(before, force=True)


def test_lowered_caps_give_the_same_outputs_in_workers_of_any_start_method(
    small_class: Path, hw_key: AnswerKey, tmp_path: Path, start_method: str
) -> None:
    """`--jobs 2` under spawn and forkserver writes the bytes of `--jobs 1` under lowered
    caps, and those caps change the grades (so the workers did apply them)."""
    grade_path(small_class, hw_key, tmp_path / "default")
    grade_path(small_class, hw_key, tmp_path / "one", limits=LOWERED)
    grade_path(small_class, hw_key, tmp_path / "two", limits=LOWERED, jobs=2)
    lowered = outputs(tmp_path / "one")
    assert outputs(tmp_path / "two") == lowered
    assert outputs(tmp_path / "default") != lowered
    records = lowered["results.jsonl"].decode("utf-8")
    assert "too long for a number (at most 6)" in records


def test_limits_are_frozen_and_checked() -> None:
    """A Limits value cannot be changed in place; a cap is a whole number >= 0."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_LIMITS.max_number_text = 5  # type: ignore[misc]
    with pytest.raises(UsageError, match="max_entries"):
        Limits(max_entries=-1)
    with pytest.raises(UsageError, match="max_entries"):
        Limits(max_entries=True)


def test_limit_options_set_fields_by_name() -> None:
    """``NAME=VALUE`` options (``grade --limit``) give a new value; unknown names and
    values that are not whole numbers are refused, naming the limits."""
    limits = DEFAULT_LIMITS.with_options(["max_number_text=50", "max-entries=1_000"])
    assert limits == Limits(max_number_text=50, max_entries=1_000)
    assert DEFAULT_LIMITS.max_number_text == 1_000
    with pytest.raises(UsageError, match=r"unknown limit 'max_numbers'.*max_file_bytes"):
        DEFAULT_LIMITS.with_options(["max_numbers=3"])
    with pytest.raises(UsageError, match="expected a whole number"):
        DEFAULT_LIMITS.with_options(["max_entries=lots"])


def test_grade_limit_option_lowers_a_cap(tmp_path: Path) -> None:
    """`grade --limit max_number_text=6` grades a cell's 0.52341 as unreadable."""
    answers = tmp_path / "ada.csv"
    answers.write_text("question,answer\nq2d.yhat,0.52341\n", encoding="utf-8")
    rubric = str(RUBRICS / "hw.yaml")
    runner = CliRunner()
    base = ["grade", str(answers), "--rubric", rubric]
    plain = runner.invoke(app, [*base, "--out", str(tmp_path / "plain")])
    lowered = runner.invoke(
        app, [*base, "--out", str(tmp_path / "low"), "--limit", "max_number_text=6"]
    )
    assert plain.exit_code == lowered.exit_code == 0, lowered.output
    plain_text = (tmp_path / "plain" / "results.jsonl").read_text(encoding="utf-8")
    low_text = (tmp_path / "low" / "results.jsonl").read_text(encoding="utf-8")
    assert "too long for a number" not in plain_text
    assert "too long for a number (at most 6)" in low_text
    bad = runner.invoke(app, [*base, "--out", str(tmp_path / "bad"), "--limit", "nope=1"])
    assert bad.exit_code == 2 and "unknown limit 'nope'" in bad.output
