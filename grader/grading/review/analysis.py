"""A second look at answers that are not fully right, as a careful TA gives it: credit
for errors carried forward, and the mistake named.

For a numeric answer with wrong entries, alternatives are tried in order and each claims
the wrong entries it explains (``grader.grading.review.diagnosis`` says when an alternative explains
one):

1. ``ecf``: the answer recomputed from the student's own wrong earlier answers
   (``grader.grading.review.carried_forward``), entry by entry, under one rule
   (``ECF_SHARE``); earns ``grading.carried_forward``;
2. mistakes of method (``factor_two``, ``missing_bias``, ``wrong_derivative``,
   ``missing_input_factor``, ``preactivation_for_activation``): the graph recomputed with
   the mistake made, then also from the student's earlier answers (with ``mean_for_sum``
   and ``sum_for_mean``, the other batch node);
3. whole answers: ``mean_for_sum``/``sum_for_mean``, ``wrong_point``, ``chain_order``,
   ``transposed``, ``misordered``, ``other_answer:<id>`` (the key's value, then with a
   slip or two of its own, then the student's own partly right answer copied), then
   ``constant_multiple``;
4. ``sign_flip``, ``power_of_ten``, ``too_coarse``, entry by entry.

A whole-answer explanation (2, 3) that accounts for every entry also claims the entries
that matched the key only by coincidence: those it changes (``_unchanged``) earn no
credit. A named mistake earns ``grading.diagnosis_credit[code]`` of each entry it explains
(default none). An answer unreadable only because of its shape (no bias entries, a
non-square matrix transposed) is read again in that shape. Only answers that are not
fully right are examined, on graphs built once per answer key (``grader.grading.review.recompute``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from grader.errors import AnswerError
from grader.grading import compare
from grader.grading.display import shown
from grader.grading.results import ItemResult
from grader.grading.review.carried_forward import (
    carried_forward,
    overrides_of,
    sources,
    wrong_earlier,
)
from grader.grading.review.diagnosis import (
    POWERS,
    Alternative,
    candidates,
    constant_multiple,
    matches,
    method_alternatives,
    negligible,
    node_alternatives,
    other_answers,
    separated,
    step_size_alternative,
    too_coarse,
)
from grader.grading.review.recompute import KeyGraphs, Mistake, for_key
from grader.grading.review.sentences import Finding, sentence
from grader.grading.score import item_score, item_status
from grader.intake.values import StudentValue, is_blank, read_numeric
from grader.limits import DEFAULT_LIMITS, Limits
from grader.memo import ENTRY_BYTES, Memo, Table, plain_bytes
from grader.solver.key import AnswerKey, Expressions, KeyEntry

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

_SLIPS = ("sign_flip", "power_of_ten")

ECF_SHARE = 2 / 3
"""The carried-forward rule, one for every answer: when at least this share of the
entries that the student's earlier errors change (and are not ~0) match the answer
recomputed from those earlier answers, each matching entry earns the rubric's
``carried_forward`` share; below it, none does. An answer computed from the earlier ones
agrees in (nearly) all of them, while a wrong answer agreeing in an entry or two is
chance; a slip in a third of them is forgiven (∂E/∂v with 2 of 3 such entries
consistent earns them, as ∂L/∂W with 6 of 9 does)."""


def reconsider(
    item: ItemResult,
    entry: KeyEntry,
    values: dict[str, StudentValue],
    key: AnswerKey,
    limits: Limits = DEFAULT_LIMITS,
    memo: Memo | None = None,
) -> ItemResult:
    """The item, with credit for carried-forward errors and diagnoses of named mistakes
    (an answer unreadable for its shape is read again under ``limits``); ``memo``: what
    the batch remembers (``grader.memo``)."""
    if item.status in ("correct", "missing") or isinstance(entry.expected, Expressions):
        return item
    memo = Memo() if memo is None else memo
    if item.status == "unreadable":
        return _once(item, None, key, memo, lambda: _read_again(item, entry, key, limits, memo))
    answer = values.get(item.id)
    if not isinstance(answer, np.ndarray):
        return item
    graphs = for_key(key, memo)
    wrong = wrong_earlier(entry, values, graphs, memo)
    copies = _copied_from(entry, answer, values, graphs, memo)
    findings = _explained(entry, answer, wrong, graphs, copies, memo)
    if not findings:
        return item
    return _once(
        item, findings, key, memo, lambda: _rescored(item, entry, answer, findings, key, memo)
    )


def _findings_bytes(findings: list[Finding] | None) -> int:
    """Findings' bytes, estimated (``grader.memo``): each one's objects, and its arrays of
    the answer's shape."""
    return sum(ENTRY_BYTES + 24 * each.claimed.size for each in findings or ())


