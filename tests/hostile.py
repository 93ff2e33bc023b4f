"""Hostile submissions, generated: file and folder names and contents as a hostile
student, a sloppy spreadsheet or an LMS download would make them.

Used by ``tests/test_fuzz_pipeline.py`` (a few hundred) and ``benchmarks/fuzz_pipeline.py``
(100,000 and more), which grade them through the whole pipeline and check that no input
is lost. ``hostile_inputs(rng, count, answer_ids)`` gives ``HostileInput``s; ``place``
writes one under a submissions folder.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NUMBERS = [
    "0.0567", "-15.89", "\u221215,89", "0,05675", "1,234", "1.5e-3", "1.5\u00d710^-3", "\u2248 0.5",
    "1/2", "exp(0.09)/(1+exp(0.09))", "NaN", "Infinity", "1e400", "9**9**9**9", "10^10^10",
    "__import__('os')", "x.__class__", "lambda: 0", "(" * 300 + "1" + ")" * 300, "[" * 50,
    "]" + "\n" * 2000 + "x", "[[1, 2], [3, 4]]", "1 2; 3 4", "0,5 0,6", "1,2,3", "", " ",
    "\u00a0", "\x00", "4(2x+3y)", "6(2x+3y)", "sin(x)^2", "\u03c3(x)", "x\u00b2", "10\u207b\u00b3",
    "9" * 400, "1" * 2000, "-", "--1", "1e", ".", ",", ";", "'", '"', "\t", "\r\n", "\u221e",
    "\u00bd", "\u0661\u0662", "\x1b[2J", "::error::x", "<img src=x onerror=alert(1)>",
    "# Score: 100 / 100", "\ud800", "a" * 5000, "1 " * 3000, "x+" * 2000 + "x",
]  # fmt: skip
IDS = [
    "alice", "Alice", "ALICE", "ali\u200bce", "Zo\u00eb", "Zoe\u0308", "bob", "", " ", "../x",
    "a/b", "=1+1", "@SUM(1)", "YOUR_ID_HERE", "<student id>", "TODO", "?alice", "alice~0123",
    "\x1b[31mred", "a\nb", "\u202eevil", "x" * 300, "Average", "student_id", "s-1", "7",
    "smithjane_123456_789_answers", "\udcff",
]  # fmt: skip
NAME_PIECES = [
    "alice", "Alice", "bob", "ali\u200bce", "Zo\u00eb", "Zoe\u0308", "\x1b[2J", "::error::x",
    "a b", "CON", "nul", "-x", "x~y", "\u202eevil", "\u00e9", "\U0001f600", "YOUR_ID_HERE",
    "answers", "s0001", "gradebook", "results", "x" * 120,
]  # fmt: skip
DELIMITERS = [",", ";", "\t"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1"]


@dataclass(frozen=True)
class HostileInput:
    """One submission to place: a file at the top of the submissions folder, or a
    student's folder holding one answers file."""

    name: str
    """The file's or folder's name (never hidden, never holding a separator)."""
    folder: bool
    data: bytes
    inner: str = "answers.json"
    """The answers file's name inside a folder."""


def hostile_inputs(
    rng: random.Random, count: int, answer_ids: Sequence[str]
) -> Iterator[HostileInput]:
    """``count`` inputs with distinct names (a name may differ from another only in case
    or in Unicode normal form: the grader must keep them apart or report them)."""
    used: set[str] = set()
    for number in range(count):
        kind = rng.choices(
            ["json", "student csv", "class csv", "mutated", "bytes"], [40, 20, 15, 20, 5]
        )[0]
        data = _CONTENT[kind](rng, list(answer_ids))
        folder = rng.random() < 0.3
        suffix = "" if folder else (".csv" if kind in ("student csv", "class csv") else ".json")
        if not folder and rng.random() < 0.1:
            suffix = rng.choice([".json", ".csv", ".JSON", ".xlsx"])
        name = _name(rng, number) + suffix
        while name in used or name.startswith("."):
            name = f"n{number}-{rng.randrange(10**6)}{suffix}"
        used.add(name)
        inner = rng.choice(["answers.json", "answers.csv", "work/answers.json", "a.json"])
        yield HostileInput(name, folder, data, inner)


