"""`grader merge`: shards graded apart make the outputs of one run, byte for byte."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from grader import AnswerKey
from grader.cli import app
from grader.intake.readers import discover
from grader.rubric.load import load_rubric
from grader.rubric.models import Rubric
from grader.run.prepare import rubric_fingerprint
from grader.variants.keys import answer_key

from .conftest import EXAMPLES, RUBRICS

HW = str(RUBRICS / "hw.yaml")


def outputs(out: Path) -> dict[str, bytes]:
    """Every output file's bytes, by path inside ``out``."""
    return {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def grade(folder: Path, out: Path, rubric: str = HW) -> Path:
    run("grade", str(folder), "--rubric", rubric, "--out", str(out))
    return out / "results.jsonl"


def merge(out: Path, *shards: Path, rubric: str = HW) -> str:
    return run("merge", *map(str, shards), "--rubric", rubric, "--out", str(out))


@pytest.fixture
def shown_rubric(tmp_path: Path) -> str:
    """The homework's rubric with expected values shown and an answer titled: what a
    results.jsonl record leaves out and the merge must take from the rubric."""
    text = (RUBRICS / "hw.yaml").read_text(encoding="utf-8")
    changed = text.replace("show_expected: false", "show_expected: true").replace(
        "- {id: q1.yhat,", '- {id: q1.yhat, title: "the outputs",'
    )
    assert changed.count("show_expected: true") == 1 and "the outputs" in changed
    path = tmp_path / "shown.yaml"
    path.write_text(changed, encoding="utf-8")
    return str(path)


@pytest.fixture
def class_folder(tmp_path: Path, hw_key: AnswerKey) -> Path:
    """The examples (JSON, CSV, a class CSV, a student folder, a broken file), more
    students built from the key, one of whom submitted twice, in each half, and one
    whose answers strict JSON cannot hold as they are (NaN, lists nested 40 deep)."""
    folder = tmp_path / "class"
    shutil.copytree(EXAMPLES, folder)
    plain = hw_key.to_json()
    for number in range(6):
        answers = {k: v for k, v in plain.items() if number % 3 or not k.startswith("q2")}
        (folder / f"m{number}.json").write_text(
            json.dumps({"student_id": f"m{number}", "answers": answers}), encoding="utf-8"
        )
    odd = '{"answers": {"q1.yhat": [NaN, 1, Infinity], "q2d.yhat": -Infinity, "q2b.DF": %s}}'
    (folder / "n-odd.json").write_text(odd % ("[" * 40 + "1" + "]" * 40), encoding="utf-8")
    again = dict(plain, **{"q1.yhat": [-x for x in plain["q1.yhat"]]})
    (folder / "zz-ada-again.json").write_text(
        json.dumps({"student_id": "ada", "answers": again}), encoding="utf-8"
    )
    return folder


def test_two_halves_merge_into_the_outputs_of_one_run(
    class_folder: Path, tmp_path: Path, shown_rubric: str
) -> None:
    """Grading the first and the second half of a class apart (from the same paths), then
    merging their results.jsonl, writes the gradebook, results.jsonl and feedback (with
    titles and expected values) of one run over the whole class; a student who
    submitted in both halves is an id conflict, as in one run."""
    one_run = tmp_path / "one"
    summary = run("grade", str(class_folder), "--rubric", shown_rubric, "--out", str(one_run))
    entries = [location for location, _ in discover(class_folder)]
    half = len(entries) // 2
    aside = tmp_path / "aside"
    aside.mkdir()
    shards = []
    for number, keep in enumerate((entries[:half], entries[half:])):
        moved = [each for each in entries if each not in keep]
        for each in moved:  # grade the shard from the very paths one run reads
            shutil.move(each, aside / each.name)
        shards.append(grade(class_folder, tmp_path / f"shard{number}", shown_rubric))
        for each in moved:
            shutil.move(aside / each.name, each)
    merged = tmp_path / "merged"
    merged_summary = merge(merged, *shards, rubric=shown_rubric)
    expected = outputs(one_run)
    ada = [text for name, text in expected.items() if name.startswith("feedback/ada~")]
    assert len(ada) == 2 and all(b"the outputs" in text for text in ada)
    assert outputs(merged) == expected
    assert merged_summary.split("\nWrote ")[0] == summary.split("\nWrote ")[0]
    rows = list(csv.DictReader(io.StringIO(expected["gradebook.csv"].decode("utf-8"))))
    assert [row["student_id"] for row in rows].count("ada") == 2
    assert all(r["status"].startswith("id conflict") for r in rows if r["student_id"] == "ada")


@pytest.mark.parametrize("parts", [1, 3, 40])
def test_shards_of_one_folder_merge_into_the_outputs_of_one_run(
    class_folder: Path, tmp_path: Path, parts: int
) -> None:
    """`grade FOLDER --shard K/N` for K = 1..N (more shards than files too: some are
    empty), merged in that order, writes what one run over the folder writes, with the
    student who submitted in two shards one row."""
    one_run = tmp_path / "one"
    run("grade", str(class_folder), "--rubric", HW, "--out", str(one_run))
    shards = []
    for part in range(1, parts + 1):
        out = tmp_path / f"shard{part}"
        run(
            "grade",
            str(class_folder),
            "--rubric",
            HW,
            "--out",
            str(out),
            "--shard",
            f"{part}/{parts}",
        )
        shards.append(out / "results.jsonl")
    counts = [len(shard.read_bytes().splitlines()) for shard in shards]
    ones = len((one_run / "results.jsonl").read_bytes().splitlines())
    assert sum(counts) == ones and (parts == 1 or max(counts) < ones)
    merge(tmp_path / "merged", *shards)
    assert outputs(tmp_path / "merged") == outputs(one_run)


@pytest.mark.parametrize("shard", ["0/3", "4/3", "1/0", "2", "a/b", "1/2/3", "-1/2", "1/²"])
def test_a_shard_that_is_not_k_of_n_is_a_usage_error(
    class_folder: Path, tmp_path: Path, shard: str
) -> None:
    """A --shard that is not K/N with 1 <= K <= N exits 2, saying the form, and writes
    nothing."""
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["grade", str(class_folder), "--rubric", HW, "--out", str(out), "--shard", shard]
    )
    assert result.exit_code == 2
    assert "expected K/N" in result.output
    assert not out.exists()


