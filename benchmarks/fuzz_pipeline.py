"""Fuzz the whole pipeline: hostile files and folders in, every output checked.

    python benchmarks/fuzz_pipeline.py [--inputs 100000] [--batch 1000] [--seed 14]
                                       [--jobs 1] [--workdir DIR]

Generates hostile submissions (``tests/hostile.py``: names with invisible, control and
look-alike characters, LMS download names, placeholder and forged ids, hostile answers,
broken CSVs and JSON, mutated and random bytes, every encoding), ``--batch`` at a time in a
submissions folder, grades each folder with ``grade_path`` (as ``grade`` does) and checks
it (``tests.hostile.grade_and_check``): no exception at all, no submission slower than
the per-submission time limit (``Limits.max_seconds_per_submission``), and no input lost
(each has its record, each record its gradebook row but LMS uploads a later one
replaced, each row its feedback file). Prints the figures; exit status 1 if any check
failed.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import load_rubric, solve  # noqa: E402
from grader.limits import DEFAULT_LIMITS  # noqa: E402
from tests.hostile import grade_and_check, hostile_inputs, place  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    options = parser.parse_args()

    key = solve(load_rubric(ROOT / "rubrics" / "hw.yaml"))
    answer_ids = [answer.id for answer in key.rubric.answers]
    budget = DEFAULT_LIMITS.max_seconds_per_submission
    rng = random.Random(options.seed)
    placed_total = refused_names = rows = records = 0
    slowest = 0.0
    failures: list[str] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=options.workdir) as scratch:
        done = 0
        while done < options.inputs:
            count = min(options.batch, options.inputs - done)
            folder = Path(scratch) / "in"
            out = Path(scratch) / "out"
            folder.mkdir()
            placed = []
            for entry in hostile_inputs(rng, count, answer_ids):
                path = place(entry, folder)
                if path is None:
                    refused_names += 1
                else:
                    placed.append(path)
            try:
                checked = grade_and_check(placed, folder, out, key, jobs=options.jobs)
            except BaseException as error:  # anything at all is a failure of the grader
                if isinstance(error, KeyboardInterrupt):
                    raise
                failures.append(f"batch at input {done}: {traceback.format_exc()}")
            else:
                placed_total += checked.inputs
                rows += checked.rows
                records += checked.records
                slowest = max(slowest, checked.slowest_seconds)
                failures += [f"batch at input {done}: {each}" for each in checked.lost]
                if checked.slowest_seconds > budget + 1:
                    failures.append(f"batch at input {done}: {checked.slowest_seconds:.1f} s")
            shutil.rmtree(folder)
            shutil.rmtree(out, ignore_errors=True)
            done += count
            print(
                f"\r{done:,} inputs, {len(failures)} failures, {time.perf_counter() - start:.0f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(file=sys.stderr)
    print(f"inputs generated:   {options.inputs:,} (seed {options.seed}, batch {options.batch:,})")
    print(f"placed on disk:     {placed_total:,} ({refused_names:,} names refused by the disk)")
    print(f"results.jsonl lines: {records:,}")
    print(f"gradebook rows:     {rows:,}")
    print(f"slowest submission: {slowest:.3f} s (limit {budget} s)")
    each = elapsed / max(options.inputs, 1) * 1000
    print(f"total time:         {elapsed:.0f} s ({each:.1f} ms an input)")
    print(f"peak memory:        {peak:.0f} MB")
    print(f"failures:           {len(failures)}")
    for failure in failures[:10]:
        print("  " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
