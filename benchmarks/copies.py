"""The copy check at scale: false positives on honest classes, planted copies found, and
the time the check takes.

    python benchmarks/copies.py                      # 10,000 students, 20 planted copies
    python benchmarks/copies.py --students 2000 --copies 10 --jobs 2

For ``rubrics/hw-variants.yaml`` (each student their own numbers) it generates a class of
honest students (``tests/synthetic.py``: right, rounded, mistaken, missing and unreadable
answers, each from the student's own variant) and the same class with planted copies
(a copier hands in an earlier student's answers as that student wrote them), grades each
with ``grade_path`` and reads ``similar.csv`` and ``results.jsonl``: pairs listed that
were not planted (false positives), planted pairs not listed (false negatives), students
named ``other_variant`` who copied nothing. For ``rubrics/hw.yaml`` (one key for all) it
does the same for an honest class (the ``same_wrong`` rule alone). The copy check's own
time (``CopyCheck.finish``: the index of the class's keys, every wrong answer looked up,
the pairs) is measured apart from grading.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.rubric.load import load_rubric  # noqa: E402  (the repository root is on sys.path)
from grader.run import copies  # noqa: E402
from grader.run.batch import grade_path  # noqa: E402
from grader.solver.key import AnswerKey  # noqa: E402
from grader.variants.keys import answer_key  # noqa: E402
from tests.synthetic import generate  # noqa: E402

CHECK_SECONDS: list[float] = []
_finish = copies.CopyCheck.finish


def _timed_finish(self: copies.CopyCheck) -> copies.CopyFindings:
    start = time.perf_counter()
    try:
        return _finish(self)
    finally:
        CHECK_SECONDS.append(time.perf_counter() - start)


copies.CopyCheck.finish = _timed_finish  # type: ignore[method-assign]


def planted(students: int, count: int, seed: int) -> dict[str, str]:
    """``count`` copiers, each copying an earlier student; no student in two pairs."""
    rng = random.Random(seed)
    ids = [f"s{number:06d}" for number in range(students)]
    chosen = rng.sample(range(1, students), count)
    used = set(chosen)
    pairs = {}
    for copier in chosen:
        source = rng.choice([n for n in range(copier) if n not in used][-50:] or [0])
        used.add(source)
        pairs[ids[copier]] = ids[source]
    return pairs


def run(
    work: Path, name: str, key: AnswerKey, students: int, jobs: int, copied: dict[str, str]
) -> None:
    slug = name.replace(" ", "-")
    folder, out = work / slug, work / f"{slug}-out"
    start = time.perf_counter()
    generate(folder, students, key, seed=2026, copies=copied)
    made = time.perf_counter() - start
    start = time.perf_counter()
    grade_path(folder, key, out, jobs=jobs)
    graded = time.perf_counter() - start
    with (out / "similar.csv").open(encoding="utf-8") as file:
        listed = {frozenset((row["student_a"], row["student_b"])) for row in csv.DictReader(file)}
    wanted = {frozenset(pair) for pair in copied.items()}
    named = set()
    with (out / "results.jsonl").open(encoding="utf-8") as file:
        for line in file:
            record = json.loads(line)
            codes = (code for item in record["items"] for code in item["diagnoses"])
            if any(code.startswith("other_variant:") for code in codes):
                named.add(record["student_id"])
    pairs_total = students * (students - 1) // 2
    print(
        f"{name}: {students:,} students, {len(copied)} planted copies | generate {made:.1f} s, "
        f"grade --jobs {jobs} {graded:.1f} s, copy check {CHECK_SECONDS[-1]:.2f} s | "
        f"pairs listed {len(listed)}: false positives {len(listed - wanted)} of "
        f"{pairs_total - len(wanted):,} pairs, false negatives {len(wanted - listed)} of "
        f"{len(wanted)} | named other_variant: {len(named)} students, "
        f"{len(named - set(copied))} of them not copiers",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as temporary:
        work = Path(temporary)
        variants = answer_key(load_rubric(ROOT / "rubrics" / "hw-variants.yaml"))
        plain = answer_key(load_rubric(ROOT / "rubrics" / "hw.yaml"))
        copied = planted(args.students, args.copies, seed=7)
        run(work, "hw-variants honest", variants, args.students, args.jobs, {})
        run(work, "hw-variants planted", variants, args.students, args.jobs, copied)
        run(work, "hw honest", plain, args.students, args.jobs, {})


if __name__ == "__main__":
    main()
