"""Known attacks (issue 4, item 3): each gets its expected, clear outcome per item or
per file, within a second of CPU and bounded memory, runs no code, and leaves no file
behind but the outputs. Small attack files live in tests/attacks/; large ones are made
here, under tmp_path, never committed."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader import AnswerKey
from grader.run.batch import grade_path
from grader.run.output import feedback_stem

ATTACKS = Path(__file__).resolve().parent / "attacks"
PWNED = "PWNED"  # what the code in the attack files would create if it ever ran


def _json(answers: dict[str, object], student_id: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(json.dumps({"student_id": student_id, "answers": answers}))

    return write


def _text(text: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write


def _sparse(size: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("wb") as file:
            file.truncate(size)  # no disk used

    return write


def _random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(4).randbytes(200_000))


DEEP = 100_000
GENERATED: dict[str, Callable[[Path], None]] = {
    "nested-parentheses.json": _json(
        {
            "q2d.yhat": "(" * 5_000 + "1" + ")" * 5_000,
            "q1.yhat": "[" * 5_000 + "1" + "]" * 5_000,
            "q2a.grad_f": ["(" * 5_000 + "x" + ")" * 5_000, "y"],
        },
        "nested-parentheses",
    ),
    "hundred-thousand-terms.json": _json(
        {"q2d.yhat": "+".join(["1"] * 100_000), "q2a.grad_f": ["+".join(["x"] * 100_000), "y"]},
        "hundred-thousand-terms",
    ),
    "fifty-megabytes.json": _sparse(50 * 1024 * 1024),
    "million-entries.json": _json({"q1.yhat": [0] * 1_000_000}, "million-entries"),
    "million-entries.csv": _text('question,answer\nq1.yhat,"' + " 0" * 1_000_000 + '"\n'),
    "thousands-of-digits.json": _text(
        '{"student_id": "thousands-of-digits", "answers": {"q2d.yhat": '
        + "9" * 5_000
        + ', "q2c.DfG": ["'
        + "9" * 5_000
        + '", 131]}}'
    ),
    "json-nested-100000.json": _text('{"answers": {"q1.yhat": ' + "[" * DEEP + "]" * DEEP + "}}"),
    "json-objects-nested-100000.json": _text(
        '{"answers": ' + '{"a":' * DEEP + "1" + "}" * DEEP + "}"
    ),
    "binary-garbage.json": _random_bytes,
    "binary-garbage-as.csv": _random_bytes,
}


@dataclass(frozen=True)
class Outcome:
    """What an attack must come to: the whole file refused (``item`` None) with a
    message, or one answer with a status and a message."""

    item: str | None
    status: str
    message: str


EXPECTED: dict[str, list[Outcome]] = {
    "import-os-system.json": [
        Outcome("q2d.yhat", "unreadable", "unknown name '__import__'"),
        Outcome("q1.yhat", "unreadable", "entry [0]: not a number: unknown name '__import__'"),
        Outcome("q2a.grad_f", "unreadable", "unknown name '__import__'"),
    ],
    "attribute-access.json": [
        Outcome("q2d.yhat", "unreadable", "not a number"),
        Outcome("q2a.grad_f", "unreadable", "character '.'"),
    ],
    "lambda.json": [
        Outcome("q2d.yhat", "unreadable", "unknown name 'lambda'"),
        Outcome("q2a.grad_f", "unreadable", "unknown name 'lambda'"),
    ],
    "power-tower.json": [
        Outcome("q2d.yhat", "incorrect", "Not a finite number."),
        Outcome("q2a.grad_f", "partial", "Not equivalent to the expected expression: ∂f/∂x."),
    ],
    "caret-tower.csv": [
        Outcome("q2d.yhat", "incorrect", "Not a finite number."),
        Outcome("q2c.DfG", "partial", "not finite"),
    ],
    "nan-infinity.json": [
        Outcome("q2d.yhat", "incorrect", "Not a finite number."),
        Outcome("q1.yhat", "incorrect", "not finite"),
    ],
    "path-traversal-id.json": [Outcome("q2d.yhat", "correct", "Correct.")],
    "formula-injection-ids.csv": [Outcome("q2d.yhat", "correct", "Correct.")],
    "nested-parentheses.json": [
        Outcome("q2d.yhat", "unreadable", "too long for a number (at most 1,000)"),
        Outcome("q1.yhat", "unreadable", "lists nested more than 3 deep"),
        Outcome("q2a.grad_f", "unreadable", "the limit is max_length=10000"),
    ],
    "hundred-thousand-terms.json": [
        Outcome("q2d.yhat", "unreadable", "more than the 100,000 allowed"),
        Outcome("q2a.grad_f", "unreadable", "the limit is max_length=10000"),
    ],
    "fifty-megabytes.json": [Outcome(None, "error", "52,428,800 bytes, more than the")],
    "million-entries.json": [Outcome("q1.yhat", "unreadable", "more than 10,000 entries")],
    "million-entries.csv": [Outcome("q1.yhat", "unreadable", "more than the 100,000 allowed")],
    "thousands-of-digits.json": [
        Outcome("q2d.yhat", "incorrect", "Not a finite number."),
        Outcome("q2c.DfG", "unreadable", "entry [0]: 5,000 characters is too long"),
    ],
    "json-nested-100000.json": [Outcome(None, "error", "nested too deeply")],
    "json-objects-nested-100000.json": [Outcome(None, "error", "nested too deeply")],
    "binary-garbage.json": [Outcome(None, "error", "not valid JSON")],
    "binary-garbage-as.csv": [Outcome(None, "error", "unrecognised header")],
}


def test_every_attack_has_an_expected_outcome() -> None:
    """The corpus and the table of outcomes name the same attacks."""
    corpus = {path.name for path in ATTACKS.iterdir()} | set(GENERATED)
    assert corpus == set(EXPECTED)


def place(name: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if name in GENERATED:
        GENERATED[name](path)
    else:
        shutil.copyfile(ATTACKS / name, path)
    return path


def files_under(folder: Path) -> set[Path]:
    return {path.relative_to(folder) for path in folder.rglob("*") if not path.is_dir()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_an_attack_gets_its_outcome_quickly_and_leaves_only_the_outputs(
    name: str, hw_key: AnswerKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each attack: its expected outcome, under a second of CPU, nothing run, and no
    file anywhere but the submission and the three outputs."""
    monkeypatch.chdir(tmp_path)  # code that ran would write PWNED here
    submission = place(name, tmp_path / "in")
    out = tmp_path / "out"
    start = time.process_time()
    report = grade_path(submission, hw_key, out)
    elapsed = time.process_time() - start
    assert elapsed < 1.0, f"{name} took {elapsed:.2f} s of CPU"

    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    for outcome in EXPECTED[name]:
        for record in records:
            if outcome.item is None:
                assert record["status"] == "error" and outcome.message in record["error"]
            else:
                (item,) = [i for i in record["items"] if i["id"] == outcome.item]
                assert (item["status"], outcome.message in item["message"]) == (
                    outcome.status,
                    True,
                ), item["message"]
    assert report.exit_code == (1 if EXPECTED[name][0].item is None else 0)

    leftover = files_under(tmp_path) - {Path("in") / name}
    feedback = {path for path in leftover if path.parts[:2] == ("out", "feedback")}
    assert leftover - feedback == {
        Path("out/gradebook.csv"),
        Path("out/items.csv"),
        Path("out/results.jsonl"),
        Path("out/similar.csv"),
        Path("out/summary.md"),
    }
    assert len(feedback) == len(records)
    assert not os.path.exists(tmp_path / PWNED)