def test_a_shard_writing_inside_the_graded_folder_is_a_usage_error(class_folder: Path) -> None:
    """Shard outputs inside the folder would be read as submissions by the next shard."""
    result = CliRunner().invoke(
        app,
        [
            "grade",
            str(class_folder),
            "--rubric",
            HW,
            "--out",
            str(class_folder / "g1"),
            "--shard",
            "1/2",
        ],
    )
    assert result.exit_code == 2 and "inside" in result.output
    assert not (class_folder / "g1").exists()


def test_section_files_merge_like_a_ci_matrix(tmp_path: Path) -> None:
    """Class CSVs graded one per job (a CI matrix) merge into the outputs of one run over
    their folder; an id conflict inside one section is marked once, not once per step."""
    folder = tmp_path / "sections"
    folder.mkdir()
    text = (EXAMPLES / "section-b-class.csv").read_text(encoding="utf-8")
    header, *rows = list(csv.reader(io.StringIO(text)))
    renamed = [[f"b-{row[0]}", *row[1:]] for row in rows]
    for name, section in (("a", [*rows, rows[0]]), ("b", [*renamed, rows[1]])):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([header, *section])
        (folder / f"section-{name}.csv").write_text(buffer.getvalue(), encoding="utf-8")
    one_run = tmp_path / "one"
    run("grade", str(folder), "--rubric", HW, "--out", str(one_run))
    shards = [grade(folder / name, tmp_path / name) for name in ("section-a.csv", "section-b.csv")]
    merge(tmp_path / "merged", *shards)
    assert outputs(tmp_path / "merged") == outputs(one_run)
    records = [json.loads(line) for line in (one_run / "results.jsonl").read_bytes().splitlines()]
    marks = [[w for w in r["warnings"] if w.startswith("id conflict")] for r in records]
    # row 0 twice in section a, row 1 in both sections: four claimants, one mark each
    assert sorted(len(each) for each in marks if each) == [1, 1, 1, 1]


def test_merging_into_a_shard_folder_replaces_its_outputs(
    class_folder: Path, tmp_path: Path
) -> None:
    """The merged outputs may go into a shard's own folder: it is read whole before
    anything there is replaced."""
    shard = grade(class_folder, tmp_path / "all")
    before = outputs(tmp_path / "all")
    merge(tmp_path / "all", shard)
    assert outputs(tmp_path / "all") == before


