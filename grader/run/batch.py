"""Grading a whole class: read every submission, grade it, write every output.

Results stream to disk as they are made (``results.jsonl`` and feedback files go to a
staging folder, the gradebook rows to a temporary file), so memory stays flat however
large the class. One unreadable file never stops the batch: it becomes a row with the
reason. Each result is first rendered (``prepare``), then written (``write_prepared``);
with ``jobs`` > 1 worker processes read, grade and render, and this process writes, in
the same order, so the outputs are the same bytes.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, NamedTuple, Protocol

from grader.errors import UsageError, WriteError
from grader.grading.results import StudentResult
from grader.intake.readers import read_entry
from grader.limits import DEFAULT_LIMITS, Limits
from grader.memo import Memo
from grader.render import gradebook
from grader.render.summary import ClassSummary
from grader.run.entries import Entries
from grader.run.output import FileNames, staging
from grader.run.parallel import grade_in_workers
from grader.run.prepare import (
    DUPLICATE,
    Prepared,
    grade_all,
    prepare,
    restore,
)
from grader.run.rows import RecordStore, RowStore
from grader.solver.key import AnswerKey


@dataclass(frozen=True)
class BatchReport:
    """What a batch did: the summary, how many were read, which could not be."""

    summary: ClassSummary
    students: int
    unreadable: tuple[str, ...]
    conflicts: tuple[str, ...] = ()
    """Student ids submitted more than once, each with the sources (the later counts):
    for the instructor to check who is who."""
    exported: tuple[str, ...] = ()
    """The files the exports wrote, by name."""
    export_problems: tuple[str, ...] = ()
    """What the exports found to report (students matching no roster student, say)."""

    @property
    def exit_code(self) -> int:
        return 1 if self.unreadable else 0


class ExportOutput(NamedTuple):
    """What an export makes: its files, and lines to report (on stderr)."""

    files: tuple[tuple[str, str], ...]
    """``(file name, text)``, written beside ``gradebook.csv``."""
    problems: tuple[str, ...] = ()


class Export(Protocol):
    """An extra gradebook format (an LMS's: ``grader.integrations.lms`` lists them).

    Made before grading (a roster is read and checked then), called once after: every
    student who counts, in gradebook order, as their full result (answers, messages
    and all, read back one at a time from the staged records), in; its files out,
    written with the other outputs or not at all."""

    def __call__(self, results: Sequence[StudentResult], key: AnswerKey) -> ExportOutput: ...


def write_outputs(
    results: Iterable[StudentResult],
    key: AnswerKey,
    out_dir: Path,
    *,
    on_result: Callable[[Prepared], None] | None = None,
    exports: Sequence[Export] = (),
) -> BatchReport:
    """Write ``gradebook.csv``, ``results.jsonl``, ``feedback/`` (and ``exports``) whole,
    or nothing.

    Two submissions with the same student id: both are graded and recorded in
    ``results.jsonl``; the one read later (files in sorted order, rows in file order)
    counts in the gradebook and the feedback, and says so.
    """
    memo = Memo()
    prepared = (prepare(result, key, memo) for result in results)
    return write_prepared(prepared, key, out_dir, on_result=on_result, exports=exports)


def write_prepared(
    prepared: Iterable[Prepared],
    key: AnswerKey,
    out_dir: Path,
    *,
    on_result: Callable[[Prepared], None] | None = None,
    exports: Sequence[Export] = (),
) -> BatchReport:
    """``write_outputs`` for results already rendered (by ``--jobs`` workers, say).

    Streams: each student's record and feedback are written as they come, their
    gradebook row goes to a temporary file (``grader.run.rows``); only the row's position
    by student id stays in memory.
    """
    answer_ids = [answer.id for answer in key.rubric.answers]
    summary = ClassSummary(answer_ids, key.rubric.max_score)
    positions: dict[str, int] = {}
    unreadable: list[str] = []
    conflicts: dict[str, list[str]] = {}
    names = FileNames()
    rows = RowStore()
    # the full records of the students who count, for the exports (only when there are)
    records = RecordStore(lambda data: restore(data, key)) if exports else None
    exported: list[str] = []
    problems: list[str] = []
    try:
        with staging(out_dir) as stage, _writing(out_dir):
            feedback_dir = stage / "feedback"
            feedback_dir.mkdir()
            with (stage / "results.jsonl").open(
                "w", encoding="utf-8", newline="\n", errors=UNENCODABLE
            ) as jsonl:
                for each in prepared:
                    position = positions.get(each.student_id)
                    if position is not None:
                        earlier = rows[position]
                        conflicts.setdefault(each.student_id, [earlier.source]).append(each.source)
                        each = _duplicate(each, earlier, key)
                        rows.replace(position, each.row)
                        if records is not None:
                            records.replace(position, each.record)
                    else:
                        positions[each.student_id] = rows.append(each.row)
                        if records is not None:
                            records.append(each.record)
                    jsonl.write(each.record + "\n")
                    name = names(each.student_id)
                    (feedback_dir / f"{name}.md").write_bytes(
                        each.feedback.encode("utf-8", UNENCODABLE)
                    )
                    if each.error is not None:
                        unreadable.append(f"{each.source}: {each.error}")
                    if on_result is not None:
                        on_result(each)
            with (stage / "gradebook.csv").open(
                "w", encoding="utf-8", newline="", errors=UNENCODABLE
            ) as file:
                _write_gradebook(file, rows, answer_ids, summary)
            outputs = [export(records, key) for export in exports] if records is not None else []
            for output in outputs:
                for file_name, text in output.files:
                    (stage / file_name).write_text(
                        text, encoding="utf-8", newline="", errors=UNENCODABLE
                    )
                    exported.append(file_name)
                problems.extend(output.problems)
    finally:
        rows.close()
        if records is not None:
            records.close()
    listed = tuple(
        f"{student_id}: {', '.join(sources)} (the last counts)"
        for student_id, sources in conflicts.items()
    )
    return BatchReport(
        summary, len(rows), tuple(unreadable), listed, tuple(exported), tuple(problems)
    )


UNENCODABLE = "backslashreplace"
"""A text a student wrote can hold what UTF-8 cannot encode (a lone surrogate from a JSON
``\\ud800`` escape): it is written as its escape, which JSON reads back as it was, rather
than stopping the batch."""


def _duplicate(later: Prepared, earlier: StudentResult, key: AnswerKey) -> Prepared:
    """The later of two submissions with one student id, saying which one counts."""
    result = restore(json.loads(later.record), key)
    warning = (
        f"{DUPLICATE}: {result.student_id} also submitted {earlier.source}; "
        f"this submission ({result.source}) is the one graded"
    )
    return prepare(replace(result, warnings=(*result.warnings, warning)), key)


def _write_gradebook(
    file: IO[str], rows: RowStore, answer_ids: Sequence[str], summary: ClassSummary
) -> None:
    """``render_gradebook``, streamed row by row (each row's line was formatted when the
    result was rendered); also counts each row in the summary."""
    file.write(gradebook.csv_text([gradebook.header(answer_ids)]))
    for row in rows.rows():
        file.write(row.line)
        summary.add(row.score, row.graded, row.statuses, row.diagnoses)


def grade_path(
    path: Path,
    key: AnswerKey,
    out_dir: Path,
    *,
    on_result: Callable[[Prepared], None] | None = None,
    exports: Sequence[Export] = (),
    jobs: int = 1,
    shard: tuple[int, int] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> BatchReport:
    """Grade every submission under ``path`` and write the outputs into ``out_dir``.

    ``jobs`` > 1: read and grade in that many worker processes (``grader.run.parallel``);
    the outputs are byte for byte those of one process. Either way the submissions are
    those ``read_all`` reads, in its order. ``shard=(k, n)``: only the k-th of n blocks
    of the entries found (``Entries.shard``). ``limits``: the caps on what is read
    (``grader.limits``), the same in every worker.
    """
    if path.is_dir() and _resolved(out_dir) == _resolved(path):
        raise UsageError(
            f"--out {out_dir} is the submissions folder {path}: its gradebook.csv would be "
            "read as a class's submissions by the next run; write the outputs elsewhere "
            "(a folder inside it is fine: it is not read)"
        )
    with few_collections():
        entries = Entries(path, exclude=(out_dir,))
        if shard is not None:
            entries.shard(*shard)
        return _grade_entries(
            entries,
            key,
            out_dir,
            on_result=on_result,
            exports=exports,
            jobs=jobs,
            limits=limits,
        )


@contextmanager
def _writing(out_dir: Path) -> Iterator[None]:
    """An ``OSError`` while the outputs are written (a full disk) as a ``WriteError``:
    its own exit status, not a traceback and not 1, the status a CI recipe accepts."""
    try:
        yield
    except OSError as error:
        raise WriteError(
            f"{out_dir}: writing the outputs failed ({error.strerror or error}); nothing was "
            "written and the previous outputs are as they were"
        ) from None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


@contextmanager
def few_collections() -> Iterator[None]:
    """Run the cyclic garbage collector rarely.

    Performance (profile of `grade`, 10,000 students): a fifth of the time went to the
    collector, which ran every 700 allocations and, every tenth of those, walked the
    memoized items. Grading makes millions of small objects and almost no cycles, so the
    objects alive before the batch (the key, the imports) are frozen out of its reach
    and it runs 100 times less often.
    """
    threshold = gc.get_threshold()
    outermost = gc.get_freeze_count() == 0  # what a caller froze stays frozen
    gc.freeze()
    gc.set_threshold(70_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if outermost:
            gc.unfreeze()


def _grade_entries(
    entries: Entries,
    key: AnswerKey,
    out_dir: Path,
    *,
    on_result: Callable[[Prepared], None] | None,
    exports: Sequence[Export],
    jobs: int,
    limits: Limits,
) -> BatchReport:
    if jobs > 1:
        prepared: Iterable[Prepared] = grade_in_workers(entries, key, jobs, limits)
    else:
        known = [answer.id for answer in key.rubric.answers]
        submissions = (
            submission
            for location, folder_id in entries
            for submission in read_entry(location, folder_id, known, limits=limits)
        )
        # what grading remembers (``grader.memo``) is this batch's, and goes with it
        memo = Memo()
        results = grade_all(submissions, key, limits=limits, memo=memo)
        prepared = (prepare(result, key, memo) for result in results)
    return write_prepared(prepared, key, out_dir, on_result=on_result, exports=exports)
