"""Finding and reading submission files: a student's JSON, a student's CSV
(``question,answer``), a whole-class CSV (``student_id,<id>,...``), a folder of them, and
a folder of per-student subfolders (student id = subfolder name).

Reading never interprets an answer (that is ``grader.intake.values``) and never stops a batch:
a file that cannot be read becomes an ``Unreadable`` with the reason. Files are untrusted
(``docs/untrusted-input.md``): their size is capped, symbolic links are not followed,
any encoding a spreadsheet writes is decoded, and an answer id given twice is reported
(the last one counts).

Identity (``grader.intake.identity`` has the rule for one id): in a student's folder
the folder's name is the student id, and a ``student_id`` written in the file that
differs is a warning on that row, never another row; a loose file's id is its
``student_id``, or its stem. A whole-class CSV is read as a class only where the
instructor put it (the file given, or the top of the folder given: ``classes=True``);
in a student's folder, or uploaded by a student (``grader check``, Classroom,
Gradescope), it may hold that one student's row only.

Caps (``grader.limits.Limits``, passed as ``limits``): ``max_file_bytes`` per file,
``max_id_length`` characters of a student id, ``max_folder_entries`` entries searched
and ``max_folder_depth`` levels of folders in one student's folder, ``max_warnings``
unknown ids listed one by one.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import errno
import io
import json
import os
import re
import stat
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from grader.deadline import EVERY, Overtime, checkpoint, reading_overtime, within
from grader.errors import SubmissionError
from grader.intake.identity import (
    canonical_id,
    fallback_id,
    looks_like_placeholder,
    shown,
    visible,
)
from grader.intake.lms_names import lms_entry
from grader.intake.submission import DUPLICATE_ANSWER, ID_MISMATCH, Submission, Unreadable
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
    candidates, workbooks, links = _folder_files(folder, limits)
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


def _folder_files(folder: Path, limits: Limits) -> tuple[list[Path], list[Path], list[Path]]:
    """Answers files, workbooks (and text exports) and symbolic links under ``folder``,
    hidden ones left out."""
    candidates: list[Path] = []
    workbooks: list[Path] = []
    links: list[Path] = []
    seen = 0

    # An explicit stack, not os.walk (recursive in Python 3.11: 1,000 nested folders
    # raised RecursionError), with a depth cap.
    stack: list[tuple[Path, int]] = [(folder, 0)]
    while stack:
        root, depth = stack.pop()
        try:
            with os.scandir(root) as listing:
                entries = [(entry.name, _kind_of(entry)) for entry in listing]
        except OSError as error:
            raise SubmissionError(
                f"cannot be listed: {error.strerror or error}", source=str(folder)
            ) from None
        seen += len(entries)
        if seen > limits.max_folder_entries:
            raise SubmissionError(
                f"more than {limits.max_folder_entries:,} files and folders; submit the answers "
                "file on its own",
                source=str(folder),
            )
        for name, kind in sorted(entries, reverse=True):
            if name.startswith("."):
                continue
            each = root / name
            if kind == "dir":
                if depth + 1 > limits.max_folder_depth:
                    raise SubmissionError(
                        f"folders nested more than {limits.max_folder_depth} deep; submit the "
                        "answers "
                        "file nearer the top",
                        source=str(folder),
                    )
                stack.append((each, depth + 1))
                continue
            suffix = each.suffix.lower()
            if suffix in SUFFIXES and kind == "link":
                links.append(each)
            elif suffix in SUFFIXES and kind == "file":
                candidates.append(each)
            elif suffix in WORKBOOKS + _TEXT_EXPORTS:
                workbooks.append(each)
    workbooks.sort(key=lambda each: (each.suffix.lower() in _TEXT_EXPORTS, each))
    return sorted(candidates), workbooks, sorted(links)


def _kind_of(entry: os.DirEntry[str]) -> str:
    """``dir`` (a folder, not a link to one), ``link``, ``file`` or ``other``."""
    try:
        if entry.is_symlink():
            return "link"
        if entry.is_dir(follow_symlinks=False):
            return "dir"
        return "file" if entry.is_file(follow_symlinks=False) else "other"
    except OSError:
        return "other"


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
    # In an LMS bulk download the id the LMS encoded in the name is the student's.
    lms = lms_entry(location.name, folder=folder_id is not None)
    if folder_id is not None:
        try:
            folder_id = canonical_id(folder_id, what="folder name", max_length=limits.max_id_length)
        except SubmissionError as error:
            return [Unreadable(fallback_id(folder_id), str(location), error.detail)]
    student_id = folder_id if lms is None else lms.student_id
    named_by = None if lms is None else lms.describe()
    try:
        file = answers_file(location, limits=limits) if folder_id is not None else location
        with within(limits.max_seconds_per_submission):
            read = read_file(
                file, known_ids, student_id=student_id, limits=limits, named_by=named_by
            )
    except SubmissionError as error:
        read = [Unreadable(student_id or stem_id(location, limits), str(location), error.detail)]
    except Overtime:
        read = [
            Unreadable(
                student_id or stem_id(location, limits),
                str(location),
                reading_overtime(limits.max_seconds_per_submission),
            )
        ]
    if lms is None:
        return read
    note = f"{LMS_DOWNLOAD}: read as {lms.describe()}, the student its name gives"
    return [
        replace(each, warnings=(note, *each.warnings)) if isinstance(each, Submission) else each
        for each in read
    ]


LMS_DOWNLOAD = "LMS download"
"""How the note on a submission of a Canvas or Moodle bulk download begins."""


def stem_id(path: Path, limits: Limits = DEFAULT_LIMITS) -> str:
    """The id a loose file's stem gives (``fallback_id`` when the stem is refused)."""
    try:
        return canonical_id(path.stem, what="file name", max_length=limits.max_id_length)
    except SubmissionError:
        return fallback_id(path.stem)


