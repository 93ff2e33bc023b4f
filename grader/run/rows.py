"""The gradebook rows of a batch, and its records, kept in temporary files rather than
in memory.

A row is what the gradebook and the class summary need of a student's result: the
scores, statuses and diagnoses of each answer, not the answers or messages, and the
student's gradebook line, formatted where the result was made (in a ``--jobs`` worker).
For a class of 100,000 even that is too much to hold as objects (a result with its items
is some kilobytes), so each row is appended to an anonymous temporary file as one line
of compact JSON; ``RowStore`` reads them back in order as plain ``Row``s. The exports
(Canvas, Moodle) get every counting student's full result: ``RecordStore`` keeps each
one's ``results.jsonl`` record the same way and reads it back as a ``StudentResult``.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import IO, Any, NamedTuple, overload

from grader.grading.results import ItemResult, StudentResult
from grader.jsontext import dumps_compact
from grader.render import gradebook


class Row(NamedTuple):
    """One student's row, plain: what the gradebook file and the class summary need."""

    line: str
    """The student's line of ``gradebook.csv``, with its newline."""
    score: float
    graded: bool
    statuses: dict[str, str]
    diagnoses: dict[str, Sequence[str]]


def row_text(
    result: StudentResult, kept_warnings: tuple[str, ...], answer_ids: Sequence[str]
) -> str:
    """The row as one line of compact JSON (ASCII, no newline): the gradebook line, and
    the result without its answers and messages, with only the warnings starting with
    one of ``kept_warnings`` (they go in the gradebook's status column)."""
    kept = tuple(w for w in result.warnings if w.startswith(kept_warnings))
    row = result if kept == result.warnings else replace(result, warnings=kept)
    return dumps_compact(
        [
            gradebook.csv_line(gradebook.row(row, answer_ids)),
            row.student_id,
            row.source,
            row.score,
            row.max_score,
            row.status,
            row.error,
            list(row.warnings),
            [
                [item.id, item.score, item.max_score, item.status, list(item.diagnoses)]
                for item in row.items
            ],
        ]
    )


def row_from_text(text: str | bytes) -> StudentResult:
    """The row's result (without answers and messages), from ``row_text``."""
    _, student_id, source, score, max_score, status, error, warnings, items = json.loads(text)
    return StudentResult(
        student_id=student_id,
        source=source,
        score=score,
        max_score=max_score,
        status=status,
        error=error,
        items=tuple(
            ItemResult(
                id=answer_id,
                score=item_score,
                max_score=item_max,
                status=item_status,
                message="",
                diagnoses=tuple(codes),
            )
            for answer_id, item_score, item_max, item_status, codes in items
        ),
        warnings=tuple(warnings),
    )


def plain_row(text: str | bytes) -> Row:
    """The row's gradebook line and summary counts, from ``row_text`` (no objects per
    answer are made: this runs once per student at the end of a batch)."""
    line, _, _, score, _, status, _, _, items = json.loads(text)
    return Row(
        line=line,
        score=score,
        graded=status == "graded",
        statuses={item[0]: item[3] for item in items},
        diagnoses={item[0]: item[4] for item in items if item[4]},
    )


class LineStore:
    """Lines of text by position, on disk; a line can be replaced (a later duplicate
    submission). Memory: eight bytes per line (the offset of its current text).
    """

    def __init__(self) -> None:
        # held for the store's life, closed by close(): no context manager fits
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._offsets = array("q")
        self._end = 0

    def append(self, text: str) -> int:
        """Store a new line (``text`` has no line break); its position."""
        self._offsets.append(self._write(text))
        return len(self._offsets) - 1

    def replace(self, position: int, text: str) -> None:
        """The line at ``position`` is now ``text`` (the old text stays, unreferenced)."""
        self._offsets[position] = self._write(text)

    def _write(self, text: str) -> int:
        offset = self._end
        # surrogatepass: a student's lone surrogate (a JSON escape) comes back as it was
        data = text.encode("utf-8", "surrogatepass") + b"\n"
        self._file.seek(offset)
        self._file.write(data)
        self._end += len(data)
        return offset

    def __len__(self) -> int:
        return len(self._offsets)

    def _line(self, index: int) -> bytes:
        self._file.seek(self._offsets[index])
        return self._file.readline()

    def _lines(self) -> Iterator[bytes]:
        """Read sequentially, seeking only past replaced lines (or after a lookup)."""
        self._file.flush()
        for offset in self._offsets:
            if self._file.tell() != offset:
                self._file.seek(offset)
            yield self._file.readline()

    def close(self) -> None:
        self._file.close()


class RecordStore(LineStore, Sequence[StudentResult]):
    """The ``results.jsonl`` records of the students who count (a later duplicate
    replaces the earlier), read back as full results (``restore``: the record's result
    with what the key adds) for the exports, one at a time."""

    def __init__(self, restore: Callable[[dict[str, Any]], StudentResult]) -> None:
        super().__init__()
        self._restore = restore

    @overload
    def __getitem__(self, index: int) -> StudentResult: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[StudentResult]: ...
    def __getitem__(self, index: int | slice) -> StudentResult | Sequence[StudentResult]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._restore(json.loads(self._line(index).decode("utf-8", "surrogatepass")))

    def __iter__(self) -> Iterator[StudentResult]:
        return (
            self._restore(json.loads(line.decode("utf-8", "surrogatepass")))
            for line in self._lines()
        )


class RowStore(LineStore, Sequence[StudentResult]):
    """Rows by position (``row_text``), on disk, read back as results without answers
    and messages, or as plain ``Row``s for the gradebook."""

    @overload
    def __getitem__(self, index: int) -> StudentResult: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[StudentResult]: ...
    def __getitem__(self, index: int | slice) -> StudentResult | Sequence[StudentResult]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return row_from_text(self._line(index))

    def __iter__(self) -> Iterator[StudentResult]:
        """Every row's result in position order."""
        return (row_from_text(line) for line in self._lines())

    def rows(self) -> Iterator[Row]:
        """Every row, plain, in position order."""
        return (plain_row(line) for line in self._lines())
