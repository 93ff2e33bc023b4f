"""Combining shards graded apart (a CI matrix, a batch scheduler) into the outputs of one
run: ``grader merge A/results.jsonl B/results.jsonl --rubric RUBRIC --out DIR``.

A ``results.jsonl`` record holds all of a student's result but what the rubric gives
(the answers' titles and expected values), so the merge reads the records in the order
given, takes those from the key, and writes them as one run would have: the same
``gradebook.csv``, ``results.jsonl`` and ``feedback/``, byte for byte, when the shards
are the submissions one run reads, in its order (sorted file names). A student who
submitted in two shards is a duplicate across them, as in one run; the warnings a shard
wrote about its own duplicates are made again, not repeated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.grading.results import StudentResult
from grader.run.batch import BatchReport, Export, write_outputs
from grader.run.prepare import (
    BATCH_WARNINGS,
    RUBRIC_FIELD,
    Prepared,
    restore,
    rubric_fingerprint,
)
from grader.solver.key import AnswerKey


def merge_results(
    paths: Sequence[Path],
    key: AnswerKey,
    out_dir: Path,
    *,
    on_result: Callable[[Prepared], None] | None = None,
    exports: Sequence[Export] = (),
) -> BatchReport:
    """Write the outputs of one run from the ``results.jsonl`` files of its shards (and
    ``exports``, as ``grade`` writes them).

    Every record is checked against ``key`` first (a shard graded with another rubric,
    or a file that is not a ``results.jsonl``, is a ``GraderError``) and nothing is
    written unless all of them are read.
    """
    if not paths:
        raise GraderError("merge: give the results.jsonl of at least one shard")
    for path in paths:  # a mistyped path fails at once, before any output folder is made
        if not path.is_file():
            raise GraderError(f"{path}: no such file (expected a shard's results.jsonl)")
    results = read_results(paths, key)
    return write_outputs(results, key, out_dir, on_result=on_result, exports=exports)


def read_results(paths: Sequence[Path], key: AnswerKey) -> Iterator[StudentResult]:
    """The results recorded in ``paths``, in order, as they were before the batch marked
    duplicate submissions (the merge marks them again, across all the shards)."""
    answer_ids = [answer.id for answer in key.rubric.answers]
    fingerprint = rubric_fingerprint(key)
    marked = tuple(f"{each}:" for each in BATCH_WARNINGS)
    for path in paths:
        try:
            file = path.open(encoding="utf-8")
        except OSError as error:
            raise GraderError(f"{path}: cannot be read: {error.strerror or error}") from None
        with file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                result = _record(line, f"{path} line {number}", key, answer_ids, fingerprint)
                if any(w.startswith(marked) for w in result.warnings):
                    result = replace(
                        result,
                        warnings=tuple(w for w in result.warnings if not w.startswith(marked)),
                    )
                yield result


def _record(
    line: str, where: str, key: AnswerKey, answer_ids: list[str], fingerprint: str
) -> StudentResult:
    try:
        data: Any = json.loads(line)
        if not isinstance(data, dict):
            raise TypeError(f"a JSON {type(data).__name__}, not an object")
        result = restore(data, key)
    except (ValueError, TypeError, KeyError) as error:
        problem = f"no {error}" if isinstance(error, KeyError) else str(error)
        raise GraderError(f"{where}: not a results.jsonl record ({problem})") from None
    recorded = data.get(RUBRIC_FIELD)
    if recorded != fingerprint:
        why = (
            "records no rubric fingerprint (graded by an older grader: grade the shard again)"
            if recorded is None
            else f"was graded with another rubric (fingerprint {str(recorded)[:40]!r}; this "
            f"rubric's is {fingerprint!r})"
        )
        raise GraderError(
            f"{where}: {result.student_id} {why}: merge shards graded with the same rubric"
        )
    got = [item.id for item in result.items]
    if got != answer_ids or result.max_score != key.rubric.max_score:
        raise GraderError(
            f"{where}: {result.student_id} was graded with another rubric "
            f"({len(got)} answers, {result.max_score:g} points; this rubric has "
            f"{len(answer_ids)} answers, {key.rubric.max_score:g} points): merge shards "
            "graded with the same rubric"
        )
    return result