def test_a_shard_graded_with_another_rubric_is_refused(class_folder: Path, tmp_path: Path) -> None:
    """Merging results of another rubric exits 2, names the file and line, and writes
    nothing."""
    good = grade(class_folder, tmp_path / "good")
    other = tmp_path / "other"
    CliRunner().invoke(
        app,
        [
            "grade",
            str(EXAMPLES / "ada-perfect.json"),
            "--rubric",
            str(RUBRICS / "wide-sigmoid.yaml"),
            "--out",
            str(other),
        ],
    )
    result = CliRunner().invoke(
        app,
        [
            "merge",
            str(good),
            str(other / "results.jsonl"),
            "--rubric",
            HW,
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert result.exit_code == 2
    assert f"{other / 'results.jsonl'} line 1" in result.stderr
    assert "another rubric" in result.stderr
    assert not (tmp_path / "m" / "gradebook.csv").exists()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json\n", "not a results.jsonl record"),
        ("[1, 2]\n", "not a results.jsonl record"),
        ('{"student_id": "a"}\n', "not a results.jsonl record"),
    ],
)
def test_a_file_that_is_not_results_jsonl_is_refused(
    tmp_path: Path, text: str, problem: str
) -> None:
    """A line that is not a results record exits 2 naming the file and line."""
    shard = tmp_path / "results.jsonl"
    shard.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["merge", str(shard), "--rubric", HW, "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2
    assert f"{shard} line 1: {problem}" in result.stderr
    assert not (tmp_path / "m" / "gradebook.csv").exists()


def test_a_missing_shard_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    """A mistyped shard path exits 2 and makes no output folder."""
    result = CliRunner().invoke(
        app, ["merge", str(tmp_path / "nope.jsonl"), "--rubric", HW, "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2
    assert "nope.jsonl" in result.stderr
    assert not (tmp_path / "m").exists()


# --- the rubric fingerprint the records carry ----------------------------------------------


def _as_written(data: Any) -> Any:
    """A rubric file's data as its own canonical JSON value: whole numbers as ints."""
    if isinstance(data, float) and data.is_integer():
        return int(data)
    if isinstance(data, dict):
        return {str(name): _as_written(value) for name, value in data.items()}
    if isinstance(data, list):
        return [_as_written(value) for value in data]
    return data


def _fingerprint_of(text: str) -> str:
    data = _as_written(yaml.safe_load(text))
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _fingerprint(path: Path) -> str:
    return rubric_fingerprint(answer_key(load_rubric(path), source=str(path)))


@pytest.mark.parametrize("name", ["hw.yaml", "hw-variants.yaml", "deep-softmax.yaml"])
def test_the_fingerprint_is_that_of_what_the_rubric_file_says(name: str, tmp_path: Path) -> None:
    """A rubric's fingerprint is the hash of its file's own content (no defaults the
    grader fills in, its variants block included), and every record grade writes
    carries it."""
    path = RUBRICS / name
    assert _fingerprint(path) == _fingerprint_of(path.read_text(encoding="utf-8"))
    if name == "hw.yaml":
        results = grade(EXAMPLES, tmp_path / "out")
        records = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
        assert {record["rubric"] for record in records} == {_fingerprint(path)}


def test_a_model_field_the_grader_adds_with_a_default_changes_no_fingerprint() -> None:
    """A rubric model that gained a field with a default (a later grader's) fingerprints
    hw.yaml as before: only what the instructor wrote counts."""

    class Later(Rubric):
        shown_name: str = "a field a later version adds"

    path = RUBRICS / "hw.yaml"
    later = Later.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert rubric_fingerprint(answer_key(later)) == _fingerprint(path)


@pytest.mark.parametrize(
    ("name", "written", "instead"),
    [
        ("hw.yaml", "rtol: 0.02", "rtol: 0.021"),  # a tolerance
        ("hw.yaml", "example: all, points: 8", "example: all, points: 9"),  # a point
        ("hw.yaml", "- [0.01, 0.02, 0.03]", "- [0.01, 0.02, 0.031]"),  # a weight
        ("hw.yaml", "carried_forward: 1.0", "carried_forward: 0.5"),  # a share of credit
        ("hw-variants.yaml", 'seed: "hw1-2026"', 'seed: "hw1-2027"'),  # every student's draw
    ],
)
def test_any_change_that_grades_otherwise_changes_the_fingerprint(
    tmp_path: Path, name: str, written: str, instead: str
) -> None:
    """A changed tolerance, point, weight, credit share or variant seed is another
    rubric to grader merge."""
    text = (RUBRICS / name).read_text(encoding="utf-8")
    assert written in text
    other = tmp_path / name
    other.write_text(text.replace(written, instead, 1), encoding="utf-8")
    assert _fingerprint(other) != _fingerprint(RUBRICS / name)
    assert _fingerprint(other) == _fingerprint_of(other.read_text(encoding="utf-8"))