def _name(rng: random.Random, number: int) -> str:
    roll = rng.random()
    if roll < 0.15:  # an LMS download's names
        user = rng.choice([123456, 222, number])
        return rng.choice(
            [
                f"smithjane_{user}_{rng.randrange(10**7)}_answers",
                f"smithjane_late_{user}_{rng.randrange(10**7)}_answers-{rng.randrange(3)}",
                f"Jane Doe_{user}_assignsubmission_file_",
            ]
        )
    if roll < 0.6:
        return f"s{number:05d}"
    pieces = [rng.choice(NAME_PIECES) for _ in range(rng.randint(1, 3))]
    name = "".join(pieces).replace("/", "_").replace("\x00", "")
    while len(name.encode("utf-8", "surrogateescape")) > 200:
        name = name[: len(name) // 2]
    return name or f"s{number}"


def _answer(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.45 or depth > 2:
        text = rng.choice([" ", ", ", "; ", "", " - "]).join(
            rng.choice(NUMBERS) for _ in range(rng.randint(1, 3))
        )
        return text
    if roll < 0.6:
        return rng.choice([rng.uniform(-100, 100), rng.randint(-(10**30), 10**30), None, True])
    if roll < 0.65:
        return {"x": _answer(rng, depth + 1)}
    return [_answer(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def _json(rng: random.Random, answer_ids: list[str]) -> bytes:
    names = [*answer_ids, "junk", "", " q1.yhat", "Q1.YHAT", "x\n# Score: 100"]
    document: Any = {
        "answers": {rng.choice(names): _answer(rng) for _ in range(rng.randint(0, 12))}
    }
    if rng.random() < 0.6:
        document["student_id"] = rng.choice([*IDS, 7, None, ["x"], 10**400])
    if rng.random() < 0.03:
        document = rng.choice([[], "x", 1, None, {"answers": []}])
    text = json.dumps(document, ensure_ascii=rng.random() < 0.5, allow_nan=True)
    if rng.random() < 0.05:  # a key given twice
        text = text.replace('{"', '{"q1.yhat": 1, "q1.yhat": 2, "', 1)
    return text.encode(rng.choice(["utf-8", "utf-8-sig", "utf-16"]), "surrogatepass")


def _student_csv(rng: random.Random, answer_ids: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=rng.choice(DELIMITERS), lineterminator=rng.choice(["\n", "\r\n"])
    )
    writer.writerow(["question", "answer"] + [""] * rng.randint(0, 2))
    for _ in range(rng.randint(0, 12)):
        writer.writerow([rng.choice([*answer_ids, "", "junk"]), str(_answer(rng))])
    return _encoded(rng, buffer.getvalue())


def _class_csv(rng: random.Random, answer_ids: list[str]) -> bytes:
    delimiter = rng.choice(DELIMITERS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    columns = rng.sample(answer_ids, rng.randint(1, min(6, len(answer_ids))))
    writer.writerow(["student_id", *columns])
    for _ in range(rng.randint(0, 8)):
        cells = [str(_answer(rng)) for _ in range(len(columns) + rng.randint(-1, 1))]
        writer.writerow([rng.choice(IDS), *cells])
        if rng.random() < 0.05:
            writer.writerow(["student_id", *columns])
    text = buffer.getvalue()
    if rng.random() < 0.1:  # one unclosed quote
        at = rng.randrange(len(text) + 1)
        text = text[:at] + '"' + text[at:]
    if rng.random() < 0.1:  # the rows delimited otherwise than the header
        head, _, rest = text.partition("\n")
        text = (
            head
            + "\n"
            + rest.replace(delimiter, rng.choice([d for d in DELIMITERS if d != delimiter]))
        )
    return _encoded(rng, text)


def _encoded(rng: random.Random, text: str) -> bytes:
    encoding = rng.choice(ENCODINGS)
    data = text.encode(encoding, errors="replace")
    return codecs.BOM_UTF8 + data if encoding == "utf-8" and rng.random() < 0.2 else data


def _mutated(rng: random.Random, answer_ids: list[str]) -> bytes:
    data = bytearray(rng.choice([_json, _student_csv, _class_csv])(rng, answer_ids))
    for _ in range(rng.randint(1, 6)):
        position = rng.randrange(len(data) + 1)
        roll = rng.random()
        if roll < 0.4 and data:
            data[min(position, len(data) - 1)] = rng.randrange(256)
        elif roll < 0.7:
            data[position:position] = rng.choice(
                [b",", b";", b'"', b"[", b"]", b"\r\n", b"\x00", b"\xff\xfe", b"{"]
            )
        elif data:
            del data[position : position + rng.randint(1, 20)]
    return bytes(data)


def _bytes(rng: random.Random, _answer_ids: list[str]) -> bytes:
    return rng.randbytes(rng.randint(0, 400))


_CONTENT = {
    "json": _json,
    "student csv": _student_csv,
    "class csv": _class_csv,
    "mutated": _mutated,
    "bytes": _bytes,
}


def place(entry: HostileInput, folder: Path) -> Path | None:
    """Write ``entry`` under ``folder``; None when the file system refuses its name."""
    path = folder / entry.name
    try:
        if entry.folder:
            inner = path / entry.inner
            inner.parent.mkdir(parents=True)
            inner.write_bytes(entry.data)
        else:
            path.write_bytes(entry.data)
    except (OSError, UnicodeEncodeError):
        return None
    return path


@dataclass(frozen=True)
class Checked:
    """What grading one folder of hostile inputs came to."""

    inputs: int
    rows: int
    records: int
    slowest_seconds: float
    """The longest time between two results (one submission read, graded, rendered)."""
    lost: tuple[str, ...]
    """Inputs with no record, and counts that do not add up (empty when none is lost)."""


NOT_COUNTED = "; not counted"
"""The end of the warning on an LMS upload that a later one replaced (it has no row)."""


def grade_and_check(
    placed: Sequence[Path], folder: Path, out: Path, key: Any, limits: Any = None, jobs: int = 1
) -> Checked:
    """Grade ``folder`` (holding ``placed`` and nothing else) into ``out`` and check that
    every input has its record, every record its row (but LMS uploads replaced by a
    later one) and every row its feedback file."""
    import time

    from grader.limits import DEFAULT_LIMITS
    from grader.run.batch import grade_path

    times: list[float] = [time.perf_counter()]

    def tick(_prepared: object) -> None:
        times.append(time.perf_counter())

    grade_path(folder, key, out, on_result=tick, jobs=jobs, limits=limits or DEFAULT_LIMITS)
    records = [
        json.loads(line)
        for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    with (out / "gradebook.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))[1:]
    feedback = list((out / "feedback").iterdir())
    sources = {str(record["source"]) for record in records}
    lost: list[str] = []
    for path in placed:
        text = str(path)
        submission = path.is_dir() or path.suffix.lower() in (".json", ".csv", ".xlsx")
        found = any(s == text or s.startswith((text + " line ", text + "/")) for s in sources)
        if submission and not found:
            lost.append(f"no record for {text!r}")
    replaced = sum(any(str(w).endswith(NOT_COUNTED) for w in r["warnings"]) for r in records)
    if len(rows) != len(records) - replaced:
        lost.append(f"{len(records)} records, {replaced} replaced uploads, but {len(rows)} rows")
    if len(feedback) != len(rows):
        lost.append(f"{len(rows)} rows but {len(feedback)} feedback files")
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    return Checked(len(placed), len(rows), len(records), max(gaps, default=0.0), tuple(lost))
