"""Comparing a student's numbers with the expected ones, under a rubric tolerance.

Each mode accepts a closed interval around the *expected* value e (never the student's),
``|a − e| ≤ allowed_error(e)`` (``grader.rubric.tolerance``). Each bound is widened by
1e-12·max(|a|, |e|) so that a value sitting exactly on it is not refused for binary
floating-point rounding (0.51 vs 0.5 at rtol 0.02, say). NaN and infinite answers are never
accepted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from grader.rubric.models import RelativeTolerance, SigFigsTolerance
from grader.rubric.tolerance import ToleranceSpec, allowed_error
from grader.solver.key import Expressions, KeyEntry

__all__ = ["Criterion", "ToleranceSpec", "allowed_error", "criterion", "criterion_of", "within"]

Array = NDArray[np.float64]

_ROUNDING_SLACK = 1e-12


def within(tolerance: ToleranceSpec, answer: Array, expected: Array) -> NDArray[np.bool_]:
    """Entry by entry: is the answer accepted? (Broadcasts: ``expected`` may be a stack.)"""
    a = np.asarray(answer, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(a - e)
        slack = _ROUNDING_SLACK * np.maximum(np.abs(a), np.abs(e))
        ok = error <= allowed_error(tolerance, e) + slack
    return np.asarray(ok & np.isfinite(a), dtype=np.bool_)


@dataclass(frozen=True, eq=False)
class Criterion:
    """What answers to one key entry are compared against: its expected numbers and the
    largest accepted error of each (``allowed_error``), worked out once per entry."""

    tolerance: ToleranceSpec
    expected: tuple[float, ...]
    """The expected numbers, row by row (empty for expressions)."""
    allowed: tuple[float, ...]
    """The allowed error of each expected number, row by row."""
    allowed_array: Array
    """``allowed`` in the entry's shape (read-only)."""
    floor: float
    """The allowed error at 0: the tolerance's absolute floor."""

    def accepts(self, answer: Sequence[float]) -> list[bool]:
        """``within`` for an answer of the entry's own shape, flat, row by row."""
        # Performance (profile of `grade`): answers are a few entries, compared some 25
        # times per student, where numpy's per-call overhead (errstate, ufunc dispatch)
        # cost about 20 µs a call: the same IEEE operations in the same order, on floats
        # (held equal to ``within`` by tests/test_fast_paths.py).
        isfinite = math.isfinite
        return [
            isfinite(x) and abs(x - y) <= bound + _ROUNDING_SLACK * max(abs(x), abs(y))
            for x, y, bound in zip(answer, self.expected, self.allowed, strict=True)
        ]


def criterion_of(tolerance: ToleranceSpec, expected: Array) -> Criterion:
    """The ``Criterion`` of ``expected`` under ``tolerance``."""
    values = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        allowed = allowed_error(tolerance, values)
        floor = float(allowed_error(tolerance, np.zeros(1))[0])
    allowed.flags.writeable = False
    return Criterion(
        tolerance, tuple(values.ravel().tolist()), tuple(allowed.ravel().tolist()), allowed, floor
    )


def criterion(entry: KeyEntry) -> Criterion:
    """The entry's ``Criterion``: the one place the allowed errors of a key entry are
    worked out. (Not remembered: an answer is compared only when it is first graded,
    ``grader.grading.grade``, and keeping criteria measured no faster.)"""
    expected = () if isinstance(entry.expected, Expressions) else entry.expected
    return criterion_of(entry.grading.tolerance, np.asarray(expected))


def describe(tolerance: ToleranceSpec) -> str:
    """The tolerance in words, for feedback."""
    if isinstance(tolerance, RelativeTolerance):
        parts = []
        if tolerance.rtol:
            parts.append(f"{tolerance.rtol * 100:g} % of the exact value")
        if tolerance.atol:
            parts.append(f"{tolerance.atol:g}")
        return "within " + " + ".join(parts) if parts else "exactly equal to the exact value"
    if isinstance(tolerance, SigFigsTolerance):
        rule = f"to {tolerance.digits} significant figures"
    else:
        rule = f"to {tolerance.places} decimal places"
    return f"{rule} (or within {tolerance.atol:g})" if tolerance.atol else rule
