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

import itertools
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np
from numpy.typing import NDArray

from grader.grading import compare
from grader.grading.review.recompute import KeyGraphs, Mistake
from grader.rubric.models import (
    CompositionAnswer,
    FunctionsProblem,
    JacobianAnswer,
    NetworkAnswer,
    ValueAnswer,
)
from grader.solver.functions import ParsedFunction
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

NEAR_NAMED = 0.15
"""A constant multiple within this share of −1, ½, 2 or 10^k is not named as one."""

_NAMED_CONSTANTS = (-1.0, 0.5, 2.0, *(10.0**k for k in POWERS))


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
    node: str | None = None
    """For an alternative that is another node of the key's graph (the batch mean for
    the sum): that node, recomputed from the student's earlier answers like ``ecf``."""
    detail: tuple[Any, ...] = ()
    """What the sentence needs to say which mistake: the reordering (``misordered``),
    the constant (``constant_multiple``), the point (``wrong_point``)."""


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


def separated(
    entry: KeyEntry, alternative: Array, small: Mask | None = None, *, zeros: bool = False
) -> Mask:
    """Where ``alternative`` (or a stack of them) is evidence: clearly apart from the right
    value, which is not ~0 (``small``, computed if not given). ``zeros``: the alternative's
    ~0 entries are evidence too (a mistake of method whose value is not ~0 throughout,
    such as the softmax δ with only its Jacobian's diagonal, 0 off the target class)."""
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
        if entry.start is not None:
            # Weights after a step: an answer matching the alternative is refused by the
            # nearer-than-the-start rule even within the tolerance, so any alternative
            # that differs from the exact value is evidence (a step too small to be
            # told apart by the tolerance still is not the step).
            apart = gap > 1e-9 * np.abs(expected)
        # An alternative of ~0 is no evidence either: a student who writes zeros (or
        # nothing worked out) would match it, e.g. every gradient recomputed from a
        # ∂L/∂ŷ of 0.
        zero = np.abs(alternative) <= max(floor, NEGLIGIBLE * scale)
        if zeros:
            zero = zero & np.all(zero)
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
    found += node_alternatives(entry, graphs, {})
    found += _function_alternatives(entry, graphs)
    if expected.ndim == 2:
        found.append(Alternative("transposed", expected.T.copy()))
    found += _reorderings(entry, expected)
    for other in other_answers(entry, graphs):
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
        zeros = alt.mistake is not None and alt.mistake.zeros_are_evidence
        where = separated(entry, alt.value, small, zeros=zeros)
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
    after_step = entry.answer.quantity == "loss_after"
    for mistake, recomputer in graphs.mistakes:
        if only is not None and mistake not in only:
            continue
        if after_step and mistake.code not in STEP_CODES:
            continue  # the loss after the step: only the step's own mistakes are told apart
        usable = {node: value for node, value in overrides.items() if recomputer.fits(node, value)}
        if overrides and not usable:
            continue
        value = np.asarray(recomputer.evaluate(entry.node, usable), dtype=np.float64)
        found.append(Alternative(mistake.code, value, mistake, sources))
    return found


_SWAPPED_SELECTOR = {"sum": ("mean", "mean_for_sum"), "mean": ("sum", "sum_for_mean")}


def node_alternatives(
    entry: KeyEntry, graphs: KeyGraphs, overrides: dict[str, object]
) -> list[Alternative]:
    """Other nodes of the key's graph the answer may have been given as, recomputed with
    ``overrides``: the batch mean where the sum is asked (``mean_for_sum``: divided by
    the number of examples), the sum where the mean is (``sum_for_mean``)."""
    answer = entry.answer
    if not isinstance(answer, NetworkAnswer) or not isinstance(answer.example, str):
        return []
    swapped = _SWAPPED_SELECTOR.get(answer.example)
    if swapped is None:
        return []
    selector, code = swapped
    suffix = f"[{answer.example}]"
    if not entry.node.endswith(suffix):
        return []
    node = f"{entry.node[: -len(suffix)]}[{selector}]"
    base = graphs.base
    if node not in base.graph:
        return []
    usable = {name: value for name, value in overrides.items() if base.fits(name, value)}
    if overrides and not usable:
        return []
    value = np.asarray(base.evaluate(node, usable), dtype=np.float64)
    count = sum(1 for name in base.graph.nodes if name.startswith(f"{answer.problem}.x["))
    return [Alternative(code, value, node=node, detail=(count,))]


