"""Comparing a student's numbers with the expected ones, under a rubric tolerance.

Each mode accepts a closed interval around the *expected* value e (never the student's):

* ``relative``: ``|a − e| ≤ atol + rtol·|e|``
* ``sigfigs``:  ``|a − e| ≤ ½·10^(⌊log10|e|⌋ − digits + 1)`` (e = 0: only 0)
* ``decimals``: ``|a − e| ≤ ½·10^(−places)``

Each bound is widened by 1e-12·max(|a|, |e|) so that a value sitting exactly on it is not
refused for binary floating-point rounding (0.51 vs 0.5 at rtol 0.02, say).
NaN and infinite answers are never accepted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from grader import memo
from grader.rubric.models import DecimalsTolerance, RelativeTolerance, SigFigsTolerance

Array = NDArray[np.float64]
ToleranceSpec = RelativeTolerance | SigFigsTolerance | DecimalsTolerance

_ROUNDING_SLACK = 1e-12


def allowed_error(tolerance: ToleranceSpec, expected: Array) -> Array:
    """The largest accepted ``|a − e|`` for each expected entry."""
    e = np.abs(np.asarray(expected, dtype=np.float64))
    if isinstance(tolerance, RelativeTolerance):
        return np.asarray(tolerance.atol + tolerance.rtol * e, dtype=np.float64)
    if isinstance(tolerance, SigFigsTolerance):
        with np.errstate(divide="ignore"):
            exponent = np.floor(np.log10(np.where(e > 0, e, 1.0)))
        half = 0.5 * 10.0 ** (exponent - tolerance.digits + 1)
        return np.asarray(np.where(e > 0, half, 0.0), dtype=np.float64)
    return np.full_like(e, 0.5 * 10.0 ** (-tolerance.places))


def within(tolerance: ToleranceSpec, answer: Array, expected: Array) -> NDArray[np.bool_]:
    """Entry by entry: is the answer accepted?"""
    a = np.asarray(answer, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape == e.shape and a.size <= _SMALL:
        return np.array(_within_small(tolerance, a, e), dtype=np.bool_).reshape(a.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(a - e)
        slack = _ROUNDING_SLACK * np.maximum(np.abs(a), np.abs(e))
        ok = error <= allowed_error(tolerance, e) + slack
    return np.asarray(ok & np.isfinite(a), dtype=np.bool_)


# Performance (profile of `grade`): ``within`` is called some 25 times per student, on
# answers of a few entries, where numpy's per-call overhead (errstate, ufunc dispatch)
# cost about 20 µs a call. Small answers are compared in plain floats, the same IEEE
# operations in the same order, against the allowed errors of each expected value,
# computed once by ``allowed_error``.

_SMALL = 64
_ALLOWED: dict[tuple[int, bytes], tuple[ToleranceSpec, list[float]]] = memo.table()
_ALLOWED_MAX = 4096


def accepted(
    answer: Sequence[float], expected: Sequence[float], allowed: Sequence[float]
) -> list[bool]:
    """``within``, on flat lists, with the allowed errors of ``expected`` given."""
    isfinite = math.isfinite
    return [
        isfinite(x) and abs(x - y) <= bound + _ROUNDING_SLACK * max(abs(x), abs(y))
        for x, y, bound in zip(answer, expected, allowed, strict=True)
    ]


def _within_small(tolerance: ToleranceSpec, a: Array, e: Array) -> list[bool]:
    slot = (id(tolerance), e.tobytes())
    cached = _ALLOWED.get(slot)
    if cached is None or cached[0] is not tolerance:
        if len(_ALLOWED) >= _ALLOWED_MAX:
            _ALLOWED.clear()
        # the tolerance is kept with its allowed errors, so its id is not reused meanwhile
        with np.errstate(invalid="ignore", over="ignore"):
            allowed = allowed_error(tolerance, e).ravel().tolist()
        cached = _ALLOWED[slot] = (tolerance, allowed)
    return accepted(a.ravel().tolist(), e.ravel().tolist(), cached[1])


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
        return f"to {tolerance.digits} significant figures"
    return f"to {tolerance.places} decimal places"