def _redone_bytes(
    slot: tuple[int, int, int],
    cached: tuple[ItemResult, list[Finding] | None, AnswerKey, ItemResult],
) -> int:
    """An entry's bytes, estimated (``grader.memo``): the answer as written (it keeps the
    item alive), what the result read, its message, the findings."""
    item, findings, _, result = cached
    return (
        ENTRY_BYTES
        + plain_bytes(item.raw)
        + plain_bytes(result.read)
        + sys.getsizeof(result.message)
        + _findings_bytes(findings)
    )


_REDONE: Table[
    tuple[int, int, int], tuple[ItemResult, list[Finding] | None, AnswerKey, ItemResult]
] = Table("items examined", 2048, _redone_bytes)


def _once(
    item: ItemResult,
    findings: list[Finding] | None,
    key: AnswerKey,
    memo: Memo,
    redo: Callable[[], ItemResult],
) -> ItemResult:
    """``redo()``, once for each item and findings (both memoized, ``grading`` and
    ``_explained``, so a repeated answer comes back as the same objects): the answer,
    and so the item, comes from the item's raw answer."""
    slot = (id(item), id(findings), id(key))
    cached = memo.get(_REDONE, slot)
    if cached is not None and cached[0] is item and cached[1] is findings and cached[2] is key:
        return cached[3]
    result = redo()
    memo.put(_REDONE, slot, (item, findings, key, result))  # kept alive: ids not reused
    return result


# Performance (profile of `grade`): ``explain`` cost about 0.5 ms an answer, a third of
# grading a class. Its findings depend only on the answer, the wrong earlier answers and
# the key, and a class makes the same mistakes with the same numbers (a sign, a factor
# two of the same rounded value): they are memoized on those values' bytes (bounded).


def _explained_bytes(slot: tuple[Any, ...], cached: tuple[KeyGraphs, list[Finding]]) -> int:
    """An entry's bytes, estimated (``grader.memo``): the values' bytes in the slot (the
    answer, the wrong earlier answers, the copies), the findings."""
    answer, wrong, copies = slot[3], slot[4], slot[5]
    return (
        ENTRY_BYTES
        + len(answer)
        + sum(len(each[2]) for each in wrong)
        + sum(len(each[1]) for each in copies)
        + _findings_bytes(cached[1])
    )


_FINDINGS: Table[tuple[object, ...], tuple[KeyGraphs, list[Finding]]] = Table(
    "findings", 2048, _explained_bytes
)


def _explained(
    entry: KeyEntry,
    answer: Array,
    wrong: Mapping[str, Array],
    graphs: KeyGraphs,
    copies: Mapping[str, Array],
    memo: Memo,
) -> list[Finding]:
    """``explain``, memoized."""
    slot = (
        id(graphs),
        entry.answer.id,
        answer.shape,
        answer.tobytes(),
        tuple((answer_id, value.shape, value.tobytes()) for answer_id, value in wrong.items()),
        tuple((answer_id, value.tobytes()) for answer_id, value in copies.items()),
    )
    cached = memo.get(_FINDINGS, slot)
    if cached is not None and cached[0] is graphs:
        return cached[1]
    findings = explain(entry, answer, wrong, graphs, copies, memo)
    memo.put(_FINDINGS, slot, (graphs, findings))  # graphs kept alive: its id is not reused
    return findings