def _reorderings(entry: KeyEntry, expected: Array) -> list[Alternative]:
    """The key's entries in another order than asked (``misordered``): a vector's first
    entry written last or its last first, two entries swapped, the order reversed; a
    matrix's first column written last (the bias column) or its last first; examples
    swapped in an answer over all examples; a non-square matrix filled column by column.
    ``detail`` says which: ``(kind, axis, *places)``."""
    if expected.ndim == 0:
        return []
    stacked = isinstance(entry.answer, NetworkAnswer) and entry.answer.example == "all"
    axes = [expected.ndim - 1] if expected.ndim >= 2 else [0]
    if stacked and expected.ndim >= 2:
        axes.insert(0, 0)
    found: list[Alternative] = []
    for axis in axes:
        n = expected.shape[axis]
        if n < 2:
            continue
        found.append(_reordered(expected, ("first_last", axis), np.roll(expected, -1, axis)))
        if n > 2:
            found.append(_reordered(expected, ("last_first", axis), np.roll(expected, 1, axis)))
            found.append(_reordered(expected, ("reversed", axis), np.flip(expected, axis)))
        # swapping two entries: examples in any answer over all examples, entries of a
        # short vector (the transposition of n = 2 is its rotation, already there)
        if n > 2 and ((stacked and axis == 0) or expected.ndim == 1) and n <= 6:
            for i, j in itertools.combinations(range(n), 2):
                order = list(range(n))
                order[i], order[j] = j, i
                found.append(
                    _reordered(expected, ("swapped", axis, i, j), np.take(expected, order, axis))
                )
    if expected.ndim == 2 and expected.shape[0] != expected.shape[1] and not stacked:
        by_columns = expected.ravel(order="F").reshape(expected.shape)
        found.append(_reordered(expected, ("column_major", 1), by_columns))
    return found


def _reordered(expected: Array, detail: tuple[Any, ...], value: Array) -> Alternative:
    del expected
    return Alternative("misordered", np.ascontiguousarray(value), detail=detail)


def _function_alternatives(entry: KeyEntry, graphs: KeyGraphs) -> list[Alternative]:
    """A derivative evaluated at another answer's point (``wrong_point``: DF at the point
    of another answer, or at the point with its coordinates swapped; in D(F∘G)(t), DF
    at such a point rather than at G(t)), and the chain rule multiplied in the wrong
    order (``chain_order``: DF(G(t))ᵀ·DG(t), which is DG(t)ᵀ·DF(G(t)) transposed)."""
    answer = entry.answer
    if not isinstance(answer, JacobianAnswer | CompositionAnswer):
        return []
    problem = graphs.key.rubric.problems.get(answer.problem)
    if not isinstance(problem, FunctionsProblem):
        return []
    parsed = {name: ParsedFunction.from_def(d) for name, d in problem.functions.items()}
    shape = np.shape(entry.expected)
    outer = parsed[answer.function if isinstance(answer, JacobianAnswer) else answer.outer]
    own = _own_point(answer, parsed)
    found: list[Alternative] = []
    with np.errstate(all="ignore"):
        for point, whose in _other_points(answer, graphs, parsed, len(outer.variables), own):
            at_point: Array | None
            if isinstance(answer, JacobianAnswer):
                at_point = np.asarray(outer.jacobian(point), dtype=np.float64)
            else:
                at_point = _chain(outer, parsed[answer.inner], point, np.array(answer.at), False)
            if _usable(at_point, shape):
                found.append(
                    Alternative("wrong_point", at_point, detail=(tuple(point), whose, own))
                )
        if isinstance(answer, CompositionAnswer):
            inner = parsed[answer.inner]
            at = np.array(answer.at, dtype=np.float64)
            middle = np.atleast_1d(inner.value(at))
            reordered = _chain(outer, inner, middle, at, True)
            if _usable(reordered, shape):
                found.append(Alternative("chain_order", reordered))
    return found


def _usable(value: Array | None, shape: tuple[int, ...]) -> TypeGuard[Array]:
    return value is not None and value.shape == shape and bool(np.all(np.isfinite(value)))


def _own_point(
    answer: JacobianAnswer | CompositionAnswer, parsed: dict[str, ParsedFunction]
) -> tuple[float, ...]:
    """Where the answer's outer derivative belongs: the answer's point, or G(t)."""
    if isinstance(answer, JacobianAnswer):
        return tuple(float(c) for c in answer.at)
    inner = parsed[answer.inner]
    return tuple(float(c) for c in np.atleast_1d(inner.value(np.array(answer.at, dtype=float))))


def _other_points(
    answer: JacobianAnswer | CompositionAnswer,
    graphs: KeyGraphs,
    parsed: dict[str, ParsedFunction],
    dimension: int,
    own: tuple[float, ...],
) -> list[tuple[Array, str]]:
    """Points of the right dimension where a student may have evaluated the derivative
    instead: other answers' points (and the G(t) of compositions), the composition's own
    t, the answer's point with its coordinates reversed; each with whose it is."""
    points: list[tuple[tuple[float, ...], str]] = []
    for other in graphs.key.rubric.answers:
        if other.id == answer.id or other.problem != answer.problem:
            continue
        if isinstance(other, JacobianAnswer | ValueAnswer):
            points.append((tuple(float(c) for c in other.at), other.id))
        elif isinstance(other, CompositionAnswer):
            points.append((_own_point(other, parsed), other.id))
    if isinstance(answer, CompositionAnswer):
        points.append((tuple(float(c) for c in answer.at), "t"))
    if len(own) > 1 and own != own[::-1]:
        points.append((own[::-1], "reversed"))
    kept: list[tuple[Array, str]] = []
    seen = {own}
    for point, whose in points:
        if len(point) == dimension and point not in seen:
            seen.add(point)
            kept.append((np.array(point, dtype=np.float64), whose))
    return kept


