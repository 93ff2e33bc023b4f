"""Grading in worker processes (``grade --jobs N``), with the outputs of one process.

The parent lists the submissions (``discover``) and hands them out in chunks; each of
N workers solves the answer key once, then reads, grades and renders its chunks
(``grader.run.prepare.prepare``). The parent takes the rendered outputs back in chunk order and
writes them (``grader.run.batch.write_prepared``), so every output is byte for byte what one
process writes. At most ``IN_FLIGHT`` chunks per worker are out at a time, so memory
stays flat however large the class.

A whole-class CSV holds many students: one larger than ``PART_BYTES`` is graded in parts
by several workers; a worker keeps the last such file it read, so it reads it once.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from grader.intake.readers import read_entry
from grader.intake.submission import Submission, Unreadable
from grader.limits import DEFAULT_LIMITS, Limits
from grader.memo import Memo
from grader.rubric.models import Rubric
from grader.run.entries import Entries
from grader.run.prepare import Prepared, grade_all, prepare
from grader.solver.key import AnswerKey, PerStudent, solve

CHUNK_ENTRIES = 32
"""Files (or student folders) per chunk: enough to make passing a chunk cheap, few
enough that the workers finish together."""
PART_BYTES = 64 * 1024
"""A class CSV is graded in parts of about this many bytes (some fifty students)."""
IN_FLIGHT = 4
"""Chunks handed out per worker ahead of the one the parent is writing."""
ORPHAN_CHECK_SECONDS = 1.0

Task = tuple[str, str | None, int, int]
"""One entry of ``discover`` to grade: its path, the student id its folder gives, and
which part of how many (a large class CSV is split; anything else is part 0 of 1)."""


def grade_in_workers(
    entries: Entries, key: AnswerKey, jobs: int, limits: Limits = DEFAULT_LIMITS
) -> Iterator[Prepared]:
    """The results of every entry, rendered, in the order one process reads them.

    Each worker is handed the rubric and ``limits`` explicitly (nothing it needs is a
    module global its parent set), so the outputs are the same under every start method.
    """
    pool = ProcessPoolExecutor(
        max_workers=jobs, initializer=_start, initargs=(key.rubric, limits, key.per_student)
    )
    pending: deque[Future[list[Prepared]]] = deque()
    try:
        for chunk in _chunks(entries):
            pending.append(pool.submit(_grade_chunk, chunk))
            if len(pending) >= jobs * IN_FLIGHT:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _chunks(entries: Entries) -> Iterator[list[Task]]:
    chunk: list[Task] = []
    for location, folder_id in entries:
        parts = _parts(location, folder_id)
        if parts > 1:
            if chunk:
                yield chunk
                chunk = []
            for part in range(parts):
                yield [(str(location), folder_id, part, parts)]
            continue
        chunk.append((str(location), folder_id, 0, 1))
        if len(chunk) >= CHUNK_ENTRIES:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _parts(location: Path, folder_id: str | None) -> int:
    """In how many parts to grade an entry: a large CSV file in several."""
    if folder_id is not None or location.suffix.lower() != ".csv":
        return 1
    try:
        size = os.stat(location, follow_symlinks=False).st_size
    except OSError:
        return 1  # the worker reports why it cannot be read
    return max(1, -(-size // PART_BYTES))


# --- in a worker ---------------------------------------------------------------------

_key: AnswerKey | None = None
_known: list[str] = []
_limits: Limits = DEFAULT_LIMITS
_memo = Memo()
_last_read: tuple[tuple[str, str | None], list[Submission | Unreadable]] | None = None


def _start(rubric: Rubric, limits: Limits, per_student: PerStudent | None = None) -> None:
    """Solve the key, once per worker, and keep the batch's limits and what grading
    remembers (``grader.memo``: the worker's batch is its life); leave when the parent is
    gone."""
    global _key, _known, _limits, _memo
    _key = replace(solve(rubric), per_student=per_student)  # variants: drawn as needed
    _known = [answer.id for answer in rubric.answers]
    _limits = limits
    _memo = Memo()
    gc.freeze()  # as ``batch.few_collections``, for the worker's life
    gc.set_threshold(70_000, 50, 100)
    parent = os.getppid()
    threading.Thread(target=_orphan_watch, args=(parent,), daemon=True).start()


def _orphan_watch(parent: int) -> None:
    """A parent killed outright (SIGTERM, SIGKILL) cannot stop its workers, which would
    otherwise wait for work forever: they check once a second that it is still theirs."""
    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def _grade_chunk(chunk: list[Task]) -> list[Prepared]:
    key = _key
    if key is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("worker started without its answer key")
    out: list[Prepared] = []
    for location, folder_id, part, parts in chunk:
        submissions = _read(location, folder_id, cached=parts > 1)
        count = len(submissions)
        mine = submissions[count * part // parts : count * (part + 1) // parts]
        graded = grade_all(mine, key, limits=_limits, memo=_memo)
        out.extend(prepare(result, key, _memo) for result in graded)
    return out


def _read(location: str, folder_id: str | None, *, cached: bool) -> list[Submission | Unreadable]:
    global _last_read
    if cached and _last_read is not None and _last_read[0] == (location, folder_id):
        return _last_read[1]
    submissions = read_entry(Path(location), folder_id, _known, limits=_limits)
    _last_read = ((location, folder_id), submissions) if cached else None
    return submissions