def explain(
    entry: KeyEntry,
    answer: Array,
    wrong: Mapping[str, Array],
    graphs: KeyGraphs,
    copies: Mapping[str, Array] | None = None,
    memo: Memo | None = None,
) -> list[Finding]:
    """What explains the answer's wrong entries, given the student's wrong earlier
    answers (``wrong_earlier``) and their partly right answers of the same shape
    (``copies``), in the order of the module docstring."""
    found = candidates(entry, graphs)
    accepted = compare.accepted(entry, answer, memo)
    claimer = _Claimer(entry, answer, accepted, found.small)
    ecf = carried_forward(entry, graphs, wrong) if wrong else None
    if ecf is not None and claimer.entries(ecf, share=ECF_SHARE):
        claimer.found[-1] = _named(claimer.found[-1], graphs, entry, wrong, None)
    whole_fit = _fits_whole(entry, answer, found.whole_values)
    for k in _closest_first(entry, answer, found.whole_values):
        alt = found.wholes[k]
        if alt.mistake is not None:
            claimer.whole(alt, whole_fit[k], found.whole_evidence[k])
    if ecf is not None and not claimer.done and np.any(separated(entry, ecf.value, found.small)):
        # Only when the earlier answers change this one, and only the mistakes that change
        # this answer at all, can a mistake made on top of the earlier answers explain it.
        relevant = {alt.mistake for alt in found.wholes if alt.mistake is not None}
        _method_from_earlier(claimer, graphs, wrong, ecf, relevant)
    resized = step_size_alternative(entry, answer)  # weights after a step of another size
    if resized is not None and not claimer.done:
        fits = bool(np.all(matches(entry, answer, resized.value)))
        claimer.whole(resized, fits, separated(entry, resized.value, found.small))
    for k, alt in enumerate(found.wholes):
        if alt.mistake is None:
            claimer.whole(alt, whole_fit[k], found.whole_evidence[k])
    for k, alt in enumerate(found.wholes):
        if alt.code.startswith("other_answer:") and not whole_fit[k]:
            _other_with_slips(claimer, alt, found.whole_evidence[k])
    for answer_id, value in (copies or {}).items():
        # another answer's value as the student wrote it, its own slips carried along
        other = np.asarray(graphs.key[answer_id].expected, dtype=np.float64)
        alt = Alternative(f"other_answer:{answer_id}", value, sources=(answer_id,))
        fits = bool(np.all(matches(entry, answer, value)))
        claimer.whole(alt, fits, separated(entry, other, claimer.small), reference=other)
    if not claimer.done:
        multiple = constant_multiple(entry, answer, claimer.small)
        if multiple is not None:
            claimer.whole(multiple, True, separated(entry, multiple.value, claimer.small))
    if not claimer.done and found.entrywise:
        hits = matches(entry, answer, found.entry_values) & found.entry_evidence
        for row in np.flatnonzero(hits.reshape(len(hits), -1).any(axis=1)):
            claimer.add(found.entrywise[int(row)], claimer.open & hits[row])
    if not claimer.done:
        # Rounding too soon is a habit, not a slip: it must account for every wrong entry.
        hit, figures = too_coarse(entry, answer, claimer.open, found.small)
        if np.array_equal(hit, claimer.open):
            claimer.add(Alternative("too_coarse", found.expected), hit, figures=figures)
    return _merged(claimer.found)


def _closest_first(entry: KeyEntry, answer: Array, stack: Array) -> list[int]:
    """The order to try whole alternatives in: as listed, but for weights after a step
    (where a small step puts several mistakes within the tolerance of the answer) the
    closest to the answer first."""
    order = list(range(len(stack)))
    if entry.start is None or not order:
        return order
    with np.errstate(invalid="ignore", over="ignore"):
        gaps = np.abs(stack - answer).reshape(len(stack), -1).max(axis=1)
    return sorted(order, key=lambda k: float(gaps[k]))


def _fits_whole(entry: KeyEntry, answer: Array, stack: Array) -> NDArray[np.bool_]:
    """For each alternative of a stack: does the whole answer match it?"""
    if not len(stack):
        return np.zeros(0, dtype=np.bool_)
    fit = matches(entry, answer, stack)
    return np.asarray(fit.reshape(len(stack), -1).all(axis=1), dtype=np.bool_)


