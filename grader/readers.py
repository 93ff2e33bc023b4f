"""Finding and reading submission files: a student's JSON, a student's CSV
(``question,answer``), a whole-class CSV (``student_id,<id>,...``), a folder of them, and
a folder of per-student subfolders (student id = subfolder name).

Reading never interprets an answer (that is ``grader.values``) and never stops a batch:
a file that cannot be read becomes an ``Unreadable`` with the reason.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from grader.errors import SubmissionError
from grader.submission import Submission, Unreadable

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest submission file read (a class CSV of tens of thousands of rows fits)."""

SUFFIXES = (".json", ".csv")
_DELIMITERS = (",", ";", "\t")


def discover(path: Path) -> list[tuple[Path, str | None]]:
    """The submission files under ``path``, each with the student id its folder gives.

    A file is itself; in a folder, each ``*.json``/``*.csv`` at the top, and each
    subfolder holding one answers file (its name is the student id). Sorted, so that
    a run is repeatable.
    """
    if path.is_file():
        return [(path, None)]
    if not path.is_dir():
        raise SubmissionError("no such file or folder", source=str(path))
    found: list[tuple[Path, str | None]] = []
    for child in sorted(path.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_file() and child.suffix.lower() in SUFFIXES:
            found.append((child, None))
        elif child.is_dir():
            found.append((child, child.name))
    return found


def answers_file(folder: Path) -> Path:
    """The one answers file in a student's folder (``answers.*`` if there are several)."""
    candidates = sorted(
        each
        for each in folder.rglob("*")
        if each.is_file()
        and each.suffix.lower() in SUFFIXES
        and not any(part.startswith(".") for part in each.relative_to(folder).parts)
    )
    if len(candidates) == 1:
        return candidates[0]
    named = [each for each in candidates if each.stem.lower() == "answers"]
    if len(named) == 1:
        return named[0]
    if not candidates:
        raise SubmissionError("no answers file (*.json or *.csv) in this folder", source=str(folder))
    listed = ", ".join(str(each.relative_to(folder)) for each in candidates[:5])
    raise SubmissionError(
        f"several answers files ({listed}); keep one, or name it answers.json or answers.csv",
        source=str(folder),
    )


def read_all(path: Path, known_ids: Sequence[str]) -> Iterator[Submission | Unreadable]:
    """Every submission under ``path``, in a repeatable order; failures as ``Unreadable``."""
    for location, folder_id in discover(path):
        try:
            file = answers_file(location) if location.is_dir() else location
            yield from read_file(file, known_ids, student_id=folder_id)
        except SubmissionError as error:
            yield Unreadable(folder_id or location.stem, str(location), error.detail)


def read_file(
    path: Path, known_ids: Sequence[str], *, student_id: str | None = None
) -> list[Submission | Unreadable]:
    """The submissions in one file (a class CSV holds many)."""
    source = str(path)
    text = decode(read_bytes(path), source)
    if path.suffix.lower() == ".json":
        return [read_json(text, source, known_ids, student_id or path.stem)]
    return read_csv(text, source, known_ids, student_id or path.stem)


def read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SubmissionError(
                f"the file is {size:,} bytes, more than the {MAX_FILE_BYTES:,} allowed",
                source=str(path),
            )
        return path.read_bytes()
    except OSError as error:
        raise SubmissionError(f"cannot be read: {error.strerror or error}", source=str(path)) from None


def decode(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Latin-1 (Windows-1252)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# --- JSON ---------------------------------------------------------------------------


def read_json(text: str, source: str, known_ids: Sequence[str], default_id: str) -> Submission:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionError(
            f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})", source=source
        ) from None
    except RecursionError:
        raise SubmissionError("not readable JSON: nested too deeply", source=source) from None
    if not isinstance(data, dict):
        raise SubmissionError(
            'expected a JSON object {"student_id": ..., "answers": {...}}, '
            f"got {type(data).__name__}",
            source=source,
        )
    answers = data.get("answers")
    if not isinstance(answers, dict):
        got = "nothing" if answers is None else type(answers).__name__
        raise SubmissionError(
            f'expected "answers" to be an object mapping answer ids to answers, got {got}',
            source=source,
        )
    student_id = data.get("student_id", default_id)
    if not isinstance(student_id, str | int) or isinstance(student_id, bool) or not str(student_id).strip():
        raise SubmissionError("student_id must be a non-empty string", source=source)
    warnings = list(_unknown_ids(answers, known_ids))
    return Submission(str(student_id).strip(), source, dict(answers), tuple(warnings))


