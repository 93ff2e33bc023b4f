"""Fuzz the readers: generated inputs, none may raise anything but a GraderError.

    python benchmarks/fuzz_readers.py [--inputs 100000] [--seed 4] [--grade-every 20]

Each input is a file's bytes, generated one of several ways (mutations of the example
submissions and of the attack corpus, CSV and JSON built from random cells in random
encodings and delimiters, random bytes). Every input goes through the readers
(``decode`` then ``read_json``/``read_csv``, as ``read_file`` does; one in 50 through a
real file and ``read_file``), every answer it holds through ``grader.intake.values`` against
the hw answer key's shapes, and every ``--grade-every``-th submission through
``grade_submission``. Anything raised that is not a ``GraderError`` is an unexpected
exception: the first ones are printed with their input, and the exit status is 1.

Prints the figures: inputs by kind, outcomes, answers read, the slowest input, the
total time, and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import json
import random
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import grade_submission, load_rubric, solve  # noqa: E402
from grader.errors import GraderError  # noqa: E402
from grader.intake.readers import decode, read_csv, read_file, read_json  # noqa: E402
from grader.intake.submission import Submission, Unreadable  # noqa: E402
from grader.intake.values import read_expressions, read_numeric  # noqa: E402
from grader.solver.key import Expressions  # noqa: E402

KEY = solve(load_rubric(ROOT / "rubrics" / "hw.yaml"))
KNOWN = [entry.answer.id for entry in KEY]
SEEDS = [
    path.read_bytes()
    for folder in (ROOT / "submissions_example", ROOT / "tests" / "attacks")
    if folder.is_dir()
    for path in sorted(folder.rglob("*"))
    if path.is_file() and path.suffix in (".json", ".csv")
]

NUMBER_PIECES = [
    "0.0567", "-15.89", "\u221215,89", "0,05675", "1,234", "1.5e-3", "1.5×10^-3", "≈ 0.5",
    "1/2", "exp(0.09)/(1+exp(0.09))", "NaN", "Infinity", "1e400", "9**9**9**9", "10^10^10",
    "__import__('os')", "x.__class__", "lambda: 0", "(" * 300 + "1" + ")" * 300, "[" * 50,
    "]", "[[1, 2], [3, 4]]", "1 2; 3 4", "0,5 0,6", "1,2,3", "", " ", "\u00a0", "\x00",
    "4(2x+3y)", "6(2x+3y)", "σ(x)", "x²", "10⁻³", "9" * 400, "1" * 2000, "-", "--1", "1e",
    ".", ",", ";", "'", '"', "\t", "\r\n", "∞", "½", "١٢",
]  # fmt: skip
DELIMITERS = [",", ";", "\t"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1"]


def random_number_text(rng: random.Random) -> str:
    pieces = [rng.choice(NUMBER_PIECES) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.3:
        pieces.append(repr(rng.uniform(-1e3, 1e3)))
    return rng.choice([" ", ", ", "; ", "", " - ", "*"]).join(pieces)


def random_answer(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.35 or depth > 2:
        return random_number_text(rng)
    if roll < 0.55:
        return rng.choice([rng.uniform(-100, 100), rng.randint(-(10**20), 10**20), None, True])
    if roll < 0.65:
        return {"x": random_answer(rng, depth + 1)}
    return [random_answer(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def json_input(rng: random.Random) -> bytes:
    answers = {
        rng.choice([*KNOWN, "junk", ""]): random_answer(rng) for _ in range(rng.randint(0, 8))
    }
    document: Any = {"answers": answers}
    if rng.random() < 0.5:
        document["student_id"] = rng.choice(["s1", "", "../x", "=1+1", 7, None, "a\nb", ["x"]])
    if rng.random() < 0.05:
        document = rng.choice([[], "x", 1, None, {"answers": []}])
    text = json.dumps(document, ensure_ascii=rng.random() < 0.5, allow_nan=True)
    return text.encode(rng.choice(["utf-8", "utf-8-sig", "utf-16"]))


def csv_input(rng: random.Random) -> bytes:
    delimiter = rng.choice(DELIMITERS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=rng.choice(["\n", "\r\n"]))
    if rng.random() < 0.6:
        writer.writerow(["question", "answer"] + [""] * rng.randint(0, 2))
        for _ in range(rng.randint(0, 10)):
            row = [rng.choice([*KNOWN, "", "junk"]), random_number_text(rng)]
            writer.writerow(row + [""] * rng.randint(0, 2))
    else:
        columns = rng.sample(KNOWN, rng.randint(1, 5)) + (["q1.yhat"] if rng.random() < 0.2 else [])
        writer.writerow(["student_id", *columns])
        for _ in range(rng.randint(0, 5)):
            cells = [random_number_text(rng) for _ in range(len(columns) + rng.randint(-1, 1))]
            writer.writerow([rng.choice(["s1", "s2", "", "@x", "-1"]), *cells])
    text = buffer.getvalue()
    encoding = rng.choice(ENCODINGS)
    data = text.encode(encoding, errors="replace")
    return data[2:] if encoding == "utf-16" and rng.random() < 0.2 else data


def mutate(rng: random.Random) -> bytes:
    data = bytearray(rng.choice(SEEDS))
    for _ in range(rng.randint(1, 8)):
        roll = rng.random()
        position = rng.randrange(len(data) + 1)
        if roll < 0.4 and data:
            data[min(position, len(data) - 1)] = rng.randrange(256)
        elif roll < 0.7:
            data[position:position] = rng.choice(
                [
                    b",",
                    b";",
                    b"\t",
                    b'"',
                    b"[",
                    b"]",
                    b"\r\n",
                    b"\x00",
                    b"\xff\xfe",
                    b"NaN",
                    b"1e400",
                ]
            )
        elif data:
            del data[position : position + rng.randint(1, 20)]
    return bytes(data)


def random_bytes(rng: random.Random) -> bytes:
    return rng.randbytes(rng.randint(0, 400))


GENERATORS: dict[str, Callable[[random.Random], bytes]] = {
    "json": json_input,
    "csv": csv_input,
    "mutated seed": mutate,
    "random bytes": random_bytes,
}
WEIGHTS = [30, 35, 30, 5]


def read_answers(submission: Submission, counts: Counter[str]) -> None:
    """Every answer of a submission through grader.intake.values, against the key's shapes."""
    for entry in KEY:
        raw = submission.answers.get(entry.answer.id)
        if raw is None:
            continue
        try:
            if isinstance(entry.expected, Expressions):
                read_expressions(
                    raw, len(entry.expected.exprs), entry.expected.variables,
                    decimal_comma=submission.decimal_comma,
                )  # fmt: skip
            else:
                read_numeric(raw, entry.shape, decimal_comma=submission.decimal_comma)
            counts["answers read"] += 1
        except GraderError:
            counts["answers refused (GraderError)"] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--grade-every", type=int, default=20)
    options = parser.parse_args()

    rng = random.Random(options.seed)
    kinds: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    unexpected: list[tuple[str, bytes, str]] = []
    slowest = (0.0, "")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        for number in range(options.inputs):
            kind = rng.choices(list(GENERATORS), WEIGHTS)[0]
            data = GENERATORS[kind](rng)
            suffix = ".json" if data.lstrip(codecs.BOM_UTF8)[:1] in (b"{", b"[") else ".csv"
            if rng.random() < 0.5:
                suffix = rng.choice([".json", ".csv"])
            kinds[kind] += 1
            began = time.perf_counter()
            try:
                if number % 50 == 0:
                    path = Path(scratch) / f"input{suffix}"
                    path.write_bytes(data)
                    read = read_file(path, KNOWN)
                else:
                    text = decode(data, "fuzz")
                    if suffix == ".json":
                        read = [read_json(text, "fuzz", KNOWN, "fuzz")]
                    else:
                        read = read_csv(text, "fuzz", KNOWN, "fuzz")
                for each in read:
                    if isinstance(each, Unreadable):
                        outcomes["row unreadable"] += 1
                        continue
                    outcomes["submission read"] += 1
                    read_answers(each, outcomes)
                    if number % options.grade_every == 0:
                        grade_submission(each, KEY)
                        outcomes["submissions graded"] += 1
            except GraderError:
                outcomes["file refused (GraderError)"] += 1
            except Exception:  # counting what must never happen
                unexpected.append((kind, data, traceback.format_exc()))
            took = time.perf_counter() - began
            if took > slowest[0]:
                slowest = (took, kind)
    total = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"inputs: {options.inputs:,} (seed {options.seed})")
    for kind, count in kinds.most_common():
        print(f"  {kind:<16} {count:>8,}")
    print("outcomes:")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome:<32} {count:>8,}")
    print(f"unexpected exceptions: {len(unexpected)}")
    print(f"slowest input: {slowest[0] * 1000:.1f} ms ({slowest[1]})")
    print(f"total: {total:.1f} s ({total / options.inputs * 1e6:.0f} µs per input)")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")
    for kind, data, trace in unexpected[:5]:
        print(f"\n--- unexpected, from {kind}: {data[:200]!r}\n{trace}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