def _method_from_earlier(
    claimer: _Claimer,
    graphs: KeyGraphs,
    wrong: Mapping[str, Array],
    ecf: Alternative | None,
    relevant: set[Mistake],
) -> None:
    """Mistakes of method made on top of the student's own wrong earlier answers."""
    entry = claimer.entry
    expected = np.asarray(entry.expected, dtype=np.float64)
    overrides = overrides_of(graphs, wrong)
    alternatives = method_alternatives(entry, graphs, overrides, tuple(wrong), relevant)
    alternatives += [
        replace(alt, sources=tuple(wrong)) for alt in node_alternatives(entry, graphs, overrides)
    ]
    for alt in alternatives:
        if claimer.done:
            return
        if alt.value.shape != expected.shape:
            continue  # read again only from the key's own values (``_read_again``)
        if ecf is not None and _same(alt.value, ecf.value):
            continue  # the mistake makes no difference given the student's earlier answers
        evidence = separated(entry, alt.value, claimer.small)
        if claimer.whole(alt, bool(np.all(matches(entry, claimer.answer, alt.value))), evidence):
            claimer.found[-1] = _named(claimer.found[-1], graphs, entry, wrong, alt)


OTHER_SLIPS = 4
"""Another answer's value with slips of its own: at most one entry in ``OTHER_SLIPS``
(at least one) off it by a sign or a power of ten, the rest matching it."""


def _other_with_slips(claimer: _Claimer, alt: Alternative, evidence: Mask) -> None:
    """Another answer's value copied with a slip or two (a sign, a decimal point) in some
    entries: ``other_answer:<id>`` for the whole answer, the slips named in ``detail``
    (``("slips", where, exponent per entry)``, exponent 0 for a sign)."""
    if claimer.done:
        return
    entry, answer = claimer.entry, claimer.answer
    same = matches(entry, answer, alt.value)
    if np.count_nonzero(same & evidence & claimer.open) < 2:
        return
    slipped = np.zeros(same.shape, dtype=np.bool_)
    exponents = np.zeros(same.shape, dtype=np.int64)
    nonzero = ~negligible(entry, alt.value)
    for exponent, factor in [(0, -1.0), *((k, 10.0**k) for k in POWERS)]:
        hit = ~same & ~slipped & nonzero & matches(entry, answer, alt.value * factor)
        slipped |= hit
        exponents[hit] = exponent
    count = int(np.count_nonzero(slipped))
    if not np.all(same | slipped) or not 0 < count <= max(1, same.size // OTHER_SLIPS):
        return
    claimer.whole(replace(alt, detail=("slips", slipped, exponents)), True, evidence)


def _copied_from(
    entry: KeyEntry,
    answer: Array,
    values: Mapping[str, StudentValue],
    graphs: KeyGraphs,
    memo: Memo | None = None,
) -> dict[str, Array]:
    """The student's answers to other ids of this answer's shape that are partly right
    (at least half their entries accepted, not all) and that ``answer`` matches entry for
    entry: an answer may be one of them copied, slips and all. Wholly wrong ones are left
    out: matching them is no sign of copying. (``explain`` names a copy only where the
    whole answer matches it: leaving out the others here changes nothing, and a repeated
    answer is found again in the findings remembered, ``_explained``.)"""
    found: dict[str, Array] = {}
    for other in other_answers(entry, graphs):
        value = values.get(other.answer.id)
        if not isinstance(value, np.ndarray) or value.shape != entry.shape or value.size < 2:
            continue
        if not np.all(matches(entry, answer, value)):
            continue
        right = compare.within(other.grading.tolerance, value, other.expected)
        if 2 * np.count_nonzero(right) >= right.size and not np.all(right):
            found[other.answer.id] = value
    return found


def _unchanged(entry: KeyEntry, value: Array) -> Mask:
    """Entries where ``value`` is the key's own value (but for floating-point rounding)."""
    expected = np.asarray(entry.expected, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        same = np.abs(value - expected) <= 1e-9 * np.abs(expected) + 1e-300
    return np.asarray(same, dtype=np.bool_)


def _same(a: Array, b: Array) -> bool:
    """Equal but for floating-point rounding."""
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(a - b) <= 1e-9 * np.abs(b)))


