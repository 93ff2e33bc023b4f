"""How long does the slowest class CSV within the caps take to grade?

    python benchmarks/long_expressions.py [--rows 10000] [--row-bytes 1070] [--jobs 1]

Builds a class CSV of ``--rows`` students, each row one long expression answer filling
``--row-bytes`` (``tests.synthetic.long_expression_class``; the defaults fill
``Limits.max_file_bytes``, 10 MiB), grades it with ``grade_path`` as ``grade`` does, and
prints the file's size, the CPU and wall time, and the time per row.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import load_rubric, solve  # noqa: E402
from grader.limits import DEFAULT_LIMITS  # noqa: E402
from grader.run.batch import grade_path  # noqa: E402
from tests.synthetic import long_expression_class  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--row-bytes", type=int, default=1_070)
    parser.add_argument("--jobs", type=int, default=1)
    options = parser.parse_args()
    key = solve(load_rubric(ROOT / "rubrics" / "hw.yaml"))
    text = long_expression_class(key, options.rows, options.row_bytes)
    size = len(text.encode("utf-8"))
    if size > DEFAULT_LIMITS.max_file_bytes:
        print(f"{size:,} bytes is over max_file_bytes; lower --row-bytes", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "class.csv"
        path.write_text(text, encoding="utf-8")
        cpu, wall = time.process_time(), time.perf_counter()
        report = grade_path(path, key, Path(scratch) / "out", jobs=options.jobs)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{options.rows:,} rows, {size:,} bytes: {cpu:.1f} s CPU (this process), "
        f"{wall:.1f} s wall, {1000 * wall / options.rows:.2f} ms a row; "
        f"exit status {report.exit_code}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
