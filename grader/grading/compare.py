"""Comparing a student's numbers with the expected ones, under a rubric tolerance.

Each mode accepts a closed interval around the *expected* value e (never the student's),
``|a − e| ≤ allowed_error(e)`` (``grader.rubric.tolerance``). Each bound is widened by
1e-12·max(|a|, |e|) so that a value sitting exactly on it is not refused for binary
floating-point rounding (0.51 vs 0.5 at rtol 0.02, say). NaN and infinite answers are never
accepted.

Weights after a training step (``W_after``, ``v_after``: entries with a ``start``) must
also be nearer to the exact value than to the starting weight, ``|a − e| < |a − w₀|``,
so that a student who never takes the step earns nothing however small the step; where
the exact change is zero (e = w₀) the tolerance alone decides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from grader.memo import Memo, Table
from grader.rubric.models import RelativeTolerance, SigFigsTolerance
from grader.rubric.tolerance import ToleranceSpec, allowed_error
from grader.solver.key import Expressions, KeyEntry

__all__ = [
    "Criterion",
    "ToleranceSpec",
    "accepted",
    "allowed_error",
    "criterion",
    "criterion_of",
    "within",
]

Array = NDArray[np.float64]

_ROUNDING_SLACK = 1e-12


def within(tolerance: ToleranceSpec, answer: Array, expected: Array) -> NDArray[np.bool_]:
    """Entry by entry: is the answer accepted? (Broadcasts: ``expected`` may be a stack.)"""
    e = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        allowed = allowed_error(tolerance, e)
    return _within_allowed(allowed, answer, e)


def _within_allowed(allowed: Array, answer: Array, expected: Array) -> NDArray[np.bool_]:
    """``within``, the allowed errors of ``expected`` given."""
    a = np.asarray(answer, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(a - e)
        slack = _ROUNDING_SLACK * np.maximum(np.abs(a), np.abs(e))
        ok = error <= allowed + slack
    return np.asarray(ok & np.isfinite(a), dtype=np.bool_)


def accepted(entry: KeyEntry, answer: Array, memo: Memo | None = None) -> NDArray[np.bool_]:
    """Entry by entry: is the answer accepted for this key entry (its tolerance, and for
    weights after training, nearer to the exact value than to the starting weight)?
    ``memo``: where the entry's ``criterion`` is remembered."""
    if memo is None:
        ok = within(entry.grading.tolerance, answer, entry.expected)
    else:
        ok = _within_allowed(criterion(entry, memo).allowed_array, answer, entry.expected)
    if entry.start is None:
        return ok
    return np.asarray(ok & nearer_than_start(answer, entry.expected, entry.start), dtype=np.bool_)


def nearer_than_start(answer: Array, expected: Array, start: Array) -> NDArray[np.bool_]:
    """Where the answer is nearer to the exact value than to the starting weight, or the
    exact change is zero."""
    a = np.asarray(answer, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    w = np.asarray(start, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.asarray((np.abs(a - e) < np.abs(a - w)) | (e == w), dtype=np.bool_)


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
    start: tuple[float, ...] | None = None
    """Weights after training: the starting weights, row by row (see the module)."""

    def accepts(self, answer: Sequence[float]) -> list[bool]:
        """``within`` for an answer of the entry's own shape, flat, row by row."""
        # Performance (profile of `grade`): answers are a few entries, compared some 25
        # times per student, where numpy's per-call overhead (errstate, ufunc dispatch)
        # cost about 20 µs a call: the same IEEE operations in the same order, on floats
        # (held equal to ``within`` by tests/test_fast_paths.py).
        isfinite = math.isfinite
        found = [
            isfinite(x) and abs(x - y) <= bound + _ROUNDING_SLACK * max(abs(x), abs(y))
            for x, y, bound in zip(answer, self.expected, self.allowed, strict=True)
        ]
        if self.start is None:
            return found
        return [
            ok and (abs(x - y) < abs(x - w) or y == w)
            for ok, x, y, w in zip(found, answer, self.expected, self.start, strict=True)
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


def criterion(entry: KeyEntry, memo: Memo | None = None) -> Criterion:
    """The entry's ``Criterion``: the one place the allowed errors of a key entry are
    worked out, once per entry and batch (``memo``, ``grader.memo``)."""
    if memo is not None:
        cached = memo.get(_CRITERIA, id(entry))
        if cached is not None and cached[0] is entry:
            return cached[1]
    expected = () if isinstance(entry.expected, Expressions) else entry.expected
    found = criterion_of(entry.grading.tolerance, np.asarray(expected))
    if entry.start is not None:
        start = tuple(np.asarray(entry.start, dtype=np.float64).ravel().tolist())
        found = replace(found, start=start)
    if memo is not None:
        memo.put(_CRITERIA, id(entry), (entry, found))  # the entry kept: its id not reused
    return found


# Performance (profile of `grade`): working out a criterion cost about 25 µs, once for
# every answer graded and again for every answer examined.
_CRITERIA: Table[int, tuple[KeyEntry, Criterion]] = Table("criteria", 4096)


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
