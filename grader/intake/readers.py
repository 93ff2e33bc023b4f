"""Finding and reading submission files: a student's JSON, a student's CSV
(``question,answer``), a whole-class CSV (``student_id,<id>,...``), a folder of them, and
a folder of per-student subfolders (student id = subfolder name).

Reading never interprets an answer (that is ``grader.intake.values``) and never stops a batch:
a file that cannot be read becomes an ``Unreadable`` with the reason. Files are untrusted
(``docs/untrusted-input.md``): their size is capped, symbolic links are not followed,
any encoding a spreadsheet writes is decoded, and an answer id given twice is reported
(the last one counts).

Caps (``grader.limits.Limits``, passed as ``limits``): ``max_file_bytes`` per file,
``max_id_length`` characters of a student id, ``max_folder_entries`` entries searched
in one student's folder, ``max_warnings`` unknown ids listed one by one.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import errno
import functools
import io
import json
import os
import re
import stat
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from grader.errors import SubmissionError
from grader.intake.submission import DUPLICATE_ANSWER, Submission, Unreadable
from grader.limits import DEFAULT_LIMITS, Limits

SUFFIXES = (".json", ".csv")
WORKBOOKS = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")
"""Spreadsheet workbooks: reported as unreadable (save as CSV), not silently skipped."""
_DELIMITERS = (",", ";", "\t")
_TEXT_EXPORTS = (".txt", ".tsv")  # Excel saves "Unicode text" as .txt
_LINE_END = re.compile(r"\r\n|\r|\n")
_QUOTED = re.compile(r'"[^"]*"?')
_JSON_INT_DIGITS = 400  # longer integers are read as floats (so as infinite)


def discover(path: Path, *, exclude: Sequence[Path] = ()) -> list[tuple[Path, str | None]]:
    """The submission files under ``path``, each with the student id its folder gives.

    A file is itself; in a folder, each ``*.json``/``*.csv`` (and each spreadsheet
    workbook, to be reported) at the top, and each subfolder (its name is the student
    id). Hidden entries, symbolic links' targets and the folders in ``exclude`` (the
    output folder) are left out. Sorted, so that a run is repeatable.
    """
    return list(iter_discover(path, exclude=exclude))


def iter_discover(path: Path, *, exclude: Sequence[Path] = ()) -> Iterator[tuple[Path, str | None]]:
    """``discover``, one entry at a time: a list of 100,000 ``Path``s is 35 MB, most of
    the memory `grade` needs for a class that large (``grader.run.batch`` keeps names)."""
    if path.is_file():
        yield path, None
        return
    if not path.is_dir():
        raise SubmissionError("no such file or folder", source=str(path))
    excluded = {_resolved(each) for each in exclude}
    try:
        listing = _listing(path)
    except OSError as error:
        raise SubmissionError(
            f"cannot be listed: {error.strerror or error}", source=str(path)
        ) from None
    # Performance: resolving every child cost 45 µs a file, most of `discover` (profile of
    # `grade` on 10,000 files); a child that is no symbolic link resolves to its name in
    # the resolved folder, so only links are resolved one by one.
    resolved_folder = _resolved(path) if excluded else path
    for name, kind in listing:
        child = path / name
        if excluded and (_resolved(child) if kind & _LINK else resolved_folder / name) in excluded:
            continue
        suffix = child.suffix.lower()
        if kind & _LINK:
            if suffix in SUFFIXES or kind & _DIR:
                yield child, None if suffix in SUFFIXES else name
        elif kind & _FILE and suffix in SUFFIXES + WORKBOOKS:
            yield child, None
        elif kind & _DIR:
            yield child, name


_LINK, _FILE, _DIR = 1, 2, 4


def _listing(folder: Path) -> list[tuple[str, int]]:
    """The folder's entries but hidden ones, sorted by name, each with what it is (a
    symbolic link, a regular file, a folder: a link's target decides the last two).

    Performance: ``scandir`` says what each entry is from the listing itself, where a
    ``stat`` per entry and per question (link? file? folder?) cost three system calls a
    file (profile of `grade` on 10,000 files).
    """
    listing: list[tuple[str, int]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            link = False
            try:
                link = entry.is_symlink()
                kind = (
                    (_LINK if link else 0)
                    | (_FILE if entry.is_file(follow_symlinks=link) else 0)
                    | (_DIR if entry.is_dir(follow_symlinks=link) else 0)
                )
            except OSError:  # a link to nowhere readable (a loop): still a link, reported
                kind = _LINK if link else 0
            listing.append((name, kind))
    # names sort as their paths do (pathlib compares names case-blind on Windows)
    if os.name == "nt":
        listing.sort(key=lambda each: each[0].lower())
    else:
        listing.sort()
    return listing


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python 3.11)
        return path.absolute()


def answers_file(folder: Path, *, limits: Limits = DEFAULT_LIMITS) -> Path:
    """The one answers file in a student's folder (``answers.*`` if there are several)."""
    if folder.is_symlink():
        raise SubmissionError("is a symbolic link, which is not followed", source=str(folder))
    candidates, workbooks, links = _folder_files(folder, limits.max_folder_entries)
    if len(candidates) == 1:
        return candidates[0]
    named = [each for each in candidates if each.stem.lower() == "answers"]
    if len(named) == 1:
        return named[0]
    if not candidates:
        extra = ""
        if workbooks and workbooks[0].suffix.lower() in _TEXT_EXPORTS:
            extra = f"; found {workbooks[0].name}: name it answers.csv"
        elif workbooks:
            extra = f"; found {workbooks[0].name}: save it as CSV (comma or semicolon separated)"
        elif links:
            extra = f"; {links[0].name} is a symbolic link, which is not followed"
        raise SubmissionError(
            f"no answers file (*.json or *.csv) in this folder{extra}", source=str(folder)
        )
    listed = ", ".join(str(each.relative_to(folder)) for each in candidates[:5])
    raise SubmissionError(
        f"several answers files ({listed}); keep one, or name it answers.json or answers.csv",
        source=str(folder),
    )


