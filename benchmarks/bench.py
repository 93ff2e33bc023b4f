"""How fast does ``grade`` go, next to the time it takes just to read the files?

    python benchmarks/bench.py                         # N = 1,000, 10,000, 100,000; --jobs 1 and 2
    python benchmarks/bench.py --sizes 10000 --jobs 1,2,4
    python benchmarks/bench.py --sizes 10000 --profile  # cProfile of `grade --jobs 1`

For each N it writes N synthetic submissions built from the rubric's own answer key
(the solver's values, never typed numbers): one JSON file or one ``question,answer`` CSV
per student, and whole-class CSVs of a section each, with right, rounded, wrong, missing
and malformed answers and files in realistic proportions. Then, each in a fresh process:

* **floor**: a plain loop that reads every file and parses it with ``json``/``csv``,
  and does nothing else (what no grader can beat);
* **floor + writes**: the floor, also writing what ``grade`` writes besides grading: a
  file per student and a results line, of the sizes ``grade`` writes (no grader that
  writes a feedback file per student can beat it; on a disk, creating the files is most
  of it);
* **grade**: ``grade DIR --rubric RUBRIC --out OUT --jobs J`` end to end, every output
  written.

It prints submissions per second, the ratio grade / floor, and the peak resident memory
of the largest process of the run (``getrusage(RUSAGE_CHILDREN).ru_maxrss`` in a fresh
measuring process, so one run's peak never hides another's). Outputs of every ``--jobs``
are checked to be byte-identical to those of the first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import AnswerKey, load_rubric, solve

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.synthetic import FORMATS, PROFILES, generate  # noqa: E402  (the repository root is on sys.path above)

# --- measuring -----------------------------------------------------------------------

FLOOR = r"""
import csv, io, json, os, sys
root, count = sys.argv[1], 0
out = sys.argv[2] if len(sys.argv) > 2 else None  # floor + writes: OUT FEEDBACK RECORD
if out:
    feedback, record = "x" * int(sys.argv[3]) + "\n", "y" * int(sys.argv[4]) + "\n"
    os.makedirs(os.path.join(out, "feedback"))
    jsonl = open(os.path.join(out, "results.jsonl"), "w", encoding="utf-8")
for name in sorted(os.listdir(root)):
    with open(os.path.join(root, name), encoding="utf-8", newline="") as file:
        text = file.read()
    if name.endswith(".json"):
        try:
            json.loads(text)
        except ValueError:
            pass
        students = 1
    else:
        rows = list(csv.reader(io.StringIO(text, newline="")))
        students = len(rows) - 1 if rows and rows[0][:1] == ["student_id"] else 1
    count += students
    if out:
        for number in range(count - students + 1, count + 1):
            jsonl.write(record)
            with open(os.path.join(out, "feedback", f"{number}.md"), "w", encoding="utf-8") as file:
                file.write(feedback)
if out:
    jsonl.close()
print(count)
"""
"""Read and parse every file, and nothing else. Given an output folder and two sizes, it
also writes what ``grade`` writes besides grading: a feedback file and a results line
per student of those sizes (the average sizes ``grade`` writes for the benchmark's
classes): no grader that writes a file per student can beat that."""

FEEDBACK_BYTES = 3_100
RECORD_BYTES = 5_100

MEASURE = r"""
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "seconds": seconds, "returncode": done.returncode, "peak_rss_kb": usage.ru_maxrss,
    "cpu": usage.ru_utime + usage.ru_stime, "stdout": done.stdout.decode()[-3000:],
    "stderr": done.stderr.decode()[-3000:],
}))
"""


@dataclass(frozen=True)
class Run:
    label: str
    seconds: float
    cpu: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def measure(label: str, command: Sequence[str]) -> Run:
    """Run ``command`` under a fresh measuring process: wall time, CPU, peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True
    )
    data = json.loads(done.stdout)
    return Run(
        label,
        data["seconds"],
        data["cpu"],
        data["peak_rss_kb"] / 1024,
        data["returncode"],
        data["stdout"],
        data["stderr"],
    )


def grade_command(folder: Path, rubric: Path, out: Path, jobs: int) -> list[str]:
    code = "import sys; from grader.cli import grade_main; sys.argv[0] = 'grade'; grade_main()"
    command = [sys.executable, "-c", code, str(folder), "--rubric", str(rubric), "--out", str(out)]
    return [*command, "--jobs", str(jobs)]


def same_outputs(first: Path, other: Path) -> bool:
    """Are two output folders byte-identical (gradebook, results, every feedback file)?"""
    for name in ("gradebook.csv", "results.jsonl"):
        if (first / name).read_bytes() != (other / name).read_bytes():
            return False
    left = sorted(p.name for p in (first / "feedback").iterdir())
    right = sorted(p.name for p in (other / "feedback").iterdir())
    return left == right and all(
        (first / "feedback" / n).read_bytes() == (other / "feedback" / n).read_bytes() for n in left
    )


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024**2:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {model}{memory}; "
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}"
    )


def filesystem(path: Path) -> str:
    """The type of the filesystem holding ``path`` (creating files costs very differently
    on a disk and in memory)."""
    best, kind = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            _, point, fstype, *_ = line.split()
            if str(path.resolve()).startswith(point) and len(point) > len(best):
                best, kind = point, fstype
    except (OSError, ValueError):
        pass
    return f"{kind} ({best or '?'})"