def read_file(
    path: Path,
    known_ids: Sequence[str],
    *,
    student_id: str | None = None,
    classes: bool = True,
    limits: Limits = DEFAULT_LIMITS,
    named_by: str | None = None,
) -> list[Submission | Unreadable]:
    """The submissions in one file (a class CSV holds many).

    ``student_id``: the id where the file was found (its student's folder), which no
    ``student_id`` in the file can change. ``classes=False``: the file is one student's
    (an upload): a class CSV of more than one row is refused.
    """
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
    where = Where(path.stem, student_id, limits, named_by=named_by)
    if suffix == ".json":
        return [read_json(text, source, known_ids, where, limits=limits)]
    classes = classes and student_id is None
    return read_csv(text, source, known_ids, where, classes=classes, limits=limits)


class Where:
    """Where a file was found, which decides its student id: ``folder_id``, the name of
    the student's folder (authoritative), else the ``student_id`` the file gives, else
    the file's stem (refused like any id when it cannot be one)."""

    def __init__(
        self,
        stem: str,
        folder_id: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        *,
        named_by: str | None = None,
    ) -> None:
        self.stem = stem
        self.folder_id = folder_id
        self.limits = limits
        self.named_by = named_by
        """What gave ``folder_id`` when not a folder's name (``Canvas user 123456 (...)``:
        an LMS download's file name)."""

    def _place(self, folder_id: str) -> str:
        if self.named_by is not None:
            return f"the download names {self.named_by}, whose id {shown(folder_id)} is the id"
        return f"in a student's folder the folder's name, {shown(folder_id)}, is the id"

    def default(self, source: str) -> str:
        """The id when the file gives none (a ``SubmissionError`` if it cannot be one)."""
        if self.folder_id is not None:
            return self.folder_id
        return canonical_id(
            self.stem, source=source, what="file name", max_length=self.limits.max_id_length
        )

    def resolve(self, written: Any, source: str) -> tuple[str, list[str]]:
        """The student id, from the id ``written`` in the file (None: none was), with
        the warnings it needs."""
        if self.folder_id is not None:
            if written is None:
                return self.folder_id, []
            try:
                claimed = _student_id(written, source, self.limits)
            except SubmissionError as error:
                return self.folder_id, [
                    f"{ID_MISMATCH}: the file's student_id is not used ({error.detail}); "
                    f"{self._place(self.folder_id)}"
                ]
            if claimed == self.folder_id:
                return claimed, []
            if looks_like_placeholder(claimed):
                return self.folder_id, [
                    f"the file's student_id {shown(claimed)} is a template's placeholder; "
                    f"{self._place(self.folder_id)}"
                ]
            if self.named_by is not None:
                return self.folder_id, [
                    f"{ID_MISMATCH}: the file says student_id {shown(claimed)}, but "
                    f"{self._place(self.folder_id)}: graded as {shown(self.folder_id)}"
                ]
            return self.folder_id, [
                f"{ID_MISMATCH}: the file says student_id {shown(claimed)}, but it is in the "
                f"folder of {shown(self.folder_id)}, whose name is the id: graded as "
                f"{shown(self.folder_id)}"
            ]
        if written is None:
            return self.default(source), []
        claimed = _student_id(written, source, self.limits)
        if looks_like_placeholder(claimed):
            stem = self.default(source)
            return stem, [
                f"the file's student_id {shown(claimed)} is a template's placeholder: graded "
                f"as {shown(stem)}, the file's name (write your own id in the file)"
            ]
        return claimed, []


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