def _chain(
    outer: ParsedFunction, inner: ParsedFunction, middle: Array, at: Array, reversed_order: bool
) -> Array | None:
    """D outer(middle) · D inner(at), shaped like the key's composition; with
    ``reversed_order``, D outer(middle)ᵀ · D inner(at) (None where that is undefined)."""
    left = np.atleast_2d(outer.jacobian(middle))
    if reversed_order:
        left = left.T
    right = np.asarray(inner.jacobian(at), dtype=np.float64)
    if left.shape[1] != right.size // max(1, len(inner.variables)):
        return None
    product = left @ right.reshape(left.shape[1], -1)
    out_shape = () if outer.scalar else (len(outer.outputs),)
    in_shape = () if len(inner.variables) == 1 else (len(inner.variables),)
    if product.size != int(np.prod(out_shape + in_shape)):
        return None
    return np.asarray(product.reshape(out_shape + in_shape), dtype=np.float64)


def constant_multiple(entry: KeyEntry, answer: Array, small: Mask) -> Alternative | None:
    """The key times one constant c that the whole answer matches (``constant_multiple``),
    c written with the fewest significant figures that still match; None unless at least
    two entries are not ~0, c is far from 1 (|c| at most ½ or at least 2: nearer 1 a
    common factor is as likely a slip in one step) and c is not within ``NEAR_NAMED`` of
    a constant another code names (−1, ½, 2, 10^k): those are that mistake, or a near
    miss of it."""
    expected = np.asarray(entry.expected, dtype=np.float64)
    used = ~small & np.isfinite(answer)
    if np.count_nonzero(used) < 2 or not np.all(np.isfinite(answer)):
        return None
    e, a = expected[used], answer[used]
    c = float(np.dot(a, e) / np.dot(e, e))
    if not (abs(c) <= 0.5 or abs(c) >= 2) or c == 0:
        return None
    if any(abs(c / each - 1) < NEAR_NAMED for each in _NAMED_CONSTANTS):
        return None
    for digits in range(1, 5):
        nice = round_sig(c, digits)
        value = nice * expected
        if np.all(matches(entry, answer, value)):
            break
    else:
        return None
    return Alternative("constant_multiple", value, detail=(nice,))


def other_answers(entry: KeyEntry, graphs: KeyGraphs) -> list[KeyEntry]:
    """Numeric answers of the same shape: the same problem's first, then rubric order."""
    cache_key = f"diagnosis.other_answers:{entry.answer.id}"
    cached = graphs.cache.get(cache_key)
    if isinstance(cached, list):
        return cached
    others = [
        other
        for other in graphs.key
        if other.answer.id != entry.answer.id
        and not isinstance(other.expected, Expressions)
        and other.shape == entry.shape
    ]
    found = sorted(others, key=lambda other: other.answer.problem != entry.answer.problem)
    graphs.cache[cache_key] = found
    return found


STEP_CODES = frozenset({"step_uphill", "no_step", "mean_for_sum", "sum_for_mean"})
"""The mistakes of the training step itself."""


# --- a training step of another size -------------------------------------------------

STEP_RATIOS_NAMED = (0.0, 1.0, -1.0)
"""Step sizes (as multiples of the right one) that are not 'another learning rate': no
step, the right step, the step uphill (named mistakes of their own)."""


def step_size_alternative(entry: KeyEntry, answer: Array) -> Alternative | None:
    """For weights after one training step: the step W − c·η∇ of the size c that fits the
    answer best (the median of its entries' ratios), when c is clearly not 0, 1 or −1;
    the answer must then match it in every entry (``learning_rate``)."""
    if entry.start is None:
        return None
    expected = np.asarray(entry.expected, dtype=np.float64)
    start = np.asarray(entry.start, dtype=np.float64)
    step = start - expected
    moving = np.abs(step) > NEGLIGIBLE * max(float(np.max(np.abs(step))), 1e-300)
    if np.count_nonzero(moving) < 2:
        return None
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ratios = (start - answer)[moving] / step[moving]
    if not np.all(np.isfinite(ratios)):
        return None
    ratio = float(np.median(ratios))
    if any(abs(ratio - named) < 0.1 * max(1.0, abs(named)) for named in STEP_RATIOS_NAMED):
        return None
    # Weights that start near 0 make W − c·η∇ nearly c times the answer: an answer that
    # is the right one scaled tells nothing of the learning rate.
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = float(np.median(answer[expected != 0] / expected[expected != 0]))
    if np.all(matches(entry, answer, scale * expected)):
        return None
    return Alternative("learning_rate", start - ratio * step)


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
