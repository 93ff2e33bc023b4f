"""The copy check of a class: answers that are another student's variant, and pairs of
students whose submissions are alike in a way chance does not produce.

Each graded student leaves a ``Probe`` (made where the result is rendered, so a
``--jobs`` worker sends it with the outputs): their normalised id, their own key's
numbers (a rubric with variants) and their wrong numeric answers as read, each marked
*explained* when grading named a mistake or credited an error carried forward in it.
When the class is complete, ``CopyCheck.finish`` decides, by these rules:

**Another student's variant** (``other_variant:<student id>``, rubrics with variants).
An answer *matches* student X's variant when it is wrong for the student's own numbers,
within the tolerance of X's key in every entry, and X's key is clearly apart from the
student's own (more than ``SEPARATION`` tolerances, the diagnoses' rule) at an entry the
answer has wrong: an answer near its own key is never taken for someone else's. A student
is found to have X's answers when at least ``COPIED_MIN`` of their *unexplained* wrong
answers match X's variant and no other student's variant is matched as often: one or two
wrong answers can match some classmate's numbers by chance in a large class (a scalar
such as ŷ of one example), three unexplained ones matching the same classmate does not
happen among honest students (measured, tests/test_copies.py and the benchmark). Every
wrong answer of theirs that matches X's variant is then named ``other_variant:X`` and
earns only what is right for their own numbers (no credit carried forward, no diagnosis
credit); its feedback says it is the answer for another student's numbers, without naming
them (the code, in ``results.jsonl``, and ``similar.csv`` name them for the instructor).

**Similar submissions** (``similar.csv``, with or without variants). Two students are
listed when one has the other's answers (above), or when they gave the same wrong,
unexplained value (every entry equal to 3 significant figures) in at least
``SHARED_MIN`` answer ids, each such value given by at most ``GROUP_MAX`` students: a
wrong value many students give is a common mistake, not a pair's, and a value a named
mistake explains is one every student making that mistake gives.

The index is fast for large classes: per answer id, each student's key is filed under the
logarithm of one entry in buckets as wide as the tolerance, so an answer is held against
the few keys of three buckets rather than the class (``_Index``).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from grader.errors import GraderError
from grader.grading import compare
from grader.grading.results import ItemResult, StudentResult
from grader.grading.review.diagnosis import SEPARATION
from grader.grading.score import item_score, item_status
from grader.render.similar import SimilarPair
from grader.solver.key import AnswerKey, Expressions, KeyEntry
from grader.variants.keys import variant_keys

Array = NDArray[np.float64]

COPIED_MIN = 3
"""Unexplained wrong answers matching one classmate's variant that name them."""
SHARED_MIN = 2
"""Answer ids with the same rare unexplained wrong value that list a pair."""
GROUP_MAX = 4
"""A wrong value given by more students than this is a common mistake, not evidence."""
FIGURES = 3
"""Significant figures to which two wrong values are the same."""
OTHER_VARIANT = "other_variant"


@dataclass(frozen=True)
class WrongAnswer:
    """A numeric answer not right for the student's own key, as read."""

    id: str
    values: bytes
    """The entries read, row by row, as float64 bytes."""
    explained: bool
    """Grading named a mistake in it or found it carried forward (other than a copy)."""


@dataclass(frozen=True)
class Probe:
    """What the copy check needs of one graded submission."""

    student_id: str
    student: str
    """The id its variant is drawn for (normalised); the id itself without variants."""
    key: bytes | None
    """The student's own key, the numeric answers' entries in key order (float64 bytes),
    for a rubric with variants."""
    wrong: tuple[WrongAnswer, ...]


def numeric_entries(key: AnswerKey) -> list[KeyEntry]:
    return [entry for entry in key if not isinstance(entry.expected, Expressions)]


