"""Named mistakes: the values a wrong answer would have if the student made a known
mistake, and the tests that recognise one without being fooled by coincidence.

An *alternative* is a value the answer might have been computed as: the key's graph
recomputed with a mistake of method made (``grader.grading.review.recompute.MISTAKES``), the key's
value transposed, another answer id's value, the value with its sign flipped or its
decimal point moved. A wrong answer is explained by an alternative when it matches it
within the answer's own tolerance *and* the alternative is clearly apart from the right
value (``SEPARATION`` tolerances) at entries whose right value is not ~0: an alternative
that the right answer also matches is no evidence of anything.

``too_coarse`` is the one rule that is not a fixed alternative value: the entry as given,
with its d significant figures, is exactly the right value rounded to d significant
figures, and that rounding falls outside the tolerance (so the answer is right except for
being rounded too soon). Exactness, not a tolerance, keeps it from matching by chance.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from grader.grading import compare
from grader.grading.review.recompute import KeyGraphs, Mistake
from grader.rubric.models import NetworkAnswer
from grader.solver.key import Expressions, KeyEntry

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

SEPARATION = 3.0
"""An alternative is evidence only where it is more than this many tolerances away from
the right value (so an answer matching it is at least two tolerances from right)."""

NEGLIGIBLE = 1e-9
"""Entries smaller than this share of the answer's largest entry count as zero."""

POWERS = (1, -1, 2, -2, 3, -3)
"""Decimal-point slips recognised: ×10^k for these k."""


@dataclass(frozen=True)
class Alternative:
    """A value the answer may have been computed as, and the mistake it stands for."""

    code: str
    """The diagnosis code (``other_answer:<id>`` names the id)."""
    value: Array
    mistake: Mistake | None = None
    """The mistake of method, for those recomputed with one."""
    sources: tuple[str, ...] = ()
    """Earlier answers whose student values the recomputation used."""
    exponent: int = 0
    """For ``power_of_ten``: the k of ×10^k."""


@dataclass(frozen=True)
class Candidates:
    """The alternatives of one answer that do not depend on the student, each with the
    entries where it is evidence, stacked so that one comparison tests them all."""

    expected: Array
    small: Mask
    """Entries whose right value is ~0."""
    wholes: tuple[Alternative, ...]
    """Mistakes of method, transposition, other answers' values: whole answers, in order."""
    whole_values: Array
    whole_evidence: Mask
    entrywise: tuple[Alternative, ...]
    """The sign flipped, the decimal point moved: entry by entry, in order."""
    entry_values: Array
    entry_evidence: Mask
    reshaped: tuple[Alternative, ...]
    """Alternatives of another shape (no bias entries, a non-square matrix transposed)."""


def tolerance_of(entry: KeyEntry) -> compare.ToleranceSpec:
    return entry.grading.tolerance


def negligible(entry: KeyEntry, expected: Array) -> Mask:
    """Entries of ``expected`` that are ~0: below the tolerance's absolute floor, or
    below ``NEGLIGIBLE`` of the answer's largest entry."""
    e = np.abs(np.asarray(expected, dtype=np.float64))
    floor = float(compare.allowed_error(tolerance_of(entry), np.zeros(1))[0])
    scale = float(np.max(e)) if e.size else 0.0
    return np.asarray(e <= max(floor, NEGLIGIBLE * scale), dtype=np.bool_)


def separated(entry: KeyEntry, alternative: Array, small: Mask | None = None) -> Mask:
    """Where ``alternative`` (or a stack of them) is evidence: clearly apart from the right
    value, which is not ~0 (``small``, computed if not given)."""
    expected = np.asarray(entry.expected, dtype=np.float64)
    tolerance = tolerance_of(entry)
    if small is None:
        small = negligible(entry, expected)
    # the key's own allowed errors (worked out once per entry: ``compare.criterion``)
    own_allowed, floor, scale = _own_scale(entry)
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(alternative - expected)
        allowed = np.maximum(own_allowed, compare.allowed_error(tolerance, alternative))
        apart = gap > SEPARATION * allowed + 1e-12 * np.abs(expected)
        # An alternative of ~0 is no evidence either: a student who writes zeros (or
        # nothing worked out) would match it, e.g. every gradient recomputed from a
        # ∂L/∂ŷ of 0.
        zero = np.abs(alternative) <= max(floor, NEGLIGIBLE * scale)
    return np.asarray(apart & np.isfinite(alternative) & ~small & ~zero, dtype=np.bool_)


def _own_scale(entry: KeyEntry) -> tuple[Array, float, float]:
    """The allowed errors of the expected values, the tolerance's absolute floor (the
    allowed error at 0) and the largest expected magnitude."""
    expected = np.asarray(entry.expected, dtype=np.float64)
    own = compare.criterion(entry)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    return own.allowed_array, own.floor, scale


def matches(entry: KeyEntry, answer: Array, alternative: Array) -> Mask:
    """Entry by entry: is the answer within its tolerance of the alternative (or of each
    alternative of a stack)?"""
    return compare.within(tolerance_of(entry), answer, alternative)


# --- the alternatives of an answer that do not depend on the student ----------------


