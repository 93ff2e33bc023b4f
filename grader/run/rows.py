"""The gradebook rows of a batch, kept in a temporary file rather than in memory.

A row is what the gradebook, the class summary and the LMS exports need of a student's
result: the scores, statuses and diagnoses of each answer, not the answers or messages,
and the student's gradebook line, formatted where the result was made (in a ``--jobs``
worker). For a class of 100,000 even that is too much to hold as objects (a result with
its items is some kilobytes), so each row is appended to an anonymous temporary file as
one line of compact JSON; ``RowStore`` reads them back in order, as ``StudentResult``s
for the exports and as plain ``Row``s for the gradebook.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import IO, NamedTuple, overload

from grader.grading.results import ItemResult, StudentResult
from grader.jsontext import dumps_compact
from grader.render import gradebook


class Row(NamedTuple):
    """One student's row, plain: what the gradebook file and the class summary need."""

    line: str
    """The student's line of ``gradebook.csv``, with its newline."""
    student_id: str
    score: float
    graded: bool
    statuses: dict[str, str]
    diagnoses: dict[str, Sequence[str]]
    scores: dict[str, float]


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
    """The row's gradebook line and what the summary and statistics count, from
    ``row_text`` (no objects per answer are made: this runs once per student at the end
    of a batch)."""
    line, student_id, _, score, _, status, _, _, items = json.loads(text)
    return Row(
        line=line,
        student_id=student_id,
        score=score,
        graded=status == "graded",
        statuses={item[0]: item[3] for item in items},
        diagnoses={item[0]: item[4] for item in items if item[4]},
        scores={item[0]: item[1] for item in items},
    )


class RowStore(Sequence[StudentResult]):
    """Rows by position, on disk (a ``LineStore`` of ``row_text`` lines); a row can be
    replaced (a later duplicate submission).

    Memory: eight bytes per student (the offset of its current row in the file).
    """

    def __init__(self) -> None:
        self._store = LineStore()

    def append(self, text: str) -> int:
        """Store a new row; its position."""
        return self._store.append(text)

    def replace(self, position: int, text: str) -> None:
        """The row at ``position`` is now ``text`` (the old line stays, unreferenced)."""
        self._store.replace(position, text)

    def __len__(self) -> int:
        return len(self._store)

    @overload
    def __getitem__(self, index: int) -> StudentResult: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[StudentResult]: ...
    def __getitem__(self, index: int | slice) -> StudentResult | Sequence[StudentResult]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return row_from_text(self._store.raw(index))

    def __iter__(self) -> Iterator[StudentResult]:
        """Every row's result in position order."""
        return (row_from_text(line) for line in self._store.raw_lines())

    def rows(self) -> Iterator[Row]:
        """Every row, plain, in position order."""
        return (plain_row(line) for line in self._store.raw_lines())

    def close(self) -> None:
        self._store.close()


class LineStore:
    """Lines of text by position in an anonymous temporary file, each replaceable (a
    ``results.jsonl`` record that a later submission of the same id changes); written
    out in position order at the end. Memory: eight bytes a line."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._offsets = array("q")
        self._end = 0

    def append(self, text: str) -> int:
        self._offsets.append(self._write(text))
        return len(self._offsets) - 1

    def replace(self, position: int, text: str) -> None:
        self._offsets[position] = self._write(text)

    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, position: int) -> str:
        return self.raw(position).decode("utf-8").rstrip("\n")

    def raw(self, position: int) -> bytes:
        """The line at ``position`` as stored, with its newline."""
        self._file.seek(self._offsets[position])
        return self._file.readline()

    def _write(self, text: str) -> int:
        offset = self._end
        # a lone surrogate a student's JSON escape made is written as its escape
        data = text.encode("utf-8", "backslashreplace") + b"\n"
        self._file.seek(offset)
        self._file.write(data)
        self._end += len(data)
        return offset

    def raw_lines(self) -> Iterator[bytes]:
        """Every line as stored, in position order: read sequentially, seeking only past
        replaced lines (or after a lookup)."""
        self._file.flush()
        for offset in self._offsets:
            if self._file.tell() != offset:
                self._file.seek(offset)
            yield self._file.readline()

    def copy_to(self, target: IO[bytes]) -> None:
        """Every line, in position order, each with its newline."""
        for line in self.raw_lines():
            target.write(line)

    def close(self) -> None:
        self._file.close()
