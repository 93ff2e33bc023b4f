"""The copy check: answers that are another student's variant (`other_variant:<id>`), and
`similar.csv`, the pairs of students whose submissions are alike in a way chance does
not produce, measured on generated classes of honest students and with planted copies."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from grader.rubric.load import load_rubric
from grader.run.batch import grade_path
from grader.run.copies import COPIED_MIN, GROUP_MAX
from grader.solver.key import AnswerKey
from grader.variants.keys import answer_key
from tests.conftest import RUBRICS
from tests.synthetic import generate

HW = RUBRICS / "hw.yaml"
HW_VARIANTS = RUBRICS / "hw-variants.yaml"
CLASS = 300
PLANTED = {"s000150": "s000010", "s000201": "s000020", "s000222": "s000030", "s000299": "s000298"}
"""Copier → source: each copier hands in their source's answers as the source wrote them."""


@pytest.fixture(scope="module")
def variant_key() -> AnswerKey:
    return answer_key(load_rubric(HW_VARIANTS))


@pytest.fixture(scope="module")
def plain_key() -> AnswerKey:
    return answer_key(load_rubric(HW))


def pairs(out: Path) -> list[dict[str, str]]:
    text = (out / "similar.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == "student_a,student_b,kind,answers,evidence"
    return rows


def records(out: Path) -> dict[str, dict[str, Any]]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return {record["student_id"]: record for record in map(json.loads, lines)}


def copied_codes(record: dict[str, Any]) -> set[str]:
    return {
        code
        for item in record["items"]
        for code in item["diagnoses"]
        if code.startswith("other_variant:")
    }


def graded(tmp: Path, key: AnswerKey, copies: dict[str, str] | None = None, seed: int = 7) -> Path:
    folder, out = tmp / "class", tmp / "out"
    generate(folder, CLASS, key, seed=seed, copies=copies)
    grade_path(folder, key, out, jobs=2)
    return out


@pytest.fixture(scope="module")
def honest_variants(tmp_path_factory: pytest.TempPathFactory, variant_key: AnswerKey) -> Path:
    return graded(tmp_path_factory.mktemp("honest"), variant_key)


@pytest.fixture(scope="module")
def planted_variants(tmp_path_factory: pytest.TempPathFactory, variant_key: AnswerKey) -> Path:
    return graded(tmp_path_factory.mktemp("planted"), variant_key, PLANTED)


# --- rubrics with variants -------------------------------------------------------------


def test_an_honest_class_has_no_copies_and_no_pairs(honest_variants: Path) -> None:
    """300 generated honest students (right, rounded, mistaken, missing, unreadable
    answers, each from their own variant): no answer is named another's variant and no
    pair is listed, of 44,850 (the benchmark measures 10,000 students)."""
    assert pairs(honest_variants) == []
    assert not any(copied_codes(record) for record in records(honest_variants).values())


def test_similar_lists_exactly_the_planted_copies(planted_variants: Path) -> None:
    """The same class with four planted copies: similar.csv lists those four pairs and no
    other (no false positive, no false negative)."""
    listed = {frozenset((row["student_a"], row["student_b"])) for row in pairs(planted_variants)}
    assert listed == {frozenset(pair) for pair in PLANTED.items()}
    for row in pairs(planted_variants):
        assert row["kind"].startswith("other_variant")
        assert "variant's values" in row["evidence"]
        assert int(row["answers"]) >= COPIED_MIN


def test_copied_answers_name_their_source_and_score_low(
    planted_variants: Path, variant_key: AnswerKey
) -> None:
    """Each copier's copied answers carry other_variant:<source> and earn only what is
    right for the copier's own numbers; the sources' own records name no one."""
    found = records(planted_variants)
    for copier, source in PLANTED.items():
        assert copied_codes(found[copier]) == {f"other_variant:{source}"}
        assert found[copier]["score"] < 0.4 * variant_key.rubric.max_score
        assert copied_codes(found[source]) == set()
        named = [i for i in found[copier]["items"] if f"other_variant:{source}" in i["diagnoses"]]
        assert len(named) >= COPIED_MIN
        for item in named:
            assert "another student's numbers" in item["message"]
            assert source not in item["message"]  # the copier is not told whose
    feedback = (planted_variants / "feedback" / "s000150.md").read_text(encoding="utf-8")
    assert "another student's numbers" in feedback and "s000010" not in feedback


def _sig(value: Any) -> Any:
    if isinstance(value, list):
        return [_sig(each) for each in value]
    return value if isinstance(value, str) else float(f"{value:.5g}")


def _write(folder: Path, student: str, answers: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {"student_id": student, "answers": answers}
    (folder / f"{student}.json").write_text(json.dumps(data), encoding="utf-8")


def own(key: AnswerKey, student: str) -> dict[str, Any]:
    return {k: _sig(v) for k, v in key.for_student(student).to_json().items()}


def test_fewer_than_three_copied_answers_name_no_one(
    tmp_path: Path, variant_key: AnswerKey
) -> None:
    """Two of bob's answers in mallory's own work are not enough evidence (one or two can
    match a classmate's numbers by chance in a large class); three are."""
    bob = own(variant_key, "bob")
    for count in (2, 3):
        answers = own(variant_key, "mallory")
        for answer_id in ["q1c.dW.x1", "q1c.dW.x2", "q1c.dW.x3"][:count]:
            answers[answer_id] = bob[answer_id]
        folder = tmp_path / f"c{count}"
        _write(folder, "bob", bob)
        _write(folder, "mallory", answers)
        grade_path(folder, variant_key, tmp_path / f"out{count}")
        codes = copied_codes(records(tmp_path / f"out{count}")["mallory"])
        assert codes == (set() if count < COPIED_MIN else {"other_variant:bob"})
        assert len(pairs(tmp_path / f"out{count}")) == (0 if count < COPIED_MIN else 1)


def test_a_shard_has_no_copy_check_and_the_merge_makes_it(
    tmp_path: Path, variant_key: AnswerKey
) -> None:
    """grade --shard leaves similar.csv out (a shard is not the class); grader merge of
    the shards writes the similar.csv and records of one run, copies named."""
    from grader.run.merge import merge_results

    folder = tmp_path / "class"
    _write(folder, "bob", own(variant_key, "bob"))
    _write(folder, "carol", own(variant_key, "carol"))
    _write(folder, "mallory", own(variant_key, "bob"))
    one = tmp_path / "one"
    grade_path(folder, variant_key, one)
    shards = []
    for part in (1, 2):
        out = tmp_path / f"shard{part}"
        (out).mkdir()
        (out / "similar.csv").write_text("stale")
        grade_path(folder, variant_key, out, shard=(part, 2))
        assert not (out / "similar.csv").exists()
        shards.append(out / "results.jsonl")
    merged = tmp_path / "merged"
    merge_results(shards, variant_key, merged)
    for name in ("similar.csv", "results.jsonl", "gradebook.csv", "feedback/mallory.md"):
        assert (merged / name).read_bytes() == (one / name).read_bytes(), name
    assert copied_codes(records(one)["mallory"]) == {"other_variant:bob"}


# --- with or without variants: the same wrong answers ----------------------------------


def _noisy(value: Any, factor: float) -> Any:
    """A wrong value no named mistake explains (the key times 1.3 or so, 4 figures)."""
    if isinstance(value, list):
        return [_noisy(each, factor) for each in value]
    return float(f"{value * factor:.4g}")


def _with_wrong(key: AnswerKey, student: str, wrong: dict[str, float]) -> dict[str, Any]:
    answers = own(key, student)
    for answer_id, factor in wrong.items():
        answers[answer_id] = _noisy(key.for_student(student).to_json()[answer_id], factor)
    return answers


WRONG = {"q1c.dW.x2": 1.31, "q1d.dv": 0.77, "q2b.DF": 1.23}


def test_the_same_rare_wrong_answers_list_a_pair_without_variants(
    tmp_path: Path, plain_key: AnswerKey
) -> None:
    """hw.yaml (everyone's key the same): a generated honest class lists no pair; two
    students with the same three unexplained wrong values are listed, with the answers."""
    folder = tmp_path / "class"
    generate(folder, CLASS, plain_key, seed=11)
    out = tmp_path / "honest"
    grade_path(folder, plain_key, out)
    assert pairs(out) == []
    answers = _with_wrong(plain_key, "ann", WRONG)
    _write(folder, "ann", answers)
    _write(folder, "ben", answers)
    grade_path(folder, plain_key, tmp_path / "out")
    (row,) = pairs(tmp_path / "out")
    assert (row["student_a"], row["student_b"], row["kind"]) == ("ann", "ben", "same_wrong")
    assert row["evidence"] == f"the same wrong value in 3 answers ({', '.join(sorted(WRONG))})"


@pytest.mark.parametrize("givers", [GROUP_MAX, GROUP_MAX + 1])
def test_a_wrong_value_many_give_is_a_common_mistake(
    tmp_path: Path, plain_key: AnswerKey, givers: int
) -> None:
    """Up to GROUP_MAX students with the same wrong values are listed pair by pair; one
    more, and the values are a common mistake, not evidence."""
    answers = _with_wrong(plain_key, "x", WRONG)
    for number in range(givers):
        _write(tmp_path / "class", f"st{number}", answers)
    grade_path(tmp_path / "class", plain_key, tmp_path / "out")
    expected = givers * (givers - 1) // 2 if givers <= GROUP_MAX else 0
    assert len(pairs(tmp_path / "out")) == expected


def test_one_shared_wrong_answer_is_not_enough(tmp_path: Path, plain_key: AnswerKey) -> None:
    """One wrong value in common (two students can slip alike once) lists no pair."""
    answers = _with_wrong(plain_key, "x", {"q1c.dW.x2": 1.31})
    _write(tmp_path / "class", "ann", answers)
    _write(tmp_path / "class", "ben", answers)
    grade_path(tmp_path / "class", plain_key, tmp_path / "out")
    assert pairs(tmp_path / "out") == []