def load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def bench_size(
    count: int, rubric: Path, key: AnswerKey, jobs: Sequence[int], work: Path, repeat: int
) -> list[str]:
    folder = work / f"n{count}"
    start = time.perf_counter()
    tally = generate(folder, count, key)
    made = time.perf_counter() - start
    kinds = ", ".join(f"{name} {tally.get(name, 0)}" for name in (*PROFILES, *FORMATS))
    lines = [
        f"N = {count:,} students in {tally['files']:,} files (written in {made:.1f} s): {kinds}",
        f"  before the runs: {load()}",
        f"  {'run':<16}{'seconds':>9}{'cpu s':>9}{'subm/s':>10}{'× floor':>9}{'peak RSS':>11}",
    ]
    floor_runs = [
        measure("floor", [sys.executable, "-c", FLOOR, str(folder)]) for _ in range(repeat)
    ]
    floor = min(floor_runs, key=lambda run: run.seconds)
    if int(floor.stdout.strip() or 0) != count:
        raise SystemExit(f"floor counted {floor.stdout.strip()} submissions, expected {count}")
    writes_out = work / f"out-n{count}-writes"
    sizes = (str(FEEDBACK_BYTES), str(RECORD_BYTES))
    floor_writes = measure(
        "floor + writes",
        [sys.executable, "-c", FLOOR, str(folder), str(writes_out), *sizes],
    )
    shutil.rmtree(writes_out, ignore_errors=True)
    if floor_writes.stdout.strip() != floor.stdout.strip():
        raise SystemExit(f"floor + writes counted {floor_writes.stdout.strip()}, expected {count}")
    runs = [floor, floor_writes]
    outputs: list[Path] = []
    for job_count in jobs:
        out = work / f"out-n{count}-j{job_count}"
        tries = [
            measure(f"grade --jobs {job_count}", grade_command(folder, rubric, out, job_count))
            for _ in range(repeat)
        ]
        best = min(tries, key=lambda run: run.seconds)
        if best.returncode not in (0, 1):
            raise SystemExit(f"grade failed ({best.returncode}):\n{best.stderr}")
        rows = (out / "gradebook.csv").read_text(encoding="utf-8").count("\n") - 1
        if rows != count:
            raise SystemExit(f"the gradebook has {rows} rows, expected {count}")
        runs.append(best)
        outputs.append(out)
    for run in runs:
        ratio = run.seconds / floor.seconds
        lines.append(
            f"  {run.label:<16}{run.seconds:>9.2f}{run.cpu:>9.2f}{count / run.seconds:>10,.0f}"
            f"{ratio:>9.2f}{run.peak_rss_mb:>8.0f} MB"
        )
    if len(jobs) > 1:
        base = runs[2].seconds
        speedups = ", ".join(
            f"--jobs {j}: {base / run.seconds:.2f}×"
            for j, run in zip(jobs[1:], runs[3:], strict=True)
        )
        identical = all(same_outputs(outputs[0], other) for other in outputs[1:])
        lines.append(
            f"  speed-up over --jobs {jobs[0]}: {speedups}; outputs byte-identical: {identical}"
        )
    lines.append(f"  after the runs: {load()}")
    for out in outputs:
        shutil.rmtree(out, ignore_errors=True)
    return lines


def profile(count: int, rubric: Path, key: AnswerKey, work: Path, top: int) -> None:
    """cProfile of ``grade --jobs 1`` on ``count`` students: the top functions by own time."""
    import pstats

    folder = work / f"n{count}"
    if not folder.exists():
        generate(folder, count, key)
    stats_file = work / "grade.prof"
    code = (
        "import sys, cProfile; from grader.cli import grade_main; sys.argv[0] = 'grade'\n"
        f"cProfile.run('grade_main()', {str(stats_file)!r})"
    )
    command = [sys.executable, "-c", code, str(folder), "--rubric", str(rubric)]
    subprocess.run(
        [*command, "--out", str(work / "out-profile"), "--jobs", "1"],
        check=False,
        capture_output=True,
    )
    stats = pstats.Stats(str(stats_file))
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated N")
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values to time")
    parser.add_argument("--rubric", type=Path, default=ROOT / "rubrics" / "hw.yaml")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest counts")
    parser.add_argument("--workdir", type=Path, help="where to write (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated submissions")
    parser.add_argument("--profile", action="store_true", help="cProfile grade --jobs 1 instead")
    parser.add_argument("--top", type=int, default=30, help="functions the profile lists")
    options = parser.parse_args(argv)
    sizes = [int(size.replace("_", "")) for size in options.sizes.split(",")]
    jobs = [int(each) for each in options.jobs.split(",")]
    key = solve(load_rubric(options.rubric))
    work = Path(tempfile.mkdtemp(prefix="grader-bench-", dir=options.workdir))
    try:
        if options.profile:
            for count in sizes:
                profile(count, options.rubric, key, work, options.top)
            return
        print(f"machine: {machine()}")
        print(f"rubric: {options.rubric} ({len(key.entries)} answers)")
        print(f"files and outputs on: {filesystem(work)}")
        for count in sizes:
            print("\n".join(bench_size(count, options.rubric, key, jobs, work, options.repeat)))
            print(flush=True)
    finally:
        if options.keep:
            print(f"submissions kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
