"""The command line, through typer's CliRunner and as a real subprocess: README.md's
outputs, exit statuses, and a batch that never dies for one student."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from grader.cli import Progress, app

from .conftest import EXAMPLES, RUBRICS, check_golden, class_of_copies, start_and_wait_for_staging

HW = str(RUBRICS / "hw.yaml")


def gradebook(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8"))))


def test_grade_examples_writes_all_three_outputs(tmp_path: Path) -> None:
    """`grade submissions_example` writes gradebook.csv, results.jsonl and feedback/,
    and exits 1 because the examples include one malformed file."""
    out = tmp_path / "grades"
    result = CliRunner().invoke(app, ["grade", str(EXAMPLES), "--rubric", HW, "--out", str(out)])
    assert result.exit_code == 1, result.output
    rows = gradebook(out)
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == len(records) >= 8
    assert list(rows[0])[:2] == ["student_id", "q1.yhat"]
    assert list(rows[0])[-4:] == ["total", "max_total", "percent", "status"]
    feedback = sorted(path.name for path in (out / "feedback").iterdir())
    assert len(feedback) == len(rows)
    assert "Students:" in result.stdout and "mean:" in result.stdout and "median:" in result.stdout


def test_one_malformed_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    """A folder with one broken file grades everyone else, gives the broken one a row
    whose status is the reason, and exits 1."""
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("ada-perfect.json", "grace-3sigfigs.csv", "broken-upload.json"):
        shutil.copy(EXAMPLES / name, folder / name)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["grade", str(folder), "--rubric", HW, "--out", str(out)])
    assert result.exit_code == 1
    rows = {row["student_id"]: row for row in gradebook(out)}
    assert rows["ada"]["status"] == "graded" and rows["ada"]["total"] == "100"
    assert rows["grace-3sigfigs"]["status"] == "graded"
    assert rows["broken-upload"]["status"].startswith("not valid JSON (line 2")
    assert rows["broken-upload"]["total"] == "0"
    assert "broken-upload.json" in result.stderr
    record = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    broken = next(r for r in record if r["student_id"] == "broken-upload")
    assert broken["status"] == "error" and broken["error"].startswith("not valid JSON")


def test_all_readable_exits_0(tmp_path: Path) -> None:
    """Exit 0 when every submission was read."""
    result = CliRunner().invoke(
        app, ["grade", str(EXAMPLES / "ada-perfect.json"), "--rubric", HW, "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output


def test_bad_command_line_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    """A missing --rubric or an invalid rubric exits 2 and writes no outputs."""
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["grade", str(EXAMPLES), "--out", str(out)]).exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\ntitle: x\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["grade", str(EXAMPLES), "--rubric", str(bad), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "problems: is required but missing" in result.stderr
    assert not out.exists()
    missing = CliRunner().invoke(
        app, ["grade", str(tmp_path / "nope"), "--rubric", HW, "--out", str(out)]
    )
    assert missing.exit_code == 2
    assert "nope: no such file or folder" in missing.stderr
    assert not out.exists()


def test_grade_as_a_real_subprocess(tmp_path: Path) -> None:
    """The installed `grade` command runs the main job and reports exit 1 for the broken file."""
    grade = shutil.which("grade") or str(Path(sys.executable).parent / "grade")
    out = tmp_path / "grades"
    run = subprocess.run(
        [grade, str(EXAMPLES), "--rubric", HW, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr
    assert (out / "gradebook.csv").exists() and (out / "results.jsonl").exists()
    assert "could not be read" in run.stderr


def test_check_prints_one_students_feedback() -> None:
    """`grader check` grades one file and prints its feedback."""
    result = CliRunner().invoke(
        app, ["check", str(EXAMPLES / "kurt-half-missing.json"), "--rubric", HW]
    )
    assert result.exit_code == 0
    assert "feedback for kurt" in result.stdout
    assert "**Score: 56 / 100**" in result.stdout


def test_check_of_an_unreadable_file_explains_and_exits_1() -> None:
    """A student checking a broken file is told why it cannot be read."""
    result = CliRunner().invoke(
        app, ["check", str(EXAMPLES / "broken-upload.json"), "--rubric", HW]
    )
    assert result.exit_code == 1
    assert "could not be read" in result.stdout and "not valid JSON" in result.stdout


def test_key_json_prints_full_precision_numbers_and_expressions() -> None:
    """`grader key --format json` prints {id: value} with expressions as strings."""
    result = CliRunner().invoke(app, ["key", "--rubric", HW, "--format", "json"])
    data = json.loads(result.stdout)
    assert data["q2c.DfG"] == [12.0, 131.0]
    assert data["q2a.grad_f"] == ["4*(2*x + 3*y)", "6*(2*x + 3*y)"]
    assert len(repr(data["q2d.yhat"])) > 15  # full float64 precision, not a rounded print


def test_key_table_is_readable() -> None:
    """`grader key` prints one line per vector answer with its points, and the total."""
    result = CliRunner().invoke(app, ["key", "--rubric", HW])
    assert result.exit_code == 0
    assert "q2c.DfG" in result.stdout and "[12, 131]" in result.stdout
    assert result.stdout.rstrip().endswith("100 pt")


def test_golden_gradebook_and_feedback(tmp_path: Path, update_golden: bool) -> None:
    """The examples' gradebook and the seed's feedback are pinned (pytest --update-golden)."""
    out = tmp_path / "grades"
    CliRunner().invoke(app, ["grade", str(EXAMPLES), "--rubric", HW, "--out", str(out)])
    check_golden("examples-gradebook.csv", (out / "gradebook.csv").read_text(), update_golden)
    check_golden("seed-feedback.md", (out / "feedback" / "seed.md").read_text(), update_golden)


def test_progress_counts_on_stderr_once_grading_takes_a_moment() -> None:
    """The progress line appears after half a second, counts students, and is erased."""
    stream = io.StringIO()
    ticks = iter([0.0, 0.1, 0.7, 0.75, 1.0])
    progress = Progress(stream, enabled=True, clock=lambda: next(ticks))
    progress(None)  # at 0.1 s: too early to show anything
    assert stream.getvalue() == ""
    progress(None)  # at 0.7 s
    assert "grading: 2 students graded" in stream.getvalue()
    progress(None)  # at 0.75 s: too soon after the last update
    assert "3 students" not in stream.getvalue()
    progress(None)
    assert "4 students graded" in stream.getvalue()
    progress.close()
    assert stream.getvalue().endswith("\r")


def test_readme_shows_what_the_main_command_prints(tmp_path: Path) -> None:
    """The README's example output is what `grade submissions_example` prints today."""
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- example-output:", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    shown = block.split("\n", 1)[1]  # after the '$ grade ...' line
    shutil.copytree(EXAMPLES, tmp_path / "submissions_example")
    shutil.copytree(RUBRICS, tmp_path / "rubrics")
    run = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "submissions_example", "--rubric",
         "rubrics/hw.yaml"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert run.stdout + run.stderr == shown


def test_a_killed_grade_leaves_the_previous_outputs_and_no_staging(tmp_path: Path) -> None:
    """SIGTERM in the middle of a run exits 143, removes the staging folder, and leaves
    the previous gradebook byte for byte."""
    import signal

    command, out = class_of_copies(tmp_path)
    CliRunner().invoke(
        app, ["grade", str(tmp_path / "class" / "s0000.json"), "--rubric", HW, "--out", str(out)]
    )
    before = (out / "gradebook.csv").read_bytes()
    run = start_and_wait_for_staging(command, out)
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=60) == 143
    assert not list(out.glob(".staging-*"))
    assert (out / "gradebook.csv").read_bytes() == before