def _folder_files(folder: Path, most: int) -> tuple[list[Path], list[Path], list[Path]]:
    """Answers files, workbooks (and text exports) and symbolic links under ``folder``,
    hidden ones left out."""
    candidates: list[Path] = []
    workbooks: list[Path] = []
    links: list[Path] = []
    seen = 0

    def failed(error: OSError) -> None:
        raise SubmissionError(f"cannot be listed: {error.strerror or error}", source=str(folder))

    for root, dirs, files in os.walk(folder, onerror=failed, followlinks=False):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        seen += len(dirs) + len(files)
        if seen > most:
            raise SubmissionError(
                f"more than {most:,} files and folders; submit the answers file on its own",
                source=str(folder),
            )
        for name in files:
            if name.startswith("."):
                continue
            each = Path(root) / name
            suffix = each.suffix.lower()
            if suffix in SUFFIXES and each.is_symlink():
                links.append(each)
            elif suffix in SUFFIXES:
                candidates.append(each)
            elif suffix in WORKBOOKS + _TEXT_EXPORTS:
                workbooks.append(each)
    workbooks.sort(key=lambda each: (each.suffix.lower() in _TEXT_EXPORTS, each))
    return sorted(candidates), workbooks, sorted(links)


def read_all(
    path: Path,
    known_ids: Sequence[str],
    *,
    exclude: Sequence[Path] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Submission | Unreadable]:
    """Every submission under ``path``, in a repeatable order; failures as ``Unreadable``."""
    for location, folder_id in discover(path, exclude=exclude):
        yield from read_entry(location, folder_id, known_ids, limits=limits)