def _merged(findings: list[Finding]) -> list[Finding]:
    """One finding per code: decimal slips by different powers of ten are one diagnosis."""
    merged: dict[str, Finding] = {}
    for finding in findings:
        first = merged.get(finding.code)
        if first is None:
            merged[finding.code] = finding
            continue
        exponents = first.exponents
        if exponents is not None and finding.exponents is not None:
            exponents = np.where(finding.claimed, finding.exponents, exponents)
        merged[finding.code] = replace(
            first,
            claimed=first.claimed | finding.claimed,
            all_entries=first.all_entries or finding.all_entries,
            exponents=exponents,
        )
    return list(merged.values())


class _Claimer:
    """Hands each wrong entry to the first alternative that explains it."""

    def __init__(self, entry: KeyEntry, answer: Array, accepted: Mask, small: Mask) -> None:
        self.entry = entry
        self.answer = answer
        self.accepted = accepted
        self.small = small
        self.open: Mask = ~accepted
        self.done = not bool(np.any(self.open))
        self.found: list[Finding] = []

    def entries(self, alt: Alternative, *, share: float) -> bool:
        """Claim each open entry that matches ``alt`` where it is evidence, provided at
        least ``share`` of the entries where it is evidence match."""
        if self.done:
            return False
        evidence = separated(self.entry, alt.value, self.small)
        hit = self.open & matches(self.entry, self.answer, alt.value) & evidence
        count = int(np.count_nonzero(evidence))
        if np.count_nonzero(hit) < math.ceil(share * count - 1e-9):
            return False
        return self.add(alt, hit)

    def whole(
        self, alt: Alternative, fits: bool, evidence: Mask, *, reference: Array | None = None
    ) -> bool:
        """Claim every open entry if the whole answer ``fits`` ``alt`` and one open entry
        is evidence; and, since the explanation accounts for the whole answer, also the
        accepted entries it changes (``reference``, default ``alt.value``, differs there
        from the key): those matched the key by coincidence and earn no credit."""
        if self.done or not fits or not np.any(self.open & evidence):
            return False
        changed = ~_unchanged(self.entry, alt.value if reference is None else reference)
        revoked = self.accepted & changed & ~self.small
        if np.any(revoked):
            self.accepted = self.accepted & ~revoked
        return self.add(alt, self.open | revoked)

    def add(self, alt: Alternative, hit: Mask, *, figures: int = 0) -> bool:
        if not np.any(hit):
            return False
        self.open = self.open & ~hit
        self.done = not bool(np.any(self.open))
        exponents = None
        if alt.code == "power_of_ten":
            exponents = np.where(hit, alt.exponent, 0).astype(np.int64)
        # A slip entry by entry is the whole answer's only if every entry slipped; any
        # other finding speaks for the whole answer if the rest of it is right.
        rest = self.small if alt.code in _SLIPS else self.small | self.accepted
        finding = Finding(
            alt, hit, _share(self.entry, alt.code), bool(np.all(hit | rest)), exponents, figures
        )
        self.found.append(finding)
        return True


def _share(entry: KeyEntry, code: str) -> float:
    if code == "ecf":
        return entry.grading.carried_forward
    base = code.split(":", 1)[0]
    return next((float(v) for k, v in entry.grading.diagnosis_credit.items() if k == base), 0.0)


def _named(
    finding: Finding,
    graphs: KeyGraphs,
    entry: KeyEntry,
    wrong: Mapping[str, Array],
    alt: Alternative | None,
) -> Finding:
    """The finding with only the earlier answers its recomputation really depends on."""
    recomputer = graphs.base
    if alt is not None and alt.mistake is not None:
        recomputer = next(r for m, r in graphs.mistakes if m is alt.mistake)
    by_id = {
        answer_id: (graphs.key[answer_id].node, value)
        for answer_id, value in wrong.items()
        if recomputer.fits(graphs.key[answer_id].node, value)
    }
    named = sources(recomputer, entry.node, by_id, finding.alternative.value)
    return replace(finding, alternative=replace(finding.alternative, sources=named))