def _student_id(value: Any, source: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """The id a file's ``student_id`` value gives (text or an integer), by the rule of
    ``grader.intake.identity``."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SubmissionError(f"student_id must be text, got {_kind(value)}", source=source)
    if isinstance(value, int) and value.bit_length() > 1_000:
        raise SubmissionError("student_id is too long", source=source)
    return canonical_id(
        str(value), source=source, what="student_id", max_length=limits.max_id_length
    )


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
        result = dict(pairs)
        if len(result) < len(pairs):  # some key given twice: which, in order, once each
            checkpoint()
            seen: set[str] = set()
            twice: dict[str, None] = {}
            for name, _ in pairs:
                if name in seen:
                    twice[name] = None
                seen.add(name)
            self.duplicates[id(result)] = (result, list(twice))
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
    where: Where | str,
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
    if isinstance(where, str):  # a loose file's stem
        where = Where(where, None, limits)
    student_id, identity_warnings = where.resolve(data.get("student_id"), source)
    warnings = identity_warnings + warnings
    stripped: dict[str, Any] = {}
    twice = dict.fromkeys(parser.twice(answers))
    renamed = _case_matches(answers, known_ids)
    warnings += _case_warnings(renamed, limits)
    for name, value in answers.items():
        key = renamed.get(str(name), str(name)).strip()
        if key in stripped:
            twice[key] = None
        stripped[key] = value
    warnings += [
        f"{DUPLICATE_ANSWER}: {_short(name)} is answered twice in the file; the last answer "
        "is the one graded"
        for name in twice
    ]
    warnings += _unknown_ids(stripped, known_ids, limits)
    return Submission(student_id, source, stripped, tuple(warnings))


# --- CSV ----------------------------------------------------------------------------

EXPECTS_COLUMN = "expects"
"""A third column of a ``question,answer`` file saying what each answer expects (the
answers template of ``grader sheet``): not an answer, skipped."""


def sniff_delimiter(first_line: str) -> str:
    """The delimiter of a header line: the most frequent of , ; tab outside quotes (in
    the line's first 100,000 characters: a header is short, a hostile line is not)."""
    outside = _QUOTED.sub("", first_line[:100_000])
    counts = {delimiter: outside.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class CsvRow(NamedTuple):
    """One row of a CSV file: the lines it spans, its cells (trailing empty ones
    dropped), and why it cannot be trusted, if it cannot."""

    line: int
    """The line the row starts on (1-based)."""
    last: int
    """The line it ends on (a quoted cell may span lines)."""
    cells: list[str]
    problem: str | None = None


def csv_rows(text: str, source: str, delimiter: str | None = None) -> list[list[str]]:
    """Rows of a CSV text, trailing empty cells and empty rows dropped."""
    return [row.cells for row in csv_table(text, source, delimiter)]


def csv_table(text: str, source: str, delimiter: str | None = None) -> list[CsvRow]:
    """The rows of a CSV text with the lines each spans, empty rows dropped.

    A quote that is never closed would make every later line part of one cell: the row
    it opens on is then marked (``problem``) and read on its own line, and each later
    line is read as a row of its own, so no row after it is lost. Linear in the text:
    one pass, and one more over what follows an unclosed quote.
    """
    if delimiter is None:
        text, delimiter = excel_separator(text)
    # A cell is as long as the file allows; each answer's own cap is grader.intake.values'.
    with _field_size_limit(len(text) + 1):
        return _csv_table(text, source, delimiter)


@contextmanager
def _field_size_limit(size: int) -> Iterator[None]:
    """csv's cap on a cell raised to at least ``size`` while reading, then put back (it
    is process-wide: a program that reads CSVs after grading keeps its own)."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, size))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _csv_table(text: str, source: str, delimiter: str) -> list[CsvRow]:
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(iter(lines), delimiter=delimiter)
    rows: list[CsvRow] = []
    start = last_start = 1
    try:
        for cells in reader:
            if not len(rows) % EVERY:
                checkpoint()
            last_start = start
            _keep(rows, CsvRow(start, reader.line_num, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        raise SubmissionError(
            f"not a readable CSV (line {reader.line_num}: {error})", source=source
        ) from None
    if last_start < reader.line_num and _unclosed("".join(lines[last_start - 1 :]), delimiter):
        if rows and rows[-1].line == last_start:
            rows.pop()
        opened = last_start
        for number in range(opened, len(lines) + 1):
            if not number % EVERY:
                checkpoint()
            line = lines[number - 1].rstrip("\r\n")
            cells = next(csv.reader([line], delimiter=delimiter), [])
            problem = None
            if number == opened or ('"' in line and _unclosed(line, delimiter)):
                problem = (
                    f'line {number}: a quote (") opened on this line is never closed, so the '
                    "line could not be read"
                )
                if number == opened and opened < len(lines):
                    problem += "; the lines after it are read as rows of their own"
            _keep(rows, CsvRow(number, number, cells, problem))
    return rows


def _keep(rows: list[CsvRow], row: CsvRow) -> None:
    cells = row.cells
    while cells and not cells[-1].strip():
        cells.pop()
    if cells or row.problem is not None:
        rows.append(row)


def _unclosed(text: str, delimiter: str) -> bool:
    """Does ``text`` end inside a quoted cell (as a strict CSV reader finds)?"""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for _ in reader:
            pass
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


def _first_line(text: str) -> str:
    return _LINE_END.split(text.lstrip("\r\n"), maxsplit=1)[0]


def excel_separator(text: str) -> tuple[str, str]:
    """The delimiter of a CSV text, and the text to read as its rows.

    Excel writes (and reads) a first line ``sep=;`` (or ``sep=,``, ``sep=<tab>``, some
    tools quote it) naming the delimiter: it is then the delimiter, and that line is
    blanked, not read as the header (the lines keep their numbers). Otherwise the
    header line decides (``sniff_delimiter``)."""
    first = _first_line(text)
    hint = first.strip(" ").strip('"').strip(" ")
    if len(hint) == 5 and hint[:4].casefold() == "sep=" and hint[4] in _DELIMITERS:
        at = text.index(first)
        return text[:at] + text[at + len(first) :], hint[4]
    return text, sniff_delimiter(first)


def read_csv(
    text: str,
    source: str,
    known_ids: Sequence[str],
    where: Where | str,
    *,
    classes: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Submission | Unreadable]:
    """A student's ``question,answer`` file or a class's ``student_id,<id>,...`` file,
    delimited by ``,``, ``;`` or tab (the header line decides).

    ``classes=False`` (a file in a student's folder, or uploaded by a student): a class
    file may hold one row, that student's; more is refused (a student cannot grade
    classmates)."""
    if isinstance(where, str):  # a loose file's stem
        where = Where(where, None, limits)
    text, delimiter = excel_separator(text)
    rows = csv_table(text, source, delimiter)
    if not rows:
        raise SubmissionError("the file is empty", source=source)
    decimal_comma = delimiter != ","
    header = [_header_name(cell) for cell in rows[0].cells]
    unit = "line"
    if header[:1] in (["student_id"], ["question"]) and header[:2] != ["question", "answer"]:
        turned = _turned(rows, source, known_ids)
        if turned is not None:
            rows, header, unit = turned, ["student_id"], "column"
    if header[:2] == ["question", "answer"]:
        student_id = where.default(source)
        notes = header[2:3] == [EXPECTS_COLUMN]
        return [
            _read_student_csv(rows[1:], source, known_ids, student_id, decimal_comma, limits, notes)
        ]
    if header[:1] == ["student_id"]:
        if len(rows) == 1:  # no student's row: said, not a file that silently grades no one
            raise SubmissionError(
                "a class CSV (student_id,...) with a header and no student rows", source=source
            )
        if classes:
            return list(_read_class_csv(rows, source, known_ids, delimiter, limits, unit))
        return [_one_row_of_class(rows, source, known_ids, where, delimiter, unit)]
    listed = [_short(cell) for cell in rows[0].cells[:3]]
    raise SubmissionError(
        f"unrecognised header {listed!r}: expected 'question,answer' (one student) "
        "or 'student_id,<answer id>,...' (a whole class)",
        source=source,
    )


def _one_row_of_class(
    rows: list[CsvRow],
    source: str,
    known_ids: Sequence[str],
    where: Where,
    delimiter: str,
    unit: str = "line",
) -> Submission | Unreadable:
    """A class-style CSV where one student's answers belong (a student's folder, an
    upload): its one row is that student's."""
    if len(rows) != 2:
        kind = "rows" if unit == "line" else "columns"
        raise SubmissionError(
            f"a class CSV (student_id,...) of {len(rows) - 1:,} {kind}, where one student's "
            "answers belong: only the instructor's class file (the file given to grade, or "
            "one at the top of the folder given) is read as a class",
            source=source,
        )
    [read] = _read_class_csv(rows, source, known_ids, delimiter, where.limits, unit)
    if isinstance(read, Unreadable):
        raise SubmissionError(read.error, source=source)
    written = rows[1].cells[0]
    student_id, warnings = where.resolve(written, source)
    return replace(read, student_id=student_id, source=source, warnings=(*warnings, *read.warnings))


TRANSPOSED = "the file has one column per student (the answer ids down its first column)"
"""The warning on each student of a class CSV laid out the other way round."""


def _turned(rows: list[CsvRow], source: str, known_ids: Sequence[str]) -> list[CsvRow] | None:
    """A class CSV laid out the other way round (a sheet pasted transposed): its header
    names no answer id, and its first column does (at least half of its cells). Its
    rows are then its columns, numbered as columns (``CsvRow.line``), so that each
    column's student is a student, not each answer id; None for any other file."""
    if not known_ids or len(rows) < 2 or any(row.problem is not None for row in rows):
        return None
    names = [cell.strip() for cell in rows[0].cells[1:]]
    known = set(known_ids)
    matched = _case_matches(names, known_ids)
    if any(name in known or name in matched for name in names):
        return None
    firsts = [row.cells[0].strip() for row in rows[1:] if row.cells and row.cells[0].strip()]
    renamed = _case_matches(firsts, known_ids)
    answering = sum(1 for first in firsts if first in known or first in renamed)
    if not answering or 2 * answering < len(firsts):
        return None
    width = len(rows[0].cells)
    for row in rows[1:]:
        if len(row.cells) > width:
            raise SubmissionError(
                f"line {row.line}: {_short(row.cells[0])} has {len(row.cells)} cells but the "
                f"header only {width}, in a file of one column per student (the answer ids "
                "down its first column): whose answers the cells beyond are cannot be told",
                source=source,
            )
    header = CsvRow(1, 1, ["student_id", *(row.cells[0] for row in rows[1:])])
    columns = [
        CsvRow(
            column + 1,
            column + 1,
            [name, *(row.cells[column] if column < len(row.cells) else "" for row in rows[1:])],
        )
        for column, name in enumerate(rows[0].cells[1:], start=1)
    ]
    return [header, *(column for column in columns if any(cell.strip() for cell in column.cells))]


def _header_name(cell: str) -> str:
    return "_".join(cell.strip().lower().replace("-", " ").split())


def _read_student_csv(
    rows: list[CsvRow],
    source: str,
    known_ids: Sequence[str],
    student_id: str,
    decimal_comma: bool,
    limits: Limits,
    notes: bool = False,
) -> Submission:
    """``notes``: the third column is the ``expects`` column of a ``grader sheet``
    template (what each answer expects), skipped."""
    answers: dict[str, Any] = {}
    lines: dict[str, list[int]] = {}
    warnings: list[str] = [row.problem for row in rows if row.problem is not None]
    rows = [row for row in rows if row.problem is None and row.cells]
    renamed = _case_matches((row.cells[0].strip() for row in rows), known_ids)
    warnings += _case_warnings(renamed, limits)
    for number, row in ((row.line, row.cells) for row in rows):
        if not number % EVERY:
            checkpoint()
        question = row[0].strip()
        question = renamed.get(question, question)
        if not question:
            continue
        if len(row) > 2 and any(cell.strip() for cell in row[2 + notes :]):
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


SUMMARY_LABELS = frozenset(
    [
        "average",
        "avg",
        "mean",
        "median",
        "total",
        "totals",
        "sum",
        "std",
        "stdev",
        "std dev",
        "standard deviation",
        "variance",
        "count",
        "points possible",
        "possible points",
        "max points",
        "class average",
        "minimum",
        "maximum",
        "summary",
    ]
)
"""First cells of a class CSV's rows that a spreadsheet adds below the students (an
``Average`` row, Canvas's ``Points Possible``): such a row is reported, not graded."""


def _read_class_csv(
    rows: list[CsvRow],
    source: str,
    known_ids: Sequence[str],
    delimiter: str,
    limits: Limits,
    unit: str = "line",
) -> Iterator[Submission | Unreadable]:
    """``unit``: ``column`` where ``rows`` are a transposed file's columns (``_turned``)."""
    decimal_comma = delimiter != ","
    header = [cell.strip() for cell in rows[0].cells]
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
    others = [each for each in _DELIMITERS if each != delimiter]
    stem = Path(source).stem
    most = limits.max_rows_per_file
    beyond = rows[1 + most :]
    for row in rows[1 : 1 + most]:
        number, cells = row.line, row.cells
        if not number % EVERY:
            checkpoint()
        where = f"{source} {unit} {number}"
        spans = f"lines {number}-{row.last}: " if row.last > number else ""
        raw = cells[0] if cells else ""

        def refused(reason: str, raw: str = raw, number: int = number) -> Unreadable:
            shown_id = fallback_id(raw.strip() or f"{stem} {unit} {number}")
            return Unreadable(shown_id, f"{source} {unit} {number}", reason)

        if row.problem is not None:
            yield refused(row.problem)
            continue
        if _header_name(raw) == "student_id":
            yield refused(
                f"{spans}a repeated header row (student_id, ...), not a student: not graded"
            )
            continue
        if " ".join(raw.casefold().split()) in SUMMARY_LABELS:
            yield refused(
                f"{spans}{shown(raw)} looks like a spreadsheet's summary row, not a student: "
                "not graded (if it is a student's id, write it in another column order)"
            )
            continue
        split = len(cells) == 1 or len(cells) > len(header)  # not the header's cells
        if len(header) > 1 and split and any(other in raw for other in others):
            used = next(other for other in others if other in raw)
            yield refused(
                f"{spans}the row is delimited by {used!r} but the header by {delimiter!r}: "
                "save the file with one delimiter"
            )
            continue
        if not raw.strip():
            yield refused(f"{spans}the row has no student_id")
            continue
        try:
            student_id = canonical_id(
                raw, source=None, what="student_id", max_length=limits.max_id_length
            )
        except SubmissionError as error:
            yield refused(f"{spans}{error.detail}")
            continue
        if looks_like_placeholder(student_id):
            yield refused(
                f"{spans}the student_id {shown(student_id)} is a template's placeholder: "
                "write the student's id"
            )
            continue
        if len(cells) > len(header):
            yield Unreadable(
                student_id,
                where,
                f"the row has {len(cells)} cells but the header only {len(header)}",
            )
            continue
        warnings = header_warnings if unit == "line" else [TRANSPOSED, *header_warnings]
        if row.last > number:
            warnings = [
                *header_warnings,
                f"lines {number}-{row.last} are one row: a quoted cell spans lines (if rows are "
                "missing, look "
                "for an unbalanced quote)",
            ]
        answers = {name: cell for name, cell in zip(columns, cells[1:], strict=False) if name}
        yield Submission(student_id, where, answers, tuple(warnings), decimal_comma)
    if beyond:
        first, last = beyond[0].line, beyond[-1].last
        yield Unreadable(
            fallback_id(f"{stem} {unit}s {first}-{last}"),
            f"{source} {unit} {first}",
            f"{unit}s {first}-{last}: {len(beyond):,} rows more than the {most:,} students one "
            "file may give (Limits.max_rows_per_file): not read; split the file, or raise the "
            f"limit (grade --limit max_rows_per_file={most + len(beyond)})",
        )


def _folded(known_ids: tuple[str, ...]) -> tuple[frozenset[str], Mapping[str, tuple[str, ...]]]:
    """The answer ids, and by case-folded id the ids that fold to it."""
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
    """A name from a file, on one line (invisible characters written as escapes), cut
    to a length a message can show."""
    text = visible(text[:200])
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), type(value).__name__)