def read_entry(
    location: Path,
    folder_id: str | None,
    known_ids: Sequence[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Submission | Unreadable]:
    """The submissions of one entry ``discover`` found; failures as ``Unreadable``.

    (Separate from ``read_all`` so that ``grade --jobs`` workers read the entries the
    parent discovered exactly as one process would.)
    """
    try:
        file = answers_file(location, limits=limits) if folder_id is not None else location
        return read_file(file, known_ids, student_id=folder_id, limits=limits)
    except SubmissionError as error:
        student_id = clean_id(folder_id or location.stem, limits=limits)
        return [Unreadable(student_id, str(location), error.detail)]


def read_file(
    path: Path,
    known_ids: Sequence[str],
    *,
    student_id: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Submission | Unreadable]:
    """The submissions in one file (a class CSV holds many)."""
    source = str(path)
    suffix = path.suffix.lower()
    if suffix in WORKBOOKS:
        raise SubmissionError(
            "is a spreadsheet workbook: save it as CSV (comma or semicolon separated) "
            "or as Unicode text",
            source=source,
        )
    data = read_bytes(path, max_file_bytes=limits.max_file_bytes, follow_symlinks=False)
    text = decode(data, source)
    default_id = clean_id(student_id or path.stem, limits=limits)
    if suffix == ".json":
        return [read_json(text, source, known_ids, default_id, limits=limits)]
    return read_csv(text, source, known_ids, default_id, limits=limits)


def read_bytes(
    path: Path,
    *,
    max_file_bytes: int = DEFAULT_LIMITS.max_file_bytes,
    follow_symlinks: bool = True,
) -> bytes:
    """The file's bytes, refusing files larger than ``max_file_bytes`` before reading,
    anything but a regular file, and (``follow_symlinks=False``) a symbolic link."""
    limit = max_file_bytes
    too_large = (
        f"more than the {limit:,} bytes allowed (an instructor can raise Limits.max_file_bytes)"
    )
    # One open and one fstat (profile of `grade`: four stats a file cost more than
    # reading it); O_NONBLOCK so that a FIFO is refused rather than waited on.
    flags = os.O_RDONLY | _OPEN_FLAGS
    if not follow_symlinks:
        if not _NOFOLLOW and path.is_symlink():  # a system without O_NOFOLLOW
            raise SubmissionError("is a symbolic link, which is not followed", source=str(path))
        flags |= _NOFOLLOW
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if not follow_symlinks and (error.errno == errno.ELOOP or path.is_symlink()):
            raise SubmissionError(
                "is a symbolic link, which is not followed", source=str(path)
            ) from None
        if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            # missing, a path through a file, a link loop: nothing regular to read
            raise SubmissionError("is not a regular file", source=str(path)) from None
        raise SubmissionError(
            f"cannot be read: {error.strerror or error}", source=str(path)
        ) from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise SubmissionError("is not a regular file", source=str(path))
        if status.st_size > limit:
            raise SubmissionError(
                f"the file is {status.st_size:,} bytes, {too_large}", source=str(path)
            )
        chunks: list[bytes] = []
        wanted = limit + 1  # the file may have grown since fstat
        while wanted > 0:
            chunk = os.read(descriptor, min(wanted, max(status.st_size + 1, 65536)))
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
    except OSError as error:
        raise SubmissionError(
            f"cannot be read: {error.strerror or error}", source=str(path)
        ) from None
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > limit:
        raise SubmissionError(f"the file is {too_large}", source=str(path))
    return data


_OPEN_FLAGS = (
    getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def decode(data: bytes, source: str) -> str:
    """The text of a file as editors and spreadsheets save it: UTF-8 (with or without
    BOM), UTF-16 or UTF-32 (with a BOM, or UTF-16 without one, as the NUL bytes show),
    else Windows-1252, else Latin-1 (which reads any bytes)."""
    del source  # decoding never fails: undecodable bytes become U+FFFD
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return data.decode(utf16, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` if most odd (even) bytes of the start are NUL: ASCII text."""
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.6 * half and even < 0.1 * half:
        return "utf-16-le"
    if even > 0.6 * half and odd < 0.1 * half:
        return "utf-16-be"
    return None


def clean_id(student_id: str, *, limits: Limits = DEFAULT_LIMITS) -> str:
    """A student id without control or formatting characters and surrounding spaces
    (an id far beyond ``max_id_length`` is cut first, still too long, to bound the work)."""
    student_id = student_id[: 4 * limits.max_id_length + 1]
    if student_id.isascii() and student_id.isprintable():  # nothing to drop: fast path
        return " ".join(student_id.split())
    kept = "".join(
        " " if char.isspace() else char
        for char in student_id
        if char.isspace() or unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    return " ".join(kept.split())


def _student_id(value: Any, default_id: str, source: str, limits: Limits) -> str:
    if value is None:
        return default_id
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SubmissionError(f"student_id must be text, got {_kind(value)}", source=source)
    if isinstance(value, int) and value.bit_length() > 1_000:
        raise SubmissionError("student_id is too long", source=source)
    student_id = clean_id(str(value), limits=limits)
    if not student_id:
        raise SubmissionError("student_id must be a non-empty string", source=source)
    if len(student_id) > limits.max_id_length:
        raise SubmissionError(
            f"student_id is longer than {limits.max_id_length} characters", source=source
        )
    return student_id


# --- JSON ---------------------------------------------------------------------------


class _JsonParse:
    """``json.loads`` with duplicate keys recorded. ``NaN``, ``Infinity`` and numbers too
    large for a float (``1e400``) are read as non-finite floats (graded wrong, recorded in
    ``results.jsonl`` as the strings ``"NaN"``/``"Infinity"``, strict JSON)."""

    def __init__(self) -> None:
        # by id of the object; the object is kept, so that its id is not reused
        self.duplicates: dict[int, tuple[dict[str, Any], list[str]]] = {}
        # built once: ``json.loads`` with a hook builds a decoder per call (40 µs a file)
        self._decoder = json.JSONDecoder(object_pairs_hook=self.object_pairs)

    def object_pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        twice: list[str] = []
        for name, value in pairs:
            if name in result and name not in twice:
                twice.append(name)
            result[name] = value
        if twice:
            self.duplicates[id(result)] = (result, twice)
        return result

    def twice(self, document: dict[str, Any]) -> list[str]:
        """The keys given more than once in ``document`` (one of the parsed objects)."""
        return list(self.duplicates.get(id(document), ({}, []))[1])

    @staticmethod
    def integer(text: str) -> int | float:
        return int(text) if len(text) <= _JSON_INT_DIGITS else float(text)

    def loads(self, text: str) -> Any:
        """Parse one document (forgetting the duplicates of the one before)."""
        self.duplicates.clear()
        if text.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        try:
            return self._decoder.decode(text)
        except ValueError as error:
            if isinstance(error, json.JSONDecodeError):
                raise
        # An integer too long for int() (4,300 digits) raises ValueError: read again with
        # an integer hook (a Python call per integer, so only when needed).
        self.duplicates.clear()
        return json.loads(text, object_pairs_hook=self.object_pairs, parse_int=self.integer)


_PARSERS = threading.local()


def _parser() -> _JsonParse:
    """This thread's parser (its duplicate-key record is per document, so per thread)."""
    parser: _JsonParse | None = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = _JsonParse()
    return parser


def read_json(
    text: str,
    source: str,
    known_ids: Sequence[str],
    default_id: str,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> Submission:
    """One student's JSON file: ``{"student_id": ..., "answers": {id: answer, ...}}``."""
    if not text.strip():
        raise SubmissionError("the file is empty", source=source)
    parser = _parser()
    try:
        data = parser.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionError(
            f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})",
            source=source,
        ) from None
    except RecursionError:
        raise SubmissionError("not readable JSON: nested too deeply", source=source) from None
    if not isinstance(data, dict):
        raise SubmissionError(
            f'expected a JSON object {{"student_id": ..., "answers": {{...}}}}, got {_kind(data)}',
            source=source,
        )
    answers = data.get("answers")
    if not isinstance(answers, dict):
        got = "nothing" if answers is None else _kind(answers)
        raise SubmissionError(
            f'expected "answers" to be an object mapping answer ids to answers, got {got}',
            source=source,
        )
    warnings = [
        f'{DUPLICATE_ANSWER}: "{_short(name)}" is given twice in the file; the last one is used'
        for name in parser.twice(data)
    ]
    student_id = _student_id(data.get("student_id"), default_id, source, limits)
    stripped: dict[str, Any] = {}
    twice = parser.twice(answers)
    renamed = _case_matches(answers, known_ids)
    warnings += _case_warnings(renamed, limits)
    for name, value in answers.items():
        key = renamed.get(str(name), str(name)).strip()
        if key in stripped and key not in twice:
            twice.append(key)
        stripped[key] = value
    warnings += [
        f"{DUPLICATE_ANSWER}: {_short(name)} is answered twice in the file; the last answer "
        "is the one graded"
        for name in twice
    ]
    warnings += _unknown_ids(stripped, known_ids, limits)
    return Submission(student_id, source, stripped, tuple(warnings))


# --- CSV ----------------------------------------------------------------------------


def sniff_delimiter(first_line: str) -> str:
    """The delimiter of a header line: the most frequent of , ; tab outside quotes (in
    the line's first 100,000 characters: a header is short, a hostile line is not)."""
    outside = _QUOTED.sub("", first_line[:100_000])
    counts = {delimiter: outside.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_rows(text: str, source: str, delimiter: str | None = None) -> list[list[str]]:
    """Rows of a CSV text, trailing empty cells and empty rows dropped."""
    if delimiter is None:
        delimiter = sniff_delimiter(_LINE_END.split(text.lstrip("\r\n"), maxsplit=1)[0])
    # A cell is as long as the file allows; each answer's own cap is grader.intake.values'.
    # (csv's limit is process-wide; it is only ever raised, never lowered.)
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            while row and not row[-1].strip():
                row.pop()
            if row:
                rows.append(row)
    except csv.Error as error:
        raise SubmissionError(
            f"not a readable CSV (line {reader.line_num}: {error})", source=source
        ) from None
    return rows


def read_csv(
    text: str,
    source: str,
    known_ids: Sequence[str],
    default_id: str,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Submission | Unreadable]:
    """A student's ``question,answer`` file or a class's ``student_id,<id>,...`` file,
    delimited by ``,``, ``;`` or tab (the header line decides)."""
    delimiter = sniff_delimiter(_LINE_END.split(text.lstrip("\r\n"), maxsplit=1)[0])
    rows = csv_rows(text, source, delimiter)
    if not rows:
        raise SubmissionError("the file is empty", source=source)
    decimal_comma = delimiter != ","
    header = [_header_name(cell) for cell in rows[0]]
    if header[:2] == ["question", "answer"]:
        return [_read_student_csv(rows[1:], source, known_ids, default_id, decimal_comma, limits)]
    if header[:1] == ["student_id"]:
        return list(_read_class_csv(rows, source, known_ids, decimal_comma, limits))
    shown = [_short(cell) for cell in rows[0][:3]]
    raise SubmissionError(
        f"unrecognised header {shown!r}: expected 'question,answer' (one student) "
        "or 'student_id,<answer id>,...' (a whole class)",
        source=source,
    )


def _header_name(cell: str) -> str:
    return "_".join(cell.strip().lower().replace("-", " ").split())


def _read_student_csv(
    rows: list[list[str]],
    source: str,
    known_ids: Sequence[str],
    student_id: str,
    decimal_comma: bool,
    limits: Limits,
) -> Submission:
    answers: dict[str, Any] = {}
    lines: dict[str, list[int]] = {}
    warnings: list[str] = []
    renamed = _case_matches((row[0].strip() for row in rows), known_ids)
    warnings += _case_warnings(renamed, limits)
    for number, row in enumerate(rows, start=2):
        question = row[0].strip()
        question = renamed.get(question, question)
        if not question:
            continue
        if len(row) > 2 and any(cell.strip() for cell in row[2:]):
            warnings.append(
                f"line {number}: {_short(question)}: more cells than 'question,answer' "
                "(put a vector or matrix in quotes); only the first answer cell was read"
            )
        lines.setdefault(question, []).append(number)
        answers[question] = row[1] if len(row) > 1 else ""
    for question, numbers in lines.items():
        if len(numbers) > 1:
            listed = ", ".join(str(n) for n in numbers[:5])
            listed += f", ... ({len(numbers):,} times)" if len(numbers) > 5 else ""
            warnings.append(
                f"{DUPLICATE_ANSWER}: {_short(question)} is answered on lines {listed}; "
                f"the last (line {numbers[-1]}) is the one graded"
            )
    warnings.extend(_unknown_ids(answers, known_ids, limits))
    return Submission(student_id, source, answers, tuple(warnings), decimal_comma)


def _read_class_csv(
    rows: list[list[str]],
    source: str,
    known_ids: Sequence[str],
    decimal_comma: bool,
    limits: Limits,
) -> Iterator[Submission | Unreadable]:
    header = [cell.strip() for cell in rows[0]]
    renamed = _case_matches(header[1:], known_ids)
    columns = [renamed.get(name, name) for name in header[1:]]
    header_warnings = _case_warnings(renamed, limits) + _unknown_ids(
        dict.fromkeys(columns), known_ids, limits
    )
    duplicates = sorted(name for name, n in Counter(columns).items() if n > 1 and name)
    if duplicates:
        header_warnings.insert(
            0,
            f"{DUPLICATE_ANSWER}: the columns {', '.join(_short(d) for d in duplicates[:5])}"
            f"{' ...' if len(duplicates) > 5 else ''} appear "
            "more than once; the last of each is the one graded",
        )
    for number, row in enumerate(rows[1:], start=2):
        student_id = clean_id(row[0], limits=limits) if row else ""
        where = f"{source} line {number}"
        if not student_id:
            yield Unreadable(
                f"{Path(source).stem}-line{number}", where, "the row has no student_id"
            )
            continue
        if len(student_id) > limits.max_id_length:
            yield Unreadable(
                f"{Path(source).stem}-line{number}",
                where,
                f"the student_id is longer than {limits.max_id_length} characters",
            )
            continue
        if len(row) > len(header):
            yield Unreadable(
                student_id, where, f"the row has {len(row)} cells but the header only {len(header)}"
            )
            continue
        answers = {name: cell for name, cell in zip(columns, row[1:], strict=False) if name}
        yield Submission(student_id, where, answers, tuple(header_warnings), decimal_comma)


@functools.lru_cache(maxsize=16)
def _folded(known_ids: tuple[str, ...]) -> tuple[frozenset[str], Mapping[str, tuple[str, ...]]]:
    """The answer ids, and by case-folded id the ids that fold to it (once per rubric)."""
    by_folded: dict[str, tuple[str, ...]] = {}
    for answer_id in known_ids:
        by_folded[answer_id.casefold()] = (*by_folded.get(answer_id.casefold(), ()), answer_id)
    return frozenset(known_ids), MappingProxyType(by_folded)


def _case_matches(names: Iterable[str], known_ids: Sequence[str]) -> dict[str, str]:
    """Names that are an answer id but for case and surrounding spaces (``Q2d.yhat``,
    `` q1.yhat``), mapped to that id when exactly one id fits."""
    known, by_folded = _folded(tuple(known_ids))
    found: dict[str, str] = {}
    for name in names:
        if name in known or name in found or len(name) > 200:
            continue
        fits = by_folded.get(name.strip().casefold(), ())
        if len(fits) == 1:
            found[name] = fits[0]
    return found


def _case_warnings(renamed: dict[str, str], limits: Limits) -> list[str]:
    return [
        f"answer id '{_short(name)}' read as {answer_id} (write ids as the rubric does)"
        for name, answer_id in list(renamed.items())[: limits.max_warnings]
    ]


def _unknown_ids(answers: Iterable[str], known_ids: Sequence[str], limits: Limits) -> list[str]:
    most = limits.max_warnings
    known = set(known_ids)
    unknown = [answer_id for answer_id in answers if answer_id and answer_id not in known]
    warnings = []
    for answer_id in unknown[:most]:
        close = difflib.get_close_matches(answer_id, known_ids, n=1) if len(answer_id) < 100 else []
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"unknown answer id '{_short(answer_id)}'{hint}: not graded")
    if len(unknown) > most:
        warnings.append(f"... and {len(unknown) - most:,} more unknown answer ids: not graded")
    return warnings


def _short(text: str) -> str:
    """A name from a file, cut to a length a message can show."""
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), type(value).__name__)
