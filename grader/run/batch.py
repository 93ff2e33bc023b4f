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
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, NamedTuple, Protocol, overload

from grader.errors import UsageError, WriteError
from grader.grading.results import StudentResult
from grader.intake.identity import shown, visible
from grader.intake.lms_names import lms_source
from grader.intake.readers import read_entry
from grader.intake.submission import ID_CONFLICT, RESUBMISSION
from grader.limits import DEFAULT_LIMITS, Limits
from grader.memo import Memo
from grader.render import gradebook
from grader.render.similar import SIMILAR, render_similar
from grader.render.summary import ClassSummary
from grader.render.summary_markdown import render_items_csv, render_summary_markdown
from grader.run.copies import CopyCheck, CopyFindings, name_copied
from grader.run.entries import Entries
from grader.run.output import conflict_stem, feedback_stem, staging
from grader.run.parallel import grade_in_workers
from grader.run.prepare import Prepared, grade_all, prepare, restore
from grader.run.rows import LineStore, RowStore
from grader.solver.key import AnswerKey
from grader.stats.items import (
    diagnosis_table,
    item_analysis,
    score_histogram,
    score_statistics,
)
from grader.stats.table import TableBuilder


@dataclass(frozen=True)
class BatchReport:
    """What a batch did: the summary, how many were read, which could not be."""

    summary: ClassSummary
    students: int
    unreadable: tuple[str, ...]
    conflicts: tuple[str, ...] = ()
    """Student ids claimed by more than one submission, each with the sources: every one
    has its own row saying so, for the instructor to decide who is who."""
    resubmissions: tuple[str, ...] = ()
    """Students of an LMS bulk download who uploaded more than once: which upload
    counts and which it replaced."""
    similar: int | None = None
    """How many pairs ``similar.csv`` lists (None: the copy check did not run, a shard)."""
    exported: tuple[str, ...] = ()
    """The files the exports wrote, by name."""
    export_problems: tuple[str, ...] = ()
    """What the exports found to report (students matching no roster student, say)."""
    written: tuple[str, ...] = ()
    """Every output written into the folder, by name (a folder's ends in ``/``): what
    ``grade`` tells the instructor it wrote."""

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

    Made before grading (a roster is read and checked then), called once after: the
    result of each gradebook row, in order, whole (answers, messages and all, read back
    one at a time from the records), in; its files out, written with the other outputs
    or not at all."""

    def __call__(self, results: Sequence[StudentResult], key: AnswerKey) -> ExportOutput: ...


class RowResults(Sequence[StudentResult]):
    """The full result of each gradebook row, in row order: the record the row was made
    from (``record_of``), read back from the records' temporary file when asked for."""

    def __init__(self, records: LineStore, record_of: array[int], key: AnswerKey) -> None:
        self._records, self._record_of, self._key = records, record_of, key

    def __len__(self) -> int:
        return len(self._record_of)

    @overload
    def __getitem__(self, index: int) -> StudentResult: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[StudentResult]: ...
    def __getitem__(self, index: int | slice) -> StudentResult | Sequence[StudentResult]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return restore(json.loads(self._records[self._record_of[index]]), self._key)


def write_outputs(
    results: Iterable[StudentResult],
    key: AnswerKey,
    out_dir: Path,
    *,
    on_result: Callable[[Prepared], None] | None = None,
    exports: Sequence[Export] = (),
    copy_check: bool = True,
) -> BatchReport:
    """Write ``gradebook.csv``, ``results.jsonl``, ``feedback/``, ``similar.csv``,
    ``items.csv``, ``summary.md`` (and ``exports``) whole, or nothing.

    Two submissions with the same student id: both are graded and recorded in
    ``results.jsonl``; the one read later (files in sorted order, rows in file order)
    counts in the gradebook and the feedback, and says so.
    """
    memo = Memo()
    prepared = (prepare(result, key, memo) for result in results)
    return write_prepared(
        prepared, key, out_dir, on_result=on_result, exports=exports, copy_check=copy_check
    )


