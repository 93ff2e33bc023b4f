"""Tolerance modes accept exactly their documented closed interval around the expected
value: just inside passes, just outside fails, for positive, negative and zero values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from grader.grading.compare import ToleranceSpec, allowed_error, describe, within
from grader.rubric.models import DecimalsTolerance, RelativeTolerance, SigFigsTolerance

REL = RelativeTolerance(rtol=0.02, atol=0.0)
REL_ABS = RelativeTolerance(rtol=0.02, atol=0.001)
SIG3 = SigFigsTolerance(mode="sigfigs", digits=3)
DEC2 = DecimalsTolerance(mode="decimals", places=2)
SIG3_ABS = SigFigsTolerance(mode="sigfigs", digits=3, atol=1e-4)
DEC2_ABS = DecimalsTolerance(mode="decimals", places=2, atol=0.02)

CASES: list[tuple[str, ToleranceSpec, float, float, bool]] = [
    # relative: |a − e| ≤ atol + rtol·|e|
    ("relative on the upper bound", REL, 100.0, 102.0, True),
    ("relative on the lower bound", REL, 100.0, 98.0, True),
    ("relative just outside above", REL, 100.0, 102.001, False),
    ("relative just outside below", REL, 100.0, 97.999, False),
    ("relative negative inside", REL, -15.8865, -15.58, True),
    ("relative negative outside", REL, -15.8865, -15.5, False),
    ("relative sign matters", REL, -15.8865, 15.8865, False),
    ("relative zero expected, rtol only", REL, 0.0, 1e-9, False),
    ("relative zero expected, exact", REL, 0.0, 0.0, True),
    ("relative zero expected, atol inside", REL_ABS, 0.0, 0.001, True),
    ("relative zero expected, atol outside", REL_ABS, 0.0, 0.0011, False),
    # Relative to the expected value, not the answer: e = 0.5, a = 0.51 is inside
    # (0.01 ≤ 0.02·0.5) but a = 0.49 is 0.01 away too, and a = 0.5102 is outside, though
    # 0.0102 ≤ 0.02·0.5102 would accept it if the tolerance scaled by the answer.
    ("relative to expected: inside", REL, 0.5, 0.51, True),
    ("relative to expected: not to answer", REL, 0.5, 0.5102, False),
    # significant figures: |a − e| ≤ ½·10^(⌊log10|e|⌋ − d + 1)
    ("sigfigs rounds to same 3 figures", SIG3, 0.0567491, 0.0567, True),
    ("sigfigs half-unit boundary", SIG3, 0.0567491, 0.0567491 - 0.00005, True),
    ("sigfigs just past half-unit", SIG3, 0.0567491, 0.0567491 - 0.0000501, False),
    ("sigfigs negative", SIG3, -15.8865, -15.9, True),
    ("sigfigs negative outside", SIG3, -15.8865, -15.8, False),
    ("sigfigs zero expected exact", SIG3, 0.0, 0.0, True),
    ("sigfigs zero expected tiny", SIG3, 0.0, 1e-12, False),
    # decimal places: |a − e| ≤ ½·10^(−places)
    ("decimals on the bound", DEC2, 3.9381, 3.9431, True),
    ("decimals past the bound", DEC2, 3.9381, 3.9432, False),
    ("decimals negative", DEC2, -0.0793, -0.08, True),
    ("decimals zero expected", DEC2, 0.0, 0.005, True),
    ("decimals zero expected outside", DEC2, 0.0, -0.0051, False),
    # atol in every mode: the half-width is max(mode's, atol); relative adds them
    ("relative atol adds to rtol", REL_ABS, 100.0, 102.001, True),
    ("relative atol adds to rtol, outside", REL_ABS, 100.0, 102.0011, False),
    ("sigfigs atol wider near 0", SIG3_ABS, 1.23e-6, 9e-5, True),
    ("sigfigs atol wider near 0, outside", SIG3_ABS, 1.23e-6, 1.02e-4, False),
    ("sigfigs atol at a zero key", SIG3_ABS, 0.0, -1e-4, True),
    ("sigfigs atol at a zero key, outside", SIG3_ABS, 0.0, 1.001e-4, False),
    ("sigfigs exact 0 for a zero key, no atol", SIG3, 0.0, 0.0, True),
    ("sigfigs exact -0.0 for a zero key", SIG3, 0.0, -0.0, True),
    ("sigfigs figures win where wider", SIG3_ABS, 15.8865, 15.85, True),  # ½ unit = 0.05
    ("sigfigs figures win, outside", SIG3_ABS, 15.8865, 15.83, False),
    ("decimals atol wider", DEC2_ABS, 3.9381, 3.958, True),
    ("decimals atol wider, outside", DEC2_ABS, 3.9381, 3.9582, False),
    (
        "decimals places win where wider",
        DecimalsTolerance(mode="decimals", places=1, atol=0.01),
        3.9381,
        3.9881,
        True,
    ),
]


@pytest.mark.parametrize(
    ("tolerance", "expected", "answer", "accepted"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_tolerance_interval(
    tolerance: ToleranceSpec, expected: float, answer: float, accepted: bool
) -> None:
    """The answer is accepted exactly when it lies in the mode's interval."""
    assert bool(within(tolerance, np.array(answer), np.array(expected))) is accepted


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_answers_are_never_accepted(bad: float) -> None:
    """NaN and infinities are wrong under every mode, even with a huge tolerance."""
    loose = RelativeTolerance(rtol=1e9, atol=1e300)
    for tolerance in (loose, SIG3, DEC2):
        assert not within(tolerance, np.array(bad), np.array(1.0))