def _rescored(
    item: ItemResult,
    entry: KeyEntry,
    answer: Array,
    findings: list[Finding],
    key: AnswerKey,
    memo: Memo | None = None,
) -> ItemResult:
    accepted = np.array(compare.accepted(entry, answer, memo))
    for finding in findings:  # an entry right only by coincidence is claimed, not accepted
        accepted[finding.claimed] = False
    credit = accepted.astype(np.float64)
    for finding in findings:
        credit[finding.claimed] = finding.share
    shares = credit.ravel().tolist()
    score = item_score(entry.answer.points, shares, entry.grading.partial_credit)
    status = item_status(accepted.ravel().tolist(), shares)
    sentences = [sentence(finding, entry, key.rubric) for finding in findings]
    carried = tuple(
        dict.fromkeys(s for f in findings if f.code == "ecf" for s in f.alternative.sources)
    )
    return replace(
        item,
        score=score,
        status=status,
        message=" ".join([_lead(item, accepted, findings), *sentences]).strip(),
        diagnoses=tuple(dict.fromkeys(finding.code for finding in findings)),
        carried_forward_from=carried,
        wrong_entries=tuple(tuple(int(i) for i in index) for index in np.argwhere(~accepted)),
    )


def _lead(item: ItemResult, accepted: Mask, findings: list[Finding]) -> str:
    """What to say before the diagnoses: the grading's own message while some wrong entry
    is unexplained, else only how many entries are right (when some are)."""
    explained = np.zeros(accepted.shape, dtype=np.bool_)
    for finding in findings:
        explained |= finding.claimed
    if np.any(~accepted & ~explained):
        return item.message
    right = int(np.count_nonzero(accepted))
    return f"{right} of {accepted.size} entries are right." if right and accepted.size > 1 else ""


def _read_again(
    item: ItemResult, entry: KeyEntry, key: AnswerKey, limits: Limits, memo: Memo
) -> ItemResult:
    """An answer unreadable for its shape, read in the shape a recognised mistake gives."""
    if is_blank(item.raw):
        return item
    expected = np.asarray(entry.expected, dtype=np.float64)
    fitting: list[tuple[float, Alternative, Array]] = []
    for alt in candidates(entry, for_key(key, memo)).reshaped:
        try:
            answer = read_numeric(item.raw, alt.value.shape, limits=limits)
        except AnswerError:
            continue
        # A transposed answer is compared as given back, with the key's own tolerance.
        target, given = (expected, answer.T) if alt.code == "transposed" else (alt.value, answer)
        fits = compare.within(entry.grading.tolerance, given, target)
        if np.all(fits) and np.any(~negligible(entry, target)):
            fitting.append((_misfit(entry, given, target), alt, answer))
    if fitting:
        # Biases left out of the forward pass or only out of the gradient can both fit
        # (small biases); the closer one is named.
        _, alt, answer = min(fitting, key=lambda each: each[0])
        everything = np.ones(expected.shape, dtype=np.bool_)
        finding = Finding(alt, everything, _share(entry, alt.code), True)
        shares = [finding.share] * int(everything.size)
        detail = item.message[:1].upper() + item.message[1:]
        return replace(
            item,
            score=item_score(entry.answer.points, shares, entry.grading.partial_credit),
            status=item_status([False] * len(shares), shares),
            message=f"{detail}. {sentence(finding, entry, key.rubric)}",
            diagnoses=(alt.code,),
            read=shown(answer),
            wrong_entries=tuple(tuple(int(i) for i in index) for index in np.argwhere(everything)),
        )
    return item


def _misfit(entry: KeyEntry, given: Array, target: Array) -> float:
    """The largest error in units of the tolerance (0 for an exact fit)."""
    allowed = compare.allowed_error(entry.grading.tolerance, target)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(allowed > 0, np.abs(given - target) / allowed, 0.0)
    return float(np.max(ratio)) if ratio.size else 0.0