def probe(result: StudentResult, key: AnswerKey) -> Probe | None:
    """The probe of a graded result (None for a submission that could not be read)."""
    if result.status != "graded":
        return None
    keys = variant_keys(key)
    own = key
    student = result.student_id
    if keys is not None:
        try:
            own = keys(result.student_id)
        except GraderError:  # no variant could be drawn: the student was not graded
            return None
        student = keys.template.normalise(result.student_id)
    entries = own.entries
    wrong = []
    for item in result.items:
        entry = entries.get(item.id)
        if entry is None or item.status not in ("incorrect", "partial"):
            continue
        if isinstance(entry.expected, Expressions):
            continue
        values = _numbers(item.read, entry.size)
        if values is None:
            continue
        explained = bool(item.carried_forward_from) or any(
            not code.startswith(f"{OTHER_VARIANT}:") for code in item.diagnoses
        )
        wrong.append(WrongAnswer(item.id, values.tobytes(), explained))
    own_key = None
    if keys is not None:
        flat = [np.asarray(e.expected, dtype=np.float64).ravel() for e in numeric_entries(own)]
        own_key = np.concatenate(flat).tobytes() if flat else b""
    return Probe(result.student_id, student, own_key, tuple(wrong))


def _numbers(read: object, size: int) -> Array | None:
    """The entries of an answer as read, if it is ``size`` finite numbers."""
    try:
        values = np.asarray(read, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None
    if values.size != size or not np.all(np.isfinite(values)):
        return None
    return values


# --- the check ------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyFindings:
    """What the check found: the answers to name, by line of the batch, and the pairs."""

    copied: dict[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    """Line → (the other student's id, the answer ids that are their variant's)."""
    pairs: tuple[SimilarPair, ...] = ()


class CopyCheck:
    """Collects the probes of a batch, in order; ``finish`` applies the rules."""

    def __init__(self, key: AnswerKey) -> None:
        self.key = key
        self.variants = variant_keys(key) is not None
        self.lines: list[tuple[int, Probe]] = []

    def add(self, line: int, found: Probe | None) -> None:
        if found is not None:
            self.lines.append((line, found))

    def finish(self) -> CopyFindings:
        students: dict[str, int] = {}
        shown: list[str] = []
        for _, each in self.lines:
            if each.student not in students:
                students[each.student] = len(shown)
                shown.append(each.student_id)
        copied: dict[int, tuple[str, tuple[str, ...]]] = {}
        sources: dict[tuple[int, int], list[str]] = {}
        if self.variants and len(students) > 1:
            index = _Index(self.key, self.lines, students)
            for line, each in self.lines:
                me = students[each.student]
                found = index.source(me, each.wrong)
                if found is not None:
                    other, answer_ids = found
                    copied[line] = (shown[other], answer_ids)
                    sources.setdefault((me, other), list(answer_ids))
        shared = _shared_wrong(self.lines, students)
        pairs = _pairs(sources, shared, shown)
        return CopyFindings(copied, pairs)


class _Index:
    """The class's variant keys by answer id, filed for a fast look-up by value."""

    def __init__(
        self, key: AnswerKey, lines: Sequence[tuple[int, Probe]], students: dict[str, int]
    ) -> None:
        entries = numeric_entries(key)
        sizes = [entry.size for entry in entries]
        rows = np.zeros((len(students), sum(sizes)), dtype=np.float64)
        for _, each in lines:
            if each.key is not None:
                rows[students[each.student]] = np.frombuffer(each.key, dtype=np.float64)
        self.answers: dict[str, _AnswerIndex] = {}
        start = 0
        for entry, size in zip(entries, sizes, strict=True):
            block = np.ascontiguousarray(rows[:, start : start + size])
            self.answers[entry.answer.id] = _AnswerIndex(entry, block)
            start += size

    def source(self, me: int, wrong: Iterable[WrongAnswer]) -> tuple[int, tuple[str, ...]] | None:
        """The classmate whose variant at least ``COPIED_MIN`` of these unexplained wrong
        answers match, more than any other's, and every wrong answer matching it."""
        matched: list[tuple[str, set[int], bool]] = []
        for answer in wrong:
            found = self.answers.get(answer.id)
            if found is None:
                continue
            others = found.matching(me, np.frombuffer(answer.values, dtype=np.float64))
            if others:
                matched.append((answer.id, others, answer.explained))
        counts: Counter[int] = Counter()
        for _, others, explained in matched:
            if not explained:
                counts.update(others)
        if not counts:
            return None
        ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
        best, count = ranked[0]
        if count < COPIED_MIN or (len(ranked) > 1 and ranked[1][1] == count):
            return None
        return best, tuple(answer_id for answer_id, others, _ in matched if best in others)


class _AnswerIndex:
    """One answer id's keys (a row per student), filed by one entry's logarithm."""

    def __init__(self, entry: KeyEntry, keys: Array) -> None:
        tolerance = entry.grading.tolerance
        self.keys = keys
        with np.errstate(invalid="ignore", over="ignore"):
            self.allowed = compare.allowed_error(tolerance, keys)
        magnitude = np.abs(keys)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(magnitude > 0, self.allowed / magnitude, np.inf)
        worst = ratio.max(axis=0) if len(keys) else np.zeros(keys.shape[1])
        self.column = int(np.argmin(worst)) if worst.size else 0
        spread = float(worst[self.column]) if worst.size else math.inf
        # An answer within tolerance of e is within a factor (1 ± spread) of it: in
        # buckets of log|x| that wide, it is in e's bucket or a neighbour.
        self.width = -math.log(1 - spread) if spread < 0.5 else 0.0
        self.buckets: dict[tuple[int, int], NDArray[np.intp]] = {}
        codes = [self._code(float(x)) for x in keys[:, self.column]]
        grouped: dict[tuple[int, int], list[int]] = defaultdict(list)
        for row, code in enumerate(codes):
            grouped[code].append(row)
        self.buckets = {code: np.asarray(rows, dtype=np.intp) for code, rows in grouped.items()}

    def _code(self, x: float) -> tuple[int, int]:
        if self.width == 0.0 or x == 0.0 or not math.isfinite(x):
            return (0, 0)
        return (1 if x > 0 else -1, math.floor(math.log(abs(x)) / self.width))

    def _candidates(self, x: float) -> NDArray[np.intp]:
        sign, bucket = self._code(x)
        if sign == 0:
            found = [self.buckets.get((0, 0))]
        else:
            found = [self.buckets.get((sign, bucket + step)) for step in (-1, 0, 1)]
        arrays = [each for each in found if each is not None]
        if not arrays:
            return np.zeros(0, dtype=np.intp)
        return np.concatenate(arrays) if len(arrays) > 1 else arrays[0]

    def matching(self, me: int, answer: Array) -> set[int]:
        """The students (rows) other than ``me`` whose key the answer matches, where
        their key is clearly apart from ``me``'s at an entry the answer has wrong."""
        if answer.shape != self.keys.shape[1:]:
            return set()
        rows = self._candidates(float(answer[self.column]))
        rows = rows[rows != me]
        if not rows.size:
            return set()
        keys, allowed = self.keys[rows], self.allowed[rows]
        with np.errstate(invalid="ignore", over="ignore"):
            within = np.all(np.abs(answer - keys) <= allowed, axis=1)
        if not np.any(within):
            return set()
        rows, keys, allowed = rows[within], keys[within], allowed[within]
        own, own_allowed = self.keys[me], self.allowed[me]
        with np.errstate(invalid="ignore", over="ignore"):
            wrong_for_me = np.abs(answer - own) > own_allowed
            apart = np.abs(keys - own) > SEPARATION * np.maximum(allowed, own_allowed)
        evidence = np.any(apart & wrong_for_me, axis=1)
        return {int(row) for row in rows[evidence]}


def _rounded(values: bytes) -> tuple[float, ...]:
    return tuple(
        float(f"{x:.{FIGURES - 1}e}") for x in np.frombuffer(values, dtype=np.float64).tolist()
    )


def _shared_wrong(
    lines: Sequence[tuple[int, Probe]], students: dict[str, int]
) -> dict[tuple[int, int], list[str]]:
    """Pairs of students with the same rare unexplained wrong values, and the answer ids."""
    givers: dict[tuple[str, tuple[float, ...]], set[int]] = defaultdict(set)
    for _, each in lines:
        me = students[each.student]
        for answer in each.wrong:
            if not answer.explained:
                givers[(answer.id, _rounded(answer.values))].add(me)
    shared: dict[tuple[int, int], list[str]] = defaultdict(list)
    for (answer_id, _), who in givers.items():
        if 2 <= len(who) <= GROUP_MAX:
            ordered = sorted(who)
            for position, first in enumerate(ordered):
                for second in ordered[position + 1 :]:
                    if answer_id not in shared[(first, second)]:
                        shared[(first, second)].append(answer_id)
    return {pair: ids for pair, ids in shared.items() if len(ids) >= SHARED_MIN}


def _pairs(
    sources: dict[tuple[int, int], list[str]],
    shared: dict[tuple[int, int], list[str]],
    shown: Sequence[str],
) -> tuple[SimilarPair, ...]:
    """The pairs to list, each with its evidence, the strongest first."""
    found: dict[tuple[int, int], SimilarPair] = {}
    for (copier, other), answer_ids in sources.items():
        pair = (min(copier, other), max(copier, other))
        evidence = (
            f"{len(answer_ids)} of {shown[copier]}'s answers are {shown[other]}'s variant's "
            f"values ({', '.join(answer_ids)})"
        )
        earlier = found.get(pair)
        parts = (*earlier.evidence, evidence) if earlier is not None else (evidence,)
        total = len(answer_ids) + (earlier.answers if earlier is not None else 0)
        found[pair] = SimilarPair(shown[pair[0]], shown[pair[1]], OTHER_VARIANT, total, parts)
    for pair, answer_ids in shared.items():
        evidence = (
            f"the same wrong value in {len(answer_ids)} answers ({', '.join(sorted(answer_ids))})"
        )
        earlier = found.get(pair)
        if earlier is None:
            found[pair] = SimilarPair(
                shown[pair[0]], shown[pair[1]], "same_wrong", len(answer_ids), (evidence,)
            )
        else:
            found[pair] = replace(
                earlier,
                kind=f"{earlier.kind}+same_wrong",
                answers=earlier.answers + len(answer_ids),
                evidence=(*earlier.evidence, evidence),
            )
    return tuple(
        sorted(found.values(), key=lambda each: (-each.answers, each.student_a, each.student_b))
    )


# --- naming the answers ---------------------------------------------------------------


def name_copied(
    result: StudentResult, other: str, answer_ids: Sequence[str], own: AnswerKey
) -> StudentResult:
    """The result with each of ``answer_ids`` named ``other_variant:<other>``: it earns
    what is right for the student's own numbers only, and says whose numbers it is for."""
    code = f"{OTHER_VARIANT}:{other}"
    targets = set(answer_ids)
    items = tuple(
        _named(item, own.entries[item.id], code, other) if item.id in targets else item
        for item in result.items
    )
    return replace(result, items=items, score=round(sum(item.score for item in items), 6))


def _named(item: ItemResult, entry: KeyEntry, code: str, other: str) -> ItemResult:
    if code in item.diagnoses:
        return item
    answer = np.asarray(item.read, dtype=np.float64).reshape(np.shape(entry.expected))
    accepted = compare.within(entry.grading.tolerance, answer, entry.expected)
    shares = accepted.astype(np.float64).ravel().tolist()
    right = int(np.count_nonzero(accepted))
    del other  # named in the code, for the instructor; the student is not told who
    message = (
        "This is the answer for another student's numbers (their variant), not for yours: "
        "work it out with the numbers of your own handout."
    )
    if right:
        message += f" {right} of {accepted.size} entries are right for your numbers."
    return replace(
        item,
        score=item_score(entry.answer.points, shares, entry.grading.partial_credit),
        status=item_status(accepted.ravel().tolist(), shares),
        message=message,
        diagnoses=(code,),
    )