def write_prepared(
    prepared: Iterable[Prepared],
    key: AnswerKey,
    out_dir: Path,
    *,
    on_result: Callable[[Prepared], None] | None = None,
    exports: Sequence[Export] = (),
    copy_check: bool = True,
) -> BatchReport:
    """``write_outputs`` for results already rendered (by ``--jobs`` workers, say).

    Streams: each student's feedback is written as it comes, their record and gradebook
    row go to temporary files (``grader.run.rows``) until the end; only where each
    student id's row and record are stays in memory, with what the copy check needs of
    each (``grader.run.copies``). When the class is complete, the copy check names the
    answers that are another student's variant (their records, rows and feedback are
    rendered again) and writes ``similar.csv``; ``copy_check=False`` (a shard, which is
    not the whole class) leaves both out.

    Two submissions with one student id: two uploads of one student in an LMS bulk
    download (``grader.intake.lms_names``) are a resubmission, and the later upload
    counts; any other two (loose files, a loose file and a student's folder, two rows)
    are an id conflict: each keeps its own row, both rows say so, and neither is chosen.
    """
    answer_ids = [answer.id for answer in key.rubric.answers]
    summary = ClassSummary(answer_ids, key.rubric.max_score)
    table = TableBuilder({a.id: a.points for a in key.rubric.answers}, key.rubric.max_score)
    seen: dict[str, _Seen] = {}
    unreadable: list[str] = []
    conflicts: dict[str, list[str]] = {}
    resubmissions: list[str] = []
    rows = RowStore()
    records = LineStore()
    similar: int | None = None
    exported: list[str] = []
    problems: list[str] = []
    try:
        with staging(out_dir) as stage, _writing(out_dir):
            check = CopyCheck(key) if copy_check else None
            outputs = _Outputs(rows, records, stage / "feedback", key, check)
            outputs.feedback_dir.mkdir()
            for each in prepared:
                student_id = each.student_id
                earlier = seen.get(student_id)
                if earlier is None:
                    row, record = rows.append(each.row), outputs.record(each)
                    seen[student_id] = _Seen(each.source, row, record)
                    outputs.feedback(feedback_stem(student_id), each, record, row)
                elif not earlier.conflicted and _resubmission(earlier.source, each.source):
                    each, seen[student_id], line = outputs.resubmitted(each, earlier)
                    resubmissions.append(line)
                else:
                    conflicts.setdefault(student_id, [earlier.source]).append(each.source)
                    each, seen[student_id] = outputs.conflict(each, earlier)
                if each.error is not None:
                    unreadable.append(f"{each.source}: {each.error}")
                if on_result is not None:
                    on_result(each)
            if check is not None:
                findings = check.finish()
                similar = len(findings.pairs)
                outputs.name_copies(findings)
                (stage / SIMILAR).write_text(
                    render_similar(findings.pairs), encoding="utf-8", newline="", errors=UNENCODABLE
                )
            with (stage / "results.jsonl").open("wb") as jsonl:
                records.copy_to(jsonl)
            with (stage / "gradebook.csv").open(
                "w", encoding="utf-8", newline="", errors=UNENCODABLE
            ) as file:
                _write_gradebook(file, rows, answer_ids, summary, table)
            _write_statistics(
                stage, table, key, unreadable, _listed(conflicts), tuple(resubmissions)
            )
            results = RowResults(records, outputs.record_of(len(rows)), key)
            for output in [export(results, key) for export in exports]:
                for file_name, text in output.files:
                    (stage / file_name).write_text(
                        text, encoding="utf-8", newline="", errors=UNENCODABLE
                    )
                    exported.append(file_name)
                problems.extend(output.problems)
    finally:
        rows.close()
        records.close()
    made = (*OUTPUTS, *exported, *((SIMILAR,) if similar is not None else ()))
    return BatchReport(
        summary,
        len(rows),
        tuple(unreadable),
        _listed(conflicts),
        tuple(resubmissions),
        similar,
        tuple(exported),
        tuple(problems),
        made,
    )


OUTPUTS = ("gradebook.csv", "results.jsonl", "feedback/", "items.csv", "summary.md")
"""What every batch writes (besides the exports' files, and ``similar.csv`` where the copy
check runs)."""


