"""One student's outputs rendered for writing, and a result read back from its record.

A ``Prepared`` is plain strings, cheap to pass between processes: a ``--jobs`` worker
makes it, the parent writes it (``grader.run.batch``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any, NamedTuple

from grader.deadline import Overtime, grading_overtime, within
from grader.errors import GraderError
from grader.grading.grade import grade_submission, unreadable_result
from grader.grading.results import StudentResult
from grader.intake.submission import (
    DUPLICATE_ANSWER,
    ID_CONFLICT,
    ID_MISMATCH,
    RESUBMISSION,
    Submission,
    Unreadable,
)
from grader.limits import DEFAULT_LIMITS, Limits
from grader.memo import Memo, Table
from grader.render.feedback import render_feedback
from grader.run.copies import Probe, probe
from grader.run.rows import row_text
from grader.solver.key import AnswerKey
from grader.variants.keys import variant_keys

BATCH_WARNINGS = (ID_CONFLICT, RESUBMISSION)
"""How the warnings begin that the batch adds when it sees one id twice (``grader merge``
makes them again across the shards, rather than repeating a shard's)."""


def grade_all(
    submissions: Iterable[Submission | Unreadable],
    key: AnswerKey,
    *,
    limits: Limits = DEFAULT_LIMITS,
    memo: Memo | None = None,
) -> Iterator[StudentResult]:
    """Results in submission order; an unreadable file yields its error row (``memo``:
    what grading remembers, ``grader.memo``; by default, for these submissions). Each
    student is graded against their own key (``AnswerKey.for_student``: their variant,
    for a rubric with variants); a student whose variant cannot be drawn gets a row
    saying why, and the batch goes on; so does one whose grading takes longer than
    ``limits.max_seconds_per_submission`` (``grader.deadline``)."""
    memo = Memo() if memo is None else memo
    for submission in submissions:
        try:
            own = key.for_student(submission.student_id)
        except GraderError as error:
            why = f"no variant of the rubric for this student id: {error}"
            yield unreadable_result(Unreadable(submission.student_id, submission.source, why), key)
            continue
        if isinstance(submission, Unreadable):
            yield unreadable_result(submission, own)
            continue
        try:
            with within(limits.max_seconds_per_submission):
                result = grade_submission(submission, own, limits=limits, memo=memo)
        except Overtime:
            why = grading_overtime(limits.max_seconds_per_submission)
            result = unreadable_result(
                Unreadable(submission.student_id, submission.source, why), own
            )
        yield result


KEPT_WARNINGS = (ID_CONFLICT, RESUBMISSION, DUPLICATE_ANSWER, ID_MISMATCH)
"""Warnings that also go into the gradebook's status column."""


class Prepared(NamedTuple):
    """One student's outputs, rendered, ready to be written: what a ``--jobs`` worker
    sends the parent (plain strings, cheap to pass between processes)."""

    student_id: str
    source: str
    error: str | None
    """Why the submission could not be read; None if it was graded."""
    record: str
    """The ``results.jsonl`` line, without its newline."""
    feedback: str
    row: str
    """The gradebook row (``grader.run.rows``)."""
    probe: Probe | None = None
    """What the copy check needs of it (``grader.run.copies``)."""


def prepare(result: StudentResult, key: AnswerKey, memo: Memo | None = None) -> Prepared:
    """Render one result's outputs (``memo``: the batch's, ``grader.memo``).

    The feedback shows what the record holds: where the record had to write an answer
    otherwise (a NaN or an infinity as text, lists nested too deep cut short), the
    feedback is made from the record, as ``grader merge`` makes it.
    """
    record = result.to_json_text()
    shown = result
    if any(mark in record for mark in _REWRITTEN):
        shown = restore(json.loads(record), key)
    record = f'{record[:-1]}, "{RUBRIC_FIELD}": "{rubric_fingerprint(key, memo)}"}}'
    return Prepared(
        student_id=result.student_id,
        source=result.source,
        error=result.error if result.status == "error" else None,
        record=record,
        feedback=render_feedback(shown, key.rubric),
        row=row_text(result, KEPT_WARNINGS, [answer.id for answer in key.rubric.answers]),
        probe=probe(result, key),
    )


_REWRITTEN = ('"NaN"', 'Infinity"', '"[...]"')
"""How ``results.plain_json`` writes what strict JSON cannot hold (a student's own text
may look the same: the feedback made from the record is then the same anyway)."""


RUBRIC_FIELD = "rubric"
"""The field of a ``results.jsonl`` record that holds ``rubric_fingerprint``."""

# Performance (profile of `grade`): the rubric's canonical JSON cost a quarter of the
# rendering of a student; it is worked out once per batch (``memo``) and rubric.
_FINGERPRINTS: Table[int, tuple[object, str]] = Table("rubric fingerprints", 64)


def rubric_fingerprint(key: AnswerKey, memo: Memo | None = None) -> str:
    """``sha256:`` and 16 hex digits of the rubric as its instructor wrote it (the
    canonical JSON of what the file sets, its ``variants`` block included; no defaults
    filled in, a whole number the same written ``8`` or ``8.0``): the same for the same
    rubric wherever and by whichever version of the grader it is graded (a model field
    the grader adds with a default changes nothing), different for any change of a
    parameter, a point, a tolerance, a draw. Each record carries it, so that ``grader
    merge`` refuses a shard graded with another rubric even when its answer ids are the
    same."""
    variants = variant_keys(key)
    rubric = key.rubric if variants is None else variants.template.rubric
    known = None if memo is None else memo.get(_FINGERPRINTS, id(rubric))
    if known is not None and known[0] is rubric:
        return known[1]
    written = rubric.model_dump(mode="json", exclude_unset=True, by_alias=True)
    text = json.dumps(_canonical(written), sort_keys=True, separators=(",", ":"))
    fingerprint = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    if memo is not None:
        memo.put(_FINGERPRINTS, id(rubric), (rubric, fingerprint))  # kept: its id not reused
    return fingerprint


def _canonical(data: Any) -> Any:
    """``data`` (plain JSON) with every whole float as an int: a float field holds the
    ``8`` of a file as ``8.0``, which is what the file meant."""
    if isinstance(data, float) and data.is_integer():
        return int(data)
    if isinstance(data, dict):
        return {name: _canonical(value) for name, value in data.items()}
    if isinstance(data, list):
        return [_canonical(value) for value in data]
    return data


def restore(record: dict[str, Any], key: AnswerKey) -> StudentResult:
    """A result read back from its ``results.jsonl`` record, with what the record leaves
    out (each answer's title and expected value) taken from the key, so that it renders
    exactly as it did."""
    result = StudentResult.from_json(record)
    try:
        entries = key.for_student(result.student_id).entries
    except GraderError:  # graded as a row saying why (``grade_all``)
        entries = key.entries
    items = tuple(
        replace(item, title=entries[item.id].answer.title, expected=entries[item.id].plain_expected)
        if item.id in entries
        else item
        for item in result.items
    )
    return replace(result, items=items)