# --- CSV ----------------------------------------------------------------------------


def sniff_delimiter(first_line: str) -> str:
    """The delimiter of a header line: the most frequent of , ; tab outside quotes."""
    outside, quoted = [], False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(char)
    counts = {delimiter: outside.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_rows(text: str, source: str) -> list[list[str]]:
    """Rows of a CSV text, trailing empty cells and empty rows dropped."""
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    rows: list[list[str]] = []
    try:
        for row in reader:
            while row and not row[-1].strip():
                row.pop()
            if row:
                rows.append(row)
    except csv.Error as error:
        raise SubmissionError(f"not a readable CSV (line {reader.line_num}: {error})", source=source) from None
    return rows


def read_csv(
    text: str, source: str, known_ids: Sequence[str], default_id: str
) -> list[Submission | Unreadable]:
    rows = csv_rows(text, source)
    if not rows:
        raise SubmissionError("the file is empty", source=source)
    header = [cell.strip().lower() for cell in rows[0]]
    if header[:2] == ["question", "answer"]:
        return [_read_student_csv(rows[1:], source, known_ids, default_id)]
    if header[:1] == ["student_id"]:
        return list(_read_class_csv(rows, source, known_ids))
    raise SubmissionError(
        f"unrecognised header {rows[0][:3]!r}: expected 'question,answer' (one student) "
        "or 'student_id,<answer id>,...' (a whole class)",
        source=source,
    )


def _read_student_csv(
    rows: list[list[str]], source: str, known_ids: Sequence[str], student_id: str
) -> Submission:
    answers: dict[str, Any] = {}
    warnings: list[str] = []
    for number, row in enumerate(rows, start=2):
        question = row[0].strip()
        if not question:
            continue
        if len(row) > 2 and any(cell.strip() for cell in row[2:]):
            warnings.append(
                f"line {number}: {question}: more cells than 'question,answer' "
                "(put a vector or matrix in quotes); only the first answer cell was read"
            )
        if question in answers:
            warnings.append(f"{question} is answered twice (line {number} is the one graded)")
        answers[question] = row[1] if len(row) > 1 else ""
    warnings.extend(_unknown_ids(answers, known_ids))
    return Submission(student_id, source, answers, tuple(warnings))


def _read_class_csv(
    rows: list[list[str]], source: str, known_ids: Sequence[str]
) -> Iterator[Submission | Unreadable]:
    header = [cell.strip() for cell in rows[0]]
    columns = header[1:]
    header_warnings = list(_unknown_ids(dict.fromkeys(columns), known_ids))
    duplicates = sorted({name for name in columns if columns.count(name) > 1 and name})
    if duplicates:
        header_warnings.append(
            f"columns {', '.join(duplicates)} appear more than once (the last is graded)"
        )
    for number, row in enumerate(rows[1:], start=2):
        student_id = row[0].strip() if row else ""
        where = f"{source} line {number}"
        if not student_id:
            yield Unreadable(f"{Path(source).stem}-line{number}", where, "the row has no student_id")
            continue
        if len(row) > len(header):
            yield Unreadable(
                student_id, where, f"the row has {len(row)} cells but the header only {len(header)}"
            )
            continue
        answers = {name: cell for name, cell in zip(columns, row[1:], strict=False) if name}
        yield Submission(student_id, where, answers, tuple(header_warnings))


def _unknown_ids(answers: Iterable[str], known_ids: Sequence[str]) -> Iterator[str]:
    known = set(known_ids)
    for answer_id in answers:
        if answer_id and answer_id not in known:
            close = difflib.get_close_matches(answer_id, known_ids, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            yield f"unknown answer id '{answer_id}'{hint}: not graded"
