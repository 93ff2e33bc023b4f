"""No excuse by coincidence: on more than 10,000 random wrong answers, a diagnosis or
carried-forward credit is almost never given.

A random wrong answer is the key's value with every entry multiplied by a factor (one
factor for the whole answer, or one per entry) of one of three sizes: 4-15 %, 15-60 %
off, or 1.6-40 times larger or smaller with either sign; then rounded to 4 significant
figures, as a student writes. Factors within 6 % of a mistake the grader names (−1, ×½,
×2, ×10^k) are drawn again: an answer 10 times the right one *is* a moved decimal point.
Each submission gets most of its answers wrong this way, independently, so the later
answers are not computed from the earlier wrong ones and any ``ecf`` is a coincidence.

One diagnosis is no excuse: ``constant_multiple`` on an answer made with one factor for
the whole answer says what is true of it ("every entry is 3.7 times the right value")
and earns nothing; it is counted apart (``Tally.described``). The same code on an
answer made with a factor per entry is a false excuse like any other.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pytest

from grader import AnswerKey, Submission, grade_submission, load_rubric, solve
from grader.solver.key import Expressions

from .conftest import RUBRICS

WRONG_ANSWERS = 10_000
BOUND = 0.015
"""The most false excuses tolerated, as a share of wrong answers (measured: about 0.8 %,
nearly all from 4-15 % perturbations that happen to be another answer's value or the
recomputation from an earlier wrong answer)."""
LARGE_BOUND = 0.005
"""The same for perturbations by a factor of 1.6-40, where a coincidence is rarer."""

NAMED = np.array([1.0, 0.5, 2.0, 10.0, 100.0, 1000.0, 0.1, 0.01, 0.001])
NAMED = np.concatenate([NAMED, -NAMED])
SIZES = ("4-15 %", "15-60 %", "×1.6-40")


def factor(rng: np.random.Generator, size: int) -> float:
    """A random factor of the given size, at least 6 % away from every named mistake."""
    while True:
        sign = rng.choice([-1.0, 1.0])
        if size == 0:
            f = 1 + sign * rng.uniform(0.04, 0.15)
        elif size == 1:
            f = 1 + sign * rng.uniform(0.15, 0.6)
        else:
            f = sign * np.exp(rng.choice([-1.0, 1.0]) * rng.uniform(np.log(1.6), np.log(40)))
        if np.all(np.abs(f / NAMED - 1) > 0.06):
            return float(f)


def wrong_value(rng: np.random.Generator, value: np.ndarray, size: int) -> tuple[np.ndarray, bool]:
    """The wrong answer, and whether it is one factor times the right one."""
    whole = bool(rng.random() < 0.5)
    if whole:
        changed = value * factor(rng, size)
    else:
        factors = [factor(rng, size) for _ in range(value.size)]
        changed = value * np.array(factors).reshape(value.shape)
    rounded = np.vectorize(lambda x: float(f"{x:.3e}"))(changed)
    return np.asarray(rounded, dtype=np.float64), whole


@dataclass
class Tally:
    wrong: Counter[str] = field(default_factory=Counter)
    excused: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    described: Counter[str] = field(default_factory=Counter)
    """Answers of one factor named ``constant_multiple`` (true, and no credit)."""

    def rate(self, size: str | None = None) -> float:
        if size is None:
            return sum(self.excused.values()) / max(1, sum(self.wrong.values()))
        return self.excused[size] / max(1, self.wrong[size])


def random_class(keys: list[AnswerKey], seed: int) -> Tally:
    """Grade random submissions until ``WRONG_ANSWERS`` wrong answers are counted."""
    rng = np.random.default_rng(seed)
    tally = Tally()
    turn = 0
    while sum(tally.wrong.values()) < WRONG_ANSWERS:
        key = keys[turn % len(keys)]
        turn += 1
        answers, sizes, wholes = {}, {}, set()
        for entry in key:
            if isinstance(entry.expected, Expressions):
                continue
            value = np.asarray(entry.expected, dtype=np.float64)
            if rng.random() < 0.85:
                sizes[entry.answer.id] = size = int(rng.integers(3))
                changed, whole = wrong_value(rng, value, size)
                answers[entry.answer.id] = changed.tolist()
                if whole:
                    wholes.add(entry.answer.id)
            else:
                answers[entry.answer.id] = np.vectorize(lambda x: float(f"{x:.3e}"))(value).tolist()
        result = grade_submission(Submission("random", "test", answers), key)
        for item in result.items:
            if item.id not in sizes or item.status == "correct":
                continue
            size_name = SIZES[sizes[item.id]]
            tally.wrong[size_name] += 1
            if item.diagnoses == ("constant_multiple",) and item.id in wholes:
                # a true description, and no credit but for exact zeros, which no
                # constant changes
                zeros = np.asarray(key[item.id].expected) == 0
                assert item.score <= item.max_score * zeros.mean() + 1e-6, item
                tally.described[size_name] += 1
            elif item.diagnoses:
                tally.excused[size_name] += 1
                tally.codes.update(code.split(":")[0] for code in item.diagnoses)
    return tally


@pytest.mark.slow
def test_random_wrong_answers_are_almost_never_excused() -> None:
    """Over 10,000 random wrong answers to every numeric answer id of every rubric in
    rubrics/, fewer than 1.5 % get a diagnosis or carried-forward credit, and fewer than
    0.5 % of those wrong by a factor of 1.6-40."""
    keys = [solve(load_rubric(path)) for path in sorted(RUBRICS.glob("*.yaml"))]
    assert len(keys) >= 3
    tally = random_class(keys, seed=20240501)
    report = ", ".join(f"{size}: {tally.rate(size):.2%}" for size in SIZES)
    print(f"excused {tally.rate():.2%} of {sum(tally.wrong.values())} ({report});", end=" ")
    print(f"codes {dict(tally.codes)}; constant_multiple of one factor {dict(tally.described)}")
    assert sum(tally.wrong.values()) >= WRONG_ANSWERS
    assert tally.rate() < BOUND, f"{tally.rate():.2%} excused ({report}; {dict(tally.codes)})"
    assert tally.rate("×1.6-40") < LARGE_BOUND, report


@pytest.mark.slow
def test_random_wrong_answers_to_layered_networks_and_training_are_almost_never_excused() -> None:
    """The same over deep-softmax.yaml (tanh, ReLU, softmax, cross-entropy) and
    hw-training.yaml (the weights and loss after a step), whose answers add the new named
    mistakes (each activation's wrong derivative, the step's mistakes, another learning
    rate, a layer transposed) and the nearer-than-the-start rule: fewer than 1.5 %
    (measured: 0.94 % of 10,006), and fewer than 0.5 % of those wrong by a factor of
    1.6-40 (measured: 0.06 %)."""
    keys = [
        solve(load_rubric(RUBRICS / name)) for name in ("deep-softmax.yaml", "hw-training.yaml")
    ]
    tally = random_class(keys, seed=20240501)
    report = ", ".join(f"{size}: {tally.rate(size):.2%}" for size in SIZES)
    assert sum(tally.wrong.values()) >= WRONG_ANSWERS
    assert tally.rate() < BOUND, f"{tally.rate():.2%} excused ({report}; {dict(tally.codes)})"
    assert tally.rate("×1.6-40") < LARGE_BOUND, report


def test_zeros_earn_no_carried_forward_credit(hw_key: AnswerKey) -> None:
    """A student who writes zeros from ∂L/∂ŷ on gets nothing for them: a recomputation
    that is ~0 (every gradient from a ∂L/∂ŷ of 0) is no evidence of a consistent method."""
    from grader import Submission, grade_submission
    from grader.solver.key import to_plain

    answers = {
        entry.answer.id: np.zeros(np.shape(entry.expected)).tolist()
        for entry in hw_key
        if entry.answer.id.startswith(("q1c.", "q1d."))
    }
    result = grade_submission(Submission("zeros", "test", answers), hw_key)
    assert result.score == 0
    answers["q1.yhat"] = [8, 11, 10]  # ŷ = y makes ∂L/∂ŷ = 0 "consistent"
    assert grade_submission(Submission("zeros", "test", answers), hw_key).score == 0
    answers["q1.yhat"] = to_plain(hw_key["q1.yhat"].expected)
    assert grade_submission(Submission("zeros", "test", answers), hw_key).score == 8