def candidates(entry: KeyEntry, graphs: KeyGraphs) -> Candidates:
    """The answer's ``Candidates``, built on first use and cached with the key's graphs;
    alternatives that are evidence nowhere are left out."""
    cache_key = f"diagnosis.candidates:{entry.answer.id}"
    cached = graphs.cache.get(cache_key)
    if isinstance(cached, Candidates):
        return cached
    expected = np.asarray(entry.expected, dtype=np.float64)
    small = negligible(entry, expected)
    found = method_alternatives(entry, graphs, {})
    if expected.ndim == 2:
        found.append(Alternative("transposed", expected.T.copy()))
    for other in _other_answers(entry, graphs):
        value = np.asarray(other.expected, dtype=np.float64)
        found.append(Alternative(f"other_answer:{other.answer.id}", value))
    reshaped = [alt for alt in found if alt.value.shape != expected.shape]
    wholes = [alt for alt in found if alt.value.shape == expected.shape]
    entrywise = [Alternative("sign_flip", -expected)]
    entrywise += [Alternative("power_of_ten", expected * 10.0**k, exponent=k) for k in POWERS]
    built = Candidates(
        expected,
        small,
        *_stacked(entry, wholes, small),
        *_stacked(entry, entrywise, small),
        tuple(reshaped),
    )
    graphs.cache[cache_key] = built
    return built


def _stacked(
    entry: KeyEntry, alternatives: list[Alternative], small: Mask
) -> tuple[tuple[Alternative, ...], Array, Mask]:
    shape = np.shape(entry.expected)
    kept, values, evidence = [], [], []
    for alt in alternatives:
        where = separated(entry, alt.value, small)
        if np.any(where):
            kept.append(alt)
            values.append(alt.value)
            evidence.append(where)
    if not kept:
        return (), np.zeros((0, *shape)), np.zeros((0, *shape), dtype=np.bool_)
    return tuple(kept), np.stack(values), np.stack(evidence)


def method_alternatives(
    entry: KeyEntry,
    graphs: KeyGraphs,
    overrides: dict[str, object],
    sources: tuple[str, ...] = (),
    only: Collection[Mistake] | None = None,
) -> list[Alternative]:
    """The answer's node recomputed with each mistake of method (those in ``only``, if
    given) and ``overrides``."""
    if not isinstance(entry.answer, NetworkAnswer):
        return []
    found = []
    for mistake, recomputer in graphs.mistakes:
        if only is not None and mistake not in only:
            continue
        usable = {node: value for node, value in overrides.items() if recomputer.fits(node, value)}
        if overrides and not usable:
            continue
        value = np.asarray(recomputer.evaluate(entry.node, usable), dtype=np.float64)
        found.append(Alternative(mistake.code, value, mistake, sources))
    return found


def _other_answers(entry: KeyEntry, graphs: KeyGraphs) -> list[KeyEntry]:
    """Numeric answers of the same shape: the same problem's first, then rubric order."""
    others = [
        other
        for other in graphs.key
        if other.answer.id != entry.answer.id
        and not isinstance(other.expected, Expressions)
        and other.shape == entry.shape
    ]
    return sorted(others, key=lambda other: other.answer.problem != entry.answer.problem)


# --- too coarse: the right value rounded too soon ----------------------------------


def indices(mask: Mask) -> list[tuple[int, ...]]:
    """The positions where ``mask`` is true (``()`` for a true 0-d mask), in order."""
    if mask.ndim == 0:
        return [()] if bool(mask) else []
    return [tuple(int(i) for i in index) for index in np.argwhere(mask)]


def significant_figures(x: float) -> int:
    """The fewest significant figures that write ``x`` exactly (16 if none up to 15 do)."""
    for digits in range(1, 16):
        if float(f"{x:.{digits - 1}e}") == x:
            return digits
    return 16


def round_sig(x: float, digits: int) -> float:
    return float(f"{x:.{digits - 1}e}")


def too_coarse(entry: KeyEntry, answer: Array, open_entries: Mask, small: Mask) -> tuple[Mask, int]:
    """Entries that are the right value rounded to fewer significant figures than the
    tolerance allows (``small``: entries that are ~0, never evidence), and the fewest
    figures that would have been accepted."""
    expected = np.asarray(entry.expected, dtype=np.float64)
    found = np.zeros(expected.shape, dtype=np.bool_)
    needed = 0
    # Rounding moves a value by at most half a unit of its first significant figure.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        unit = 10.0 ** np.floor(np.log10(np.abs(expected)))
        near = np.abs(answer - expected) <= 0.5 * unit * (1 + 1e-9)
    for index in indices(open_entries & ~small & near):
        a, e = float(answer[index]), float(expected[index])
        digits = significant_figures(a)
        if a != 0 and digits <= 15 and round_sig(e, digits) == a:
            found[index] = True
            needed = max(needed, _figures_needed(entry, e))
    return found, needed


def _figures_needed(entry: KeyEntry, e: float) -> int:
    for digits in range(1, 16):
        if compare.within(tolerance_of(entry), np.array(round_sig(e, digits)), np.array(e)):
            return digits
    return 16
