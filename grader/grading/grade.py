"""Scoring a submission against the answer key: one ``ItemResult`` per answer id.

Each answer is read (``grader.intake.values``), compared entry by entry under its tolerance
(``grader.grading.compare``) or, for expressions, by agreement at sample points; what is not
fully right is then examined for carried-forward errors and named mistakes
(``grader.grading.review.analysis``).
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from grader.deadline import checkpoint
from grader.errors import AnswerError
from grader.grading import compare
from grader.grading.display import entry_name, shown, summarised
from grader.grading.results import ItemResult, ItemStatus, StudentResult
from grader.grading.review.analysis import reconsider
from grader.grading.score import item_score, item_status, total_score
from grader.intake.submission import Submission, Unreadable
from grader.intake.values import (
    StudentExpressions,
    StudentValue,
    is_blank,
    read_expressions,
    read_numeric,
)
from grader.limits import DEFAULT_LIMITS, Limits
from grader.memo import ENTRY_BYTES, Memo, Table
from grader.rubric.models import Rubric
from grader.solver import expr
from grader.solver.key import AnswerKey, Expressions, KeyEntry

SAMPLE_POINTS = 16
"""Points at which two expressions are compared; drawn per answer id, so repeatable."""
CANDIDATE_POINTS = 192
"""Points drawn to find ``SAMPLE_POINTS`` where both expressions are defined: the first 16
from ±[0.2, 2.5] in each variable, then 176 alternating between that range and ±[0.05,
0.95] (inside the domain of asin and acos)."""
MIN_COMMON_POINTS = 4
"""Fewer points than this where the expected expression is defined: nothing to compare."""


def grade_submission(
    submission: Submission,
    key: AnswerKey,
    *,
    limits: Limits = DEFAULT_LIMITS,
    memo: Memo | None = None,
) -> StudentResult:
    """Grade every answer of the key for one student, reading answers under ``limits``.

    ``memo``: what grading remembers for speed (``grader.memo``); grading many students,
    pass the same one to each call (a new one each time gives the same results, slower)."""
    memo = Memo() if memo is None else memo
    answers, comma = submission.answers, bool(submission.decimal_comma)
    values: dict[str, StudentValue] = {}
    graded: list[tuple[ItemResult, KeyEntry]] = []
    for entry in key.entries.values():
        checkpoint()  # the time limit where no timer interrupts (grader.deadline)
        answer_id = entry.answer.id
        item, value = _graded_item(entry, answers.get(answer_id), key, comma, limits, memo)
        if value is not None:
            values[answer_id] = value
        graded.append((item, entry))
    # what is right or missing needs no second look (the common case, without a call)
    items = tuple(
        item
        if item.status in _SETTLED
        else _hinted(reconsider(item, entry, values, key, limits, memo), entry)
        for item, entry in graded
    )
    return StudentResult(
        student_id=submission.student_id,
        source=submission.source,
        score=total_score(item.score for item in items),
        max_score=key.rubric.max_score,
        status="graded",
        items=items,
        warnings=submission.warnings,
    )


_SETTLED = frozenset({"correct", "missing"})


def _hinted(item: ItemResult, entry: KeyEntry) -> ItemResult:
    """A wrong answer's message followed by the rubric's ``hint`` for it, if any."""
    hint = entry.answer.hint
    if hint is None or item.status not in ("partial", "incorrect") or item.score >= item.max_score:
        return item
    return replace(item, message=f"{item.message} Hint: {hint}".strip())


def unreadable_result(unreadable: Unreadable, key: AnswerKey) -> StudentResult:
    """The row of a student whose file could not be read: zero, with the reason."""
    items = tuple(
        ItemResult(
            id=entry.answer.id,
            score=0.0,
            max_score=entry.answer.points,
            status="unreadable",
            message=f"The file could not be read: {unreadable.error}",
            expected=entry.plain_expected,
            title=entry.answer.title,
        )
        for entry in key
    )
    return StudentResult(
        student_id=unreadable.student_id,
        source=unreadable.source,
        score=0.0,
        max_score=key.rubric.max_score,
        status="error",
        error=unreadable.error,
        items=items,
    )


# Performance (profile of `grade`): a class gives the same answer again and again (the
# key's values rounded alike, the same slip on the same numbers): at N = 2,000 half of
# the answers were repeats. Reading and scoring an answer depends only on the answer as
# written, so the item and the value read are memoized on it (bounded); the value is
# made read-only, as it is shared between students.


def _item_bytes(
    slot: tuple[object, ...], cached: tuple[AnswerKey, ItemResult, StudentValue | None]
) -> int:
    """An entry's bytes, estimated (``grader.memo``): the answer as written (a text's own
    size; a list of floats as each float and its slots in the list and the slot's tuple;
    a JSON value's repr as 20 times its size for the value it stands for), the value read
    (an array and its lists in the item: 20 times its bytes; an expression's tree: 100
    bytes a character) and the message."""
    text, item, value = slot[4], cached[1], cached[2]
    if type(text) is tuple:  # ``_floats``: the floats of a list, or tuples of rows
        rows = text if type(text[0]) is tuple else ()
        answer = 40 * (sum(map(len, rows)) if rows else len(text)) + 120 * len(rows)
    else:
        answer = sys.getsizeof(text) * (1 if slot[3] is str or text is None else 20)
    if isinstance(value, np.ndarray):
        answer += 20 * value.nbytes
    elif value is not None:
        answer += 100 * sum(map(len, value.texts))
    return ENTRY_BYTES + answer + sys.getsizeof(item.message)


_ITEMS: Table[tuple[object, ...], tuple[AnswerKey, ItemResult, StudentValue | None]] = Table(
    "graded items", 8192, _item_bytes
)


def _graded_item(
    entry: KeyEntry, raw: Any, key: AnswerKey, decimal_comma: bool, limits: Limits, memo: Memo
) -> tuple[ItemResult, StudentValue | None]:
    """``grade_item``, memoized on the raw answer (its text, or a JSON value's repr) and
    the caps (an answer refused under one cap is read under another)."""
    kind = type(raw)
    text = raw if kind is str or raw is None else _floats(raw) if kind is list else None
    if text is None:  # a JSON value's repr tells it apart (not the number: -0.0 == 0.0)
        try:
            text = repr(raw)
        except (RecursionError, ValueError):  # nested too deep, an int of 4,300+ digits
            return grade_item(entry, raw, key, decimal_comma=decimal_comma, limits=limits)
    slot = (id(key), entry.answer.id, decimal_comma, kind, text, limits)
    cached = memo.get(_ITEMS, slot)
    if cached is not None and cached[0] is key:
        return cached[1], cached[2]
    item, value = grade_item(entry, raw, key, decimal_comma=decimal_comma, limits=limits)
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    memo.put(_ITEMS, slot, (key, item, value))  # the key kept alive: its id is not reused
    return item, value


def _floats(raw: list[Any]) -> tuple[Any, ...] | None:
    """A list of floats or of rows of floats as tuples, which hash faster than its repr
    is written, if equal tuples mean the same answer: every number a float (1 == 1.0)
    and none zero (0.0 == -0.0); else None."""
    rows = raw if raw and type(raw[0]) is list else (raw,)
    for row in rows:
        if type(row) is not list or set(map(type, row)) != _FLOAT or 0.0 in row:
            return None
    return tuple(map(tuple, raw)) if rows is raw else tuple(raw)


_FLOAT = {float}


def grade_item(
    entry: KeyEntry,
    raw: Any,
    key: AnswerKey,
    *,
    decimal_comma: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[ItemResult, StudentValue | None]:
    """Read and score one answer; also return the value read (None if missing/unreadable).

    ``decimal_comma``: the answer comes from a ``;``- or tab-delimited spreadsheet
    (``Submission.decimal_comma``); ``limits``: the caps on what is read."""
    answer = entry.answer
    base = {
        "id": answer.id,
        "max_score": answer.points,
        "raw": raw,
        "expected": entry.plain_expected,  # computed once per key (a profile's hot spot)
        "title": answer.title,
    }
    if is_blank(raw):
        return ItemResult(score=0.0, status="missing", message="No answer given.", **base), None
    try:
        value = read_value(entry, raw, decimal_comma=decimal_comma, limits=limits)
    except AnswerError as error:
        return ItemResult(score=0.0, status="unreadable", message=error.detail, **base), None
    fractions = entry_credit(entry, value)
    item = score_from_entries(entry, fractions, value, base, key.rubric)
    return item, value


def read_value(
    entry: KeyEntry, raw: Any, *, decimal_comma: bool = False, limits: Limits = DEFAULT_LIMITS
) -> StudentValue:
    if isinstance(entry.expected, Expressions):
        return read_expressions(
            raw,
            len(entry.expected.exprs),
            entry.expected.variables,
            decimal_comma=decimal_comma,
            limits=limits,
        )
    return read_numeric(raw, entry.shape, decimal_comma=decimal_comma, limits=limits)


def entry_credit(entry: KeyEntry, value: StudentValue) -> list[bool]:
    """Entry by entry (row by row, flat), True where the answer is accepted."""
    if isinstance(entry.expected, Expressions):
        if not isinstance(value, StudentExpressions):
            return [False] * len(entry.expected.exprs)
        return [
            equivalent(s, e, entry.expected.variables, f"{entry.answer.id}[{index}]")
            for index, (s, e) in enumerate(zip(value.exprs, entry.expected.exprs, strict=True))
        ]
    if isinstance(value, StudentExpressions):
        return [False] * entry.size
    if value.shape == entry.shape:  # always, as read: the key's own allowed errors
        return compare.criterion(entry).accepts(value.ravel().tolist())
    accepted = compare.accepted(entry, value)
    return [bool(flag) for flag in accepted.ravel()]


def score_from_entries(
    entry: KeyEntry,
    accepted: list[bool],
    value: StudentValue,
    base: dict[str, Any],
    rubric: Rubric,
) -> ItemResult:
    credit = [1.0 if flag else 0.0 for flag in accepted]
    score = item_score(entry.answer.points, credit, entry.grading.partial_credit)
    status = item_status(accepted, credit)
    wrong = (
        tuple(
            tuple(int(i) for i in np.unravel_index(position, entry.shape))
            for position, flag in enumerate(accepted)
            if not flag
        )
        if status != "correct"
        else ()  # most answers are right: no need to look for wrong entries
    )
    message = _message(entry, rubric, status, wrong, len(accepted), value)
    return ItemResult(
        score=score,
        status=status,
        message=message,
        read=shown(value),
        wrong_entries=wrong,
        **base,
    )


def _message(
    entry: KeyEntry,
    rubric: Rubric,
    status: ItemStatus,
    wrong: Sequence[tuple[int, ...]],
    total: int,
    value: StudentValue,
) -> str:
    if status == "correct":
        return "Correct."
    names = summarised([entry_name(entry, rubric, index) for index in wrong])
    if isinstance(value, StudentExpressions):
        return f"Not equivalent to the expected expression: {names}."
    non_finite = not np.all(np.isfinite(value))
    rule = compare.describe(entry.grading.tolerance)
    if total == 1:
        if non_finite:
            return "Not a finite number."
        return f"Not {rule}."
    extra = " (some are not finite numbers)" if non_finite else ""
    if len(wrong) == total:
        return f"None of the {total} entries is right{extra} (not {rule})."
    return f"{total - len(wrong)} of {total} entries are right; off{extra}: {names} (not {rule})."


def equivalent(
    student: expr.Expr, expected: expr.Expr, variables: Sequence[str], seed_text: str
) -> bool:
    """Do two expressions agree at sample points drawn deterministically from ``seed_text``?

    Agreement at the first ``SAMPLE_POINTS`` candidate points where *both* sides are
    defined (a point where either is not, ``log`` of a negative or a division by zero, is
    replaced by the next candidate). If the expected expression is defined at fewer than
    ``SAMPLE_POINTS`` candidates, the student's must be defined and agree at every one.

    (A repeated answer is not compared again: its item is remembered, ``_graded_item``.)"""
    env, want = _samples(expected, tuple(variables), seed_text)
    got = np.broadcast_to(
        np.asarray(expr.evaluate(student, env), dtype=np.float64), (CANDIDATE_POINTS,)
    )
    defined = np.isfinite(want)
    need = min(SAMPLE_POINTS, int(np.count_nonzero(defined)))
    if need < MIN_COMMON_POINTS:
        return False
    common = np.flatnonzero(defined & np.isfinite(got))[:SAMPLE_POINTS]
    if len(common) < need:
        return False
    with np.errstate(invalid="ignore"):
        close = np.abs(got[common] - want[common]) <= 1e-9 + 1e-7 * np.abs(want[common])
    return bool(np.all(close))


def _samples(
    expected: expr.Expr, variables: tuple[str, ...], seed_text: str
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The candidate points drawn from ``seed_text`` and the key's values there (read-only)."""
    rng = np.random.default_rng(zlib.crc32(seed_text.encode()))
    first = rng.uniform(0.2, 2.5, size=(SAMPLE_POINTS, len(variables)))
    first *= rng.choice([-1.0, 1.0], size=first.shape)
    rest = CANDIDATE_POINTS - SAMPLE_POINTS
    wide = rng.uniform(0.2, 2.5, size=(rest, len(variables)))
    unit = rng.uniform(0.05, 0.95, size=(rest, len(variables)))
    more = np.where((np.arange(rest) % 2 == 0)[:, None], wide, unit)
    more *= rng.choice([-1.0, 1.0], size=more.shape)
    points = np.concatenate([first, more])
    points.flags.writeable = False
    env = {name: points[:, index] for index, name in enumerate(variables)}
    want = np.broadcast_to(
        np.asarray(expr.evaluate(expected, env), dtype=np.float64), (CANDIDATE_POINTS,)
    )
    return env, want