def test_hostile_ids_are_inert_in_the_gradebook_and_the_file_system(
    hw_key: AnswerKey, tmp_path: Path
) -> None:
    """Formula ids are quoted in the gradebook; a path in an id stays a file name."""
    folder = tmp_path / "in"
    for name in ("formula-injection-ids.csv", "path-traversal-id.json"):
        place(name, folder)
    grade_path(folder, hw_key, tmp_path / "out")
    table = list(csv.DictReader(io.StringIO((tmp_path / "out" / "gradebook.csv").read_text())))
    assert sorted(row["student_id"] for row in table) == sorted(
        ["'=cmd|' /C calc'!A0", "'@SUM(1+1)", "../../../../tmp/evil"]
    )
    assert not (tmp_path / "evil.md").exists() and not Path("/tmp/evil.md").exists()
    assert [path.name for path in (tmp_path / "out" / "feedback").glob("tmp_evil~*.md")] == [
        f"{feedback_stem('../../../../tmp/evil')}.md"
    ]


def test_a_symbolic_link_to_a_secret_is_not_read(hw_key: AnswerKey, tmp_path: Path) -> None:
    """A student's answers.csv that links to a file of the grader's is refused, and
    nothing of the secret reaches the outputs."""
    secret = tmp_path / "secret.csv"
    secret.write_text("question,answer\nq2d.yhat,TOP-SECRET-TOKEN\n")
    (tmp_path / "in" / "mallory").mkdir(parents=True)
    (tmp_path / "in" / "mallory" / "answers.csv").symlink_to(secret)
    report = grade_path(tmp_path / "in", hw_key, tmp_path / "out")
    assert report.exit_code == 1
    outputs = b"".join(path.read_bytes() for path in (tmp_path / "out").rglob("*.*"))
    assert b"symbolic link" in outputs and b"TOP-SECRET" not in outputs


def test_all_attacks_together_stay_within_bounded_memory(hw_key: AnswerKey, tmp_path: Path) -> None:
    """Grading every attack in one batch raises this process's peak memory by less
    than 400 MB (the 10 MB file cap and the answer caps bound it)."""
    folder = tmp_path / "in"
    for name in EXPECTED:
        place(name, folder)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = grade_path(folder, hw_key, tmp_path / "out")
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    # one row a file, but two for the class CSV of formula-injection ids; the two
    # million-entries files (one stem) are an id conflict, each with its own row
    assert report.students == len(EXPECTED) + 1
    assert report.conflicts and report.conflicts[0].startswith("million-entries: claimed by")
    assert growth_mb < 400, f"peak memory grew by {growth_mb:.0f} MB"