def test_entries_are_judged_one_by_one() -> None:
    """A matrix answer gives one verdict per entry."""
    expected = np.array([[1.0, -2.0], [3.0, 0.0]])
    answer = np.array([[1.01, -2.5], [3.0, 0.0]])
    assert within(REL, answer, expected).tolist() == [[True, False], [True, True]]


def test_allowed_error_matches_the_documented_formula() -> None:
    """The half-widths are the README's formulas."""
    e = np.array([0.0567491, -150.0])
    np.testing.assert_allclose(allowed_error(SIG3, e), [0.00005, 0.5])
    np.testing.assert_allclose(allowed_error(REL_ABS, e), [0.001 + 0.02 * 0.0567491, 0.001 + 3.0])
    np.testing.assert_allclose(allowed_error(DEC2, e), [0.005, 0.005])
    np.testing.assert_allclose(allowed_error(SIG3_ABS, np.array([0.0, 1e-6, 0.0567491])),
                               [1e-4, 1e-4, 1e-4])  # fmt: skip
    np.testing.assert_allclose(allowed_error(SIG3_ABS, np.array([-150.0])), [0.5])
    np.testing.assert_allclose(allowed_error(DEC2_ABS, e), [0.02, 0.02])


@pytest.mark.parametrize(
    "tolerance",
    [RelativeTolerance(rtol=0.01, atol=1e-3), SigFigsTolerance(mode="sigfigs", digits=4,
     atol=1e-3), DecimalsTolerance(mode="decimals", places=6, atol=1e-3)],
)  # fmt: skip
def test_an_entry_within_atol_is_accepted_whatever_the_mode(tolerance: ToleranceSpec) -> None:
    """Every mode accepts |a − e| ≤ atol, at any expected value, zero included."""
    for e in (0.0, 1e-9, -3e-4, 0.25, -7.0):
        assert within(tolerance, np.array(e + 0.999e-3), np.array(e))
        assert within(tolerance, np.array(e - 0.999e-3), np.array(e))


def test_atol_is_read_from_the_rubric_in_each_mode() -> None:
    """`atol` is a key of every tolerance mode (default 0) and may not be negative."""
    cases: list[tuple[type[ToleranceSpec], dict[str, Any]]] = [
        (RelativeTolerance, {"mode": "relative"}),
        (SigFigsTolerance, {"mode": "sigfigs", "digits": 3}),
        (DecimalsTolerance, {"mode": "decimals", "places": 2}),
    ]
    for model, spec in cases:
        assert model.model_validate(spec).atol == 0.0
        assert model.model_validate({**spec, "atol": 0.5}).atol == 0.5
        with pytest.raises(ValidationError):
            model.model_validate({**spec, "atol": -1})


def test_describe_says_the_rule_in_words() -> None:
    """Feedback can say what the tolerance was."""
    assert describe(REL) == "within 2 % of the exact value"
    assert describe(SIG3) == "to 3 significant figures"
    assert describe(DEC2) == "to 2 decimal places"
    assert describe(RelativeTolerance(rtol=0, atol=0)) == "exactly equal to the exact value"
    assert describe(REL_ABS) == "within 2 % of the exact value + 0.001"
    assert describe(SIG3_ABS) == "to 3 significant figures (or within 0.0001)"
    assert describe(DEC2_ABS) == "to 2 decimal places (or within 0.02)"
