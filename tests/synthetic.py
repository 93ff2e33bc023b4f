"""Synthetic classes built from a rubric's own answer key (the solver's values, never
typed numbers): right, rounded, wrong, missing and malformed answers and files in
realistic proportions, as JSON, one student's CSV, and whole-class CSVs.

Used by the tests (the seeded class whose outputs are pinned) and by the benchmark.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import AnswerKey
from grader.solver.key import Expressions

# --- what a class looks like ---------------------------------------------------------

PROFILES = {
    "right": 0.35,  # every answer given to 4-6 significant figures
    "rounded": 0.20,  # rounded to 3 (a few to 2) significant figures, as the seed was
    "mistakes": 0.30,  # a few answers wrong in the ways students get them wrong
    "missing": 0.08,  # some answers left out
    "bad_cells": 0.04,  # an answer or two that cannot be read
    "bad_file": 0.03,  # the whole file cannot be read
}
FORMATS = {"json": 0.60, "student_csv": 0.25, "class_csv": 0.15}
SECTION_SIZE = 200
"""Students per whole-class CSV (one section's export)."""


@dataclass(frozen=True)
class Answer:
    """One answer id of the key, plain: a nested list of floats, or expression texts."""

    id: str
    value: Any
    expressions: bool


def key_answers(key: AnswerKey) -> list[Answer]:
    plain = key.to_json()
    return [
        Answer(entry.answer.id, plain[entry.answer.id], isinstance(entry.expected, Expressions))
        for entry in key
    ]


def _map(value: Any, func: Any) -> Any:
    return [_map(each, func) for each in value] if isinstance(value, list) else func(value)


def _sig(digits: int) -> Any:
    return lambda x: float(f"{x:.{digits}g}")


def _flat(value: Any) -> list[float]:
    return [x for each in value for x in _flat(each)] if isinstance(value, list) else [value]


def _shape(value: Any) -> tuple[int, ...]:
    return (len(value), *_shape(value[0])) if isinstance(value, list) and value else ()


def wrong_value(answer: Answer, answers: Sequence[Answer], rng: random.Random) -> Any:
    """A mistake students make: sign, factor 2, decimal point, transposed, another answer."""
    if answer.expressions:
        texts = list(answer.value)
        return [f"2*({texts[0]})", *texts[1:]] if rng.random() < 0.5 else texts[::-1]
    value = answer.value
    same_shape = [
        other.value
        for other in answers
        if other.id != answer.id and not other.expressions and _shape(other.value) == _shape(value)
    ]
    kinds = ["sign", "factor_two", "power_of_ten", "noise"]
    if same_shape:
        kinds.append("other_answer")
    if len(_shape(value)) == 2 and _shape(value)[0] == _shape(value)[1]:
        kinds.append("transposed")
    kind = rng.choice(kinds)
    if kind == "sign":
        return _map(value, lambda x: -x)
    if kind == "factor_two":
        factor = rng.choice([0.5, 2.0])
        return _map(value, lambda x: x * factor)
    if kind == "power_of_ten":
        factor = rng.choice([0.1, 10.0])
        return _map(value, lambda x: x * factor)
    if kind == "other_answer":
        return rng.choice(same_shape)
    if kind == "transposed":
        return [list(row) for row in zip(*value, strict=True)]
    return _map(value, lambda x: x * rng.uniform(0.5, 1.5) + rng.uniform(-0.1, 0.1))


BAD_CELLS = ["abc", "[1, 2", "1,234", "[[1, 2], [3]]", "x + ", "1 2 3 4 5 6 7 8 9 10 11"]


def student_answers(profile: str, answers: Sequence[Answer], rng: random.Random) -> dict[str, Any]:
    """One student's answers by id: numbers as nested lists, texts, or bad texts."""
    out: dict[str, Any] = {}
    for answer in answers:
        if answer.expressions:
            value: Any = list(answer.value)
            if rng.random() < 0.5:
                value = [text.replace("*", "").replace(" ", "") for text in value]
        else:
            digits = rng.choice([4, 5, 6]) if profile != "rounded" else rng.choice([3, 3, 3, 2])
            value = answer.value
            if rng.random() < 0.5:  # worked by hand, rounding on the way (the seed's 0.52)
                value = _map(value, lambda x: x * (1 + rng.uniform(-0.008, 0.008)))
            value = _map(value, _sig(digits))
        if profile == "mistakes" and rng.random() < 0.3:
            value = wrong_value(answer, answers, rng)
            if not answer.expressions:
                value = _map(value, _sig(4))
        if profile == "missing" and rng.random() < 0.4:
            continue
        if profile == "bad_cells" and rng.random() < 0.15:
            value = rng.choice(BAD_CELLS)
        out[answer.id] = value
    return out


def cell(value: Any, rng: random.Random) -> str:
    """An answer as one CSV cell: JSON-style list, MATLAB-style rows, or a number."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(each, str) for each in value):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, list) and rng.random() < 0.4:
        if value and isinstance(value[0], list):
            return "; ".join(" ".join(f"{x:g}" for x in row) for row in value)
        return " ".join(f"{x:g}" for x in value)
    return json.dumps(value)


def json_answer(value: Any, rng: random.Random) -> Any:
    """Numbers as JSON numbers, or (one student in five) as strings."""
    if isinstance(value, str) or rng.random() > 0.2:
        return value
    return _map(value, lambda x: x if isinstance(x, str) else f"{x:g}")


def generate(
    folder: Path,
    count: int,
    key: AnswerKey,
    *,
    seed: int = 0,
    formats: dict[str, float] | None = None,
    section_size: int = SECTION_SIZE,
    copies: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Write ``count`` students' submissions into ``folder``; how many of each kind.

    ``formats`` weighs the kinds of file (default ``FORMATS``); a whole-class CSV holds
    ``section_size`` students. A key with variants: each student's answers come from
    their own variant's key. ``copies`` (copier → source, the source an earlier
    student): the copier hands in the source's answers as the source wrote them, in a
    file of their own; a source's work is right, rounded or has a few mistakes (not
    missing or unreadable), so there is something to copy.
    """
    rng = random.Random(seed)
    formats = FORMATS if formats is None else formats
    copies = copies or {}
    sources = set(copies.values())
    written: dict[str, dict[str, Any]] = {}
    answers = key_answers(key)
    ids = [answer.id for answer in answers]
    folder.mkdir(parents=True, exist_ok=True)
    tally: dict[str, int] = {}
    section: list[list[str]] = []
    sections = 0

    def flush() -> None:
        nonlocal sections, section
        if section:
            sections += 1
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows([["student_id", *ids], *section])
            (folder / f"section-{sections:04d}.csv").write_text(buffer.getvalue(), encoding="utf-8")
            section = []

    for number in range(count):
        student = f"s{number:06d}"
        profile = rng.choices(list(PROFILES), weights=list(PROFILES.values()))[0]
        if student in sources:
            profile = rng.choice(["right", "rounded", "mistakes"])
        kind = rng.choices(list(formats), weights=list(formats.values()))[0]
        tally[profile] = tally.get(profile, 0) + 1
        tally[kind] = tally.get(kind, 0) + 1
        if key.per_student is not None:
            answers = key_answers(key.for_student(student))
        given = student_answers(profile, answers, rng)
        if student in copies:
            given = dict(written[copies[student]])
            profile = "copy"
        if student in sources:
            written[student] = given
        if kind == "json":
            text = json.dumps(
                {
                    "student_id": student,
                    "answers": {k: json_answer(v, rng) for k, v in given.items()},
                },
                indent=rng.choice([None, 2]),
            )
            if profile == "bad_file":
                text = text[: len(text) // 2]
            (folder / f"{student}.json").write_text(text, encoding="utf-8")
        elif kind == "student_csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["question", "answer"] if profile != "bad_file" else ["q", "a"])
            writer.writerows([answer_id, cell(value, rng)] for answer_id, value in given.items())
            (folder / f"{student}.csv").write_text(buffer.getvalue(), encoding="utf-8")
        else:
            row = [student, *(cell(given[i], rng) if i in given else "" for i in ids)]
            if profile == "bad_file":
                row = ["", *row[1:]] if rng.random() < 0.5 else [*row, "extra"]
            section.append(row)
            if len(section) >= section_size:
                flush()
    flush()
    tally["files"] = sum(1 for _ in folder.iterdir())
    return tally


# --- the slowest class CSV within the caps ---------------------------------------------


def long_expression_class(key: AnswerKey, rows: int, row_bytes: int, seed: int = 3) -> str:
    """A class CSV of ``rows`` students whose every row is one long expression answer
    (the two entries of the first expressions answer, sums of ``c·x·y`` terms, all
    different) filling ``row_bytes``: the most parsing and evaluating a byte of a class
    CSV can ask for (10,000 rows of some 1,040 bytes nearly fill ``Limits.max_file_bytes``)."""
    answers = key_answers(key)
    target = next(answer for answer in answers if answer.expressions)
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student_id", *(answer.id for answer in answers)])
    budget = row_bytes - len(answers) - 12  # the id, the commas, quotes and the newline
    for row in range(rows):
        entries = []
        for _ in target.value:
            terms: list[str] = []
            size = 0
            while size < budget // len(target.value) - 20:
                terms.append(f"{rng.random():.4f}x*y")
                size += len(terms[-1]) + 1
            entries.append("+".join(terms))
        cells = {target.id: "[" + ", ".join(entries) + "]"}
        writer.writerow([f"s{row:05d}", *(cells.get(answer.id, "") for answer in answers)])
    return out.getvalue()