def _listed(conflicts: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(
        f"{student_id}: claimed by {', '.join(sources)}"
        for student_id, sources in conflicts.items()
    )


def _write_statistics(
    stage: Path,
    table: TableBuilder,
    key: AnswerKey,
    unreadable: Sequence[str],
    conflicts: Sequence[str],
    resubmissions: Sequence[str],
) -> None:
    """``items.csv`` (the item analysis) and ``summary.md`` (the class summary)."""
    counted = table.table()
    analysis = item_analysis(counted)
    summary = render_summary_markdown(
        key.rubric.title,
        score_statistics(counted),
        score_histogram(counted),
        analysis,
        diagnosis_table(counted),
        unreadable=unreadable,
        conflicts=conflicts,
        resubmissions=resubmissions,
    )
    for name, text in (("items.csv", render_items_csv(analysis)), ("summary.md", summary)):
        (stage / name).write_text(text, encoding="utf-8", newline="", errors=UNENCODABLE)


SUPERSEDED = f"{RESUBMISSION}: replaced by the later upload"
"""How the warning of an upload that a later one replaced begins (it has no row)."""

UNENCODABLE = "backslashreplace"
"""A text a student wrote can hold what UTF-8 cannot encode (a lone surrogate from a JSON
``\\ud800`` escape): it is written as its escape, which JSON reads back as it was, rather
than stopping the batch."""


class _Seen(NamedTuple):
    """Where the outputs of the submission holding a student id's row are."""

    source: str
    row: int
    record: int
    conflicted: bool = False


def _resubmission(earlier: str, later: str) -> bool:
    """Are these two uploads of one student in an LMS bulk download?"""
    first, second = lms_source(earlier), lms_source(later)
    return (
        first is not None
        and second is not None
        and first.lms == second.lms
        and first.student_id == second.student_id
    )


@dataclass
class _Outputs:
    """The outputs of a batch being written, and how a second submission of one id
    changes them."""

    rows: RowStore
    records: LineStore
    feedback_dir: Path
    key: AnswerKey
    check: CopyCheck | None = None
    owners: dict[int, tuple[int, str]] = field(default_factory=dict)
    """Record → the gradebook row and feedback file it holds (a record of an upload
    replaced by a later one holds neither)."""

    def record_of(self, count: int) -> array[int]:
        """For each of the ``count`` rows, the position of the record that holds it."""
        found = array("q", bytes(8 * count))
        for record, (row, _) in self.owners.items():
            found[row] = record
        return found

    def record(self, each: Prepared) -> int:
        """Keep a new record (and what the copy check needs of it); its position."""
        position = self.records.append(each.record)
        if self.check is not None:
            self.check.add(position, each.probe)
        return position

    def feedback(self, stem: str, each: Prepared, record: int, row: int) -> None:
        """Write the feedback of the record that holds ``row``."""
        (self.feedback_dir / f"{stem}.md").write_bytes(each.feedback.encode("utf-8", UNENCODABLE))
        self.owners[record] = (row, stem)

    def name_copies(self, findings: CopyFindings) -> None:
        """Render again each record with another student's answers (``name_copied``),
        with its row and feedback if it holds them."""
        for position, (other, answer_ids) in sorted(findings.copied.items()):
            result = restore(json.loads(self.records[position]), self.key)
            own = self.key.for_student(result.student_id)
            again = prepare(name_copied(result, other, answer_ids, own), self.key)
            self.records.replace(position, again.record)
            held = self.owners.get(position)
            if held is not None:
                self.rows.replace(held[0], again.row)
                self.feedback(held[1], again, position, held[0])

    def noted(self, record: str, warning: str) -> Prepared:
        """The result of ``record`` rendered again with one more warning."""
        result = restore(json.loads(record), self.key)
        return prepare(replace(result, warnings=(*result.warnings, warning)), self.key)

    def resubmitted(self, each: Prepared, earlier: _Seen) -> tuple[Prepared, _Seen, str]:
        """Two uploads of one student: the later (``LmsName.order``; of equal ones, the one
        read later) holds the row and the feedback file, and both records say which
        counts. Returns ``each`` as recorded, where the id's row now is, and the line
        for the summary."""
        old, new = lms_source(earlier.source), lms_source(each.source)
        newer = old is None or new is None or new.order >= old.order
        kept, replaced = (each.source, earlier.source) if newer else (earlier.source, each.source)
        counts = f"{RESUBMISSION}: {_place(kept)} replaces the earlier upload {_place(replaced)}"
        superseded = f"{SUPERSEDED} {_place(kept)}; not counted"
        student_id = each.student_id
        line = f"{student_id}: {kept} replaces {replaced}"
        if newer:
            each = self.noted(each.record, counts)
            old_record = self.noted(self.records[earlier.record], superseded).record
            self.records.replace(earlier.record, old_record)
            self.owners.pop(earlier.record, None)
            self.rows.replace(earlier.row, each.row)
            record = self.record(each)
            self.feedback(feedback_stem(student_id), each, record, earlier.row)
            return each, _Seen(each.source, earlier.row, record), line
        each = self.noted(each.record, superseded)
        self.record(each)
        counted = self.noted(self.records[earlier.record], counts)
        self.records.replace(earlier.record, counted.record)
        self.rows.replace(earlier.row, counted.row)
        self.feedback(feedback_stem(student_id), counted, earlier.record, earlier.row)
        return each, earlier, line

    def conflict(self, each: Prepared, earlier: _Seen) -> tuple[Prepared, _Seen]:
        """Another submission claims an id already taken: it gets a row of its own, and
        both rows (and records and feedback) say so; their feedback files are named
        after the id and the source (``conflict_stem``), so neither has the id's own."""
        student_id = each.student_id
        if not earlier.conflicted:  # the first claimant learns of it now
            first = self.noted(self.records[earlier.record], _conflict(each.source, student_id))
            self.records.replace(earlier.record, first.record)
            self.rows.replace(earlier.row, first.row)
            (self.feedback_dir / f"{feedback_stem(student_id)}.md").unlink()
            stem = conflict_stem(student_id, earlier.source)
            self.feedback(stem, first, earlier.record, earlier.row)
        each = self.noted(each.record, _conflict(earlier.source, student_id))
        row = self.rows.append(each.row)
        record = self.record(each)
        self.feedback(conflict_stem(student_id, each.source), each, record, row)
        return each, earlier._replace(conflicted=True)


def _place(source: str) -> str:
    """A source quoted on one line, its end kept when long (the file's name tells most)."""
    cut = source if len(source) <= 120 else "..." + source[-117:]
    return "'" + visible(cut) + "'"


def _conflict(other: str, student_id: str) -> str:
    return (
        f"{ID_CONFLICT}: {_place(other)} also claims student id {shown(student_id)}; both "
        "are graded, and which is this student's is for the instructor to decide"
    )


def _write_gradebook(
    file: IO[str],
    rows: RowStore,
    answer_ids: Sequence[str],
    summary: ClassSummary,
    table: TableBuilder,
) -> None:
    """``render_gradebook``, streamed row by row (each row's line was formatted when the
    result was rendered); also counts each row in the summary and the statistics."""
    file.write(gradebook.csv_text([gradebook.header(answer_ids)]))
    for row in rows.rows():
        file.write(row.line)
        summary.add(row.score, row.graded, row.statuses, row.diagnoses)
        table.add(row.student_id, row.graded, row.scores, row.statuses, row.diagnoses)


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
            # a shard is not the whole class: no copy check, and no similar.csv of an
            # earlier run left to be taken for this one's
            (out_dir / SIMILAR).unlink(missing_ok=True)
        return _grade_entries(
            entries,
            key,
            out_dir,
            on_result=on_result,
            exports=exports,
            jobs=jobs,
            limits=limits,
            copy_check=shard is None,
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
    copy_check: bool,
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
    return write_prepared(
        prepared, key, out_dir, on_result=on_result, exports=exports, copy_check=copy_check
    )
