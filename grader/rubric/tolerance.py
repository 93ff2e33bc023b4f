"""What a rubric tolerance allows: the largest accepted error around an expected value.

Each mode accepts a closed interval around the *expected* value e (never the student's):

* ``relative``: ``|a − e| ≤ atol + rtol·|e|``
* ``sigfigs``:  ``|a − e| ≤ max(½·10^(⌊log10|e|⌋ − digits + 1), atol)`` (e = 0: ``≤ atol``)
* ``decimals``: ``|a − e| ≤ max(½·10^(−places), atol)``

Every mode's ``atol`` (default 0) is a floor: an answer within atol of e is accepted
whatever the mode, which is what an expected value of exactly 0 needs under ``sigfigs``.

Grading works these out once per key entry and compares answers with them
(``grader.grading.compare``); drawing variants uses them to tell two keys apart.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from grader.rubric.models import DecimalsTolerance, RelativeTolerance, SigFigsTolerance

Array = NDArray[np.float64]
ToleranceSpec = RelativeTolerance | SigFigsTolerance | DecimalsTolerance


def allowed_error(tolerance: ToleranceSpec, expected: Array) -> Array:
    """The largest accepted ``|a − e|`` for each expected entry."""
    e = np.abs(np.asarray(expected, dtype=np.float64))
    if isinstance(tolerance, RelativeTolerance):
        return np.asarray(tolerance.atol + tolerance.rtol * e, dtype=np.float64)
    if isinstance(tolerance, SigFigsTolerance):
        with np.errstate(divide="ignore"):
            exponent = np.floor(np.log10(np.where(e > 0, e, 1.0)))
        half = 0.5 * 10.0 ** (exponent - tolerance.digits + 1)
        return np.asarray(np.maximum(np.where(e > 0, half, 0.0), tolerance.atol), dtype=np.float64)
    return np.full_like(e, max(0.5 * 10.0 ** (-tolerance.places), tolerance.atol))
