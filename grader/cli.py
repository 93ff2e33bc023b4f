"""The command line: thin commands that parse options, call one library function, and
turn a ``GraderError`` into a message on stderr and its exit status.

    grade SUBMISSIONS --rubric RUBRIC [--out DIR] [--format plain|canvas|moodle] [--roster PATH]
          [--jobs N] [--limit NAME=VALUE ...]
    grader grade | check | report | classroom | gradescope | merge | key | variant | schema
    grade --version, grader --version
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TextIO

import typer

from grader import __version__
from grader.errors import GraderError, UsageError
from grader.intake.identity import visible
from grader.limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    from grader.run.batch import BatchReport

app = typer.Typer(
    name="grader",
    help="Grade numeric, vector, matrix and derivative homework from a rubric.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
grade_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

DISTRIBUTION = "backprop-grader"
"""The name the package is installed by (``pip install backprop-grader``); it imports as
``grader``."""


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"{DISTRIBUTION} {__version__}")
        raise typer.Exit()


VersionOption = Annotated[
    bool,
    typer.Option(
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
]


@app.callback()
def _grader(version: VersionOption = False) -> None:
    """Grade numeric, vector, matrix and derivative homework from a rubric."""


RubricOption = Annotated[
    Path, typer.Option("--rubric", "-r", help="The rubric YAML file.", show_default=False)
]


def terminal_safe(text: str) -> str:
    """``text`` (which may hold what a student wrote, a file name) as one line a terminal
    or a CI log shows as it is: control characters, terminal escapes and invisible
    characters written as escapes (``\\x1b``), and no ``::`` that GitHub Actions would
    take for a workflow command."""
    return visible(text).replace("::", ":\\:")


FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="Also write an LMS gradebook: canvas (canvas.csv) or moodle (moodle.csv); "
        "gradebook.csv is always written.",
    ),
]
"""``--format``: plain or an exporter's name (``grader.integrations.lms.FORMATS``, which
checks it; tests/test_lms_exports.py holds this help to that list)."""

RosterOption = Annotated[
    Path | None,
    typer.Option(
        help="The gradebook CSV exported from Canvas, or a Moodle roster; "
        "writes roster-report.csv too.",
        show_default=False,
    ),
]

AssignmentIdOption = Annotated[
    str | None,
    typer.Option(
        help="The Canvas assignment's id (default: the roster column titled like the rubric).",
        show_default=False,
    ),
]

StudentOption = Annotated[
    str | None,
    typer.Option(
        "--student",
        "-s",
        help="The student id whose variant to use (a rubric with a variants block).",
        show_default=False,
    ),
]


LimitOption = Annotated[
    list[str] | None,
    typer.Option(
        "--limit",
        metavar="NAME=VALUE",
        help="Set one cap on what is read (repeatable), e.g. max_seconds_per_submission=30; "
        "the caps and their defaults are in docs/untrusted-input.md.",
        show_default=False,
    ),
]
"""``--limit``: one field of ``grader.Limits`` (``Limits.with_options`` checks it)."""


def printable(text: str) -> str:
    """``text`` as UTF-8 can write it: a lone surrogate a student's JSON escape made
    (``\\ud800``) is written as that escape instead of stopping the command."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def fail(error: GraderError) -> NoReturn:
    """Print a user's error to stderr and exit with its status."""
    typer.echo(f"error: {terminal_safe(str(error))}", err=True)
    raise typer.Exit(error.exit_code)


class Progress:
    """A live count on stderr (students graded, rate), shown on a terminal once grading
    has taken more than half a second; the class size is not known ahead (a class CSV
    holds many), so it counts rather than fills a bar."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.clock = clock
        self.count = 0
        self.start = clock()
        self.last = 0.0
        self.shown = False

    def __call__(self, _result: object) -> None:
        self.count += 1
        now = self.clock()
        elapsed = now - self.start
        if self.enabled and elapsed > 0.5 and now - self.last > 0.1:
            self.last = now
            self.shown = True
            rate = self.count / elapsed
            self.stream.write(f"\rgrading: {self.count:,} students graded ({rate:,.0f}/s)")
            self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` as ``(K, N)``, 1 <= K <= N; a ``UsageError`` saying the form otherwise."""
    numbers = text.strip().split("/")
    if len(numbers) == 2 and all(each.strip().isascii() for each in numbers):
        try:
            part, parts = (int(each) for each in numbers)
        except ValueError:
            pass
        else:
            if 1 <= part <= parts:
                return part, parts
    raise UsageError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. 2/4")


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@app.command("grade")
def grade(
    submissions: Annotated[
        Path, typer.Argument(help="A submission file, or a folder of them.", show_default=False)
    ],
    rubric: RubricOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the outputs.")] = Path(
        "grades"
    ),
    format: FormatOption = "plain",
    roster: RosterOption = None,
    assignment_id: AssignmentIdOption = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Worker processes grading at once (the outputs do not depend on it).",
        ),
    ] = 1,
    shard: Annotated[
        str | None,
        typer.Option(
            help="Grade only part K of N of the submissions (K/N, e.g. 2/4): a block of "
            "the files in the order one run reads them, for `grader merge` to combine.",
            show_default=False,
        ),
    ] = None,
    limit: LimitOption = None,
    version: VersionOption = False,
) -> None:
    """Grade every submission and write gradebook.csv, results.jsonl, feedback/,
    items.csv and summary.md."""
    from grader.integrations.lms import lms_exports
    from grader.rubric.load import load_rubric
    from grader.run.batch import grade_path
    from grader.variants.keys import answer_key

    # A `kill` (SIGTERM, as CI and batch schedulers send) unwinds like Ctrl-C, so the
    # staging folder is removed and the previous outputs stay as they were.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    OUTPUT_FOLDER.append(out)
    try:
        part = parse_shard(shard) if shard is not None else None
        limits = DEFAULT_LIMITS.with_options(limit or [])
        key = answer_key(load_rubric(rubric), source=str(rubric))
        exports = lms_exports(format, roster, key.rubric, assignment_id)
        if not (submissions.is_dir() or submissions.is_file()):
            # A bad command line (exit 2), found before an output folder is made.
            raise UsageError(f"{submissions}: no such file or folder")
        if part is not None and submissions.is_dir() and _inside(out, submissions):
            raise UsageError(
                f"--out {out} is inside {submissions}: with --shard, another shard's outputs "
                "there would be read as submissions and shift the shards; write them elsewhere"
            )
        progress = Progress()
        try:
            report = grade_path(
                submissions,
                key,
                out,
                on_result=progress,
                exports=exports,
                jobs=jobs,
                shard=part,
                limits=limits,
            )
        finally:
            progress.close()
    except GraderError as error:
        fail(error)
    _print_report(report, out)


grade_app.command()(grade)


def _print_report(report: BatchReport, out: Path) -> NoReturn:
    """The class summary and what was written, then the problems; exit as the run says."""
    from grader.render.summary import render_summary

    typer.echo(render_summary(report.summary), nl=False)
    # every output by its path; similar.csv has a line of its own, saying what it holds
    names = [name for name in report.written if name != "similar.csv"]
    listed = [f"{out / name}{'/' if name.endswith('/') else ''}" for name in names]
    typer.echo(f"\nWrote {', '.join(listed[:-1])} and {listed[-1]}")
    for line in report.export_problems:
        typer.echo(terminal_safe(line), err=True)
    _print_similar(report, out)
    _print_problems(report)
    raise typer.Exit(report.exit_code)


def _print_similar(report: BatchReport, out: Path) -> None:
    """Where similar.csv went and how many pairs it lists (nothing for a shard)."""
    if report.similar is None:
        return
    pairs = (
        f"{report.similar} pair(s) of students with suspiciously alike submissions, to look at"
        if report.similar
        else "no pairs of students with suspiciously alike submissions"
    )
    typer.echo(f"Wrote {out / 'similar.csv'}: {pairs}")


def _print_problems(report: BatchReport) -> None:
    """The submissions that could not be read, the ids claimed twice and the
    resubmissions, on stderr,
    each on one line with what a student wrote made visible (no terminal escapes)."""
    if report.conflicts:
        typer.echo(
            f"{len(report.conflicts)} student id(s) are claimed by more than one submission; "
            "each has its own row, whose status begins 'id conflict': decide who is who:",
            err=True,
        )
        for line in report.conflicts:
            typer.echo(f"  {terminal_safe(line)}", err=True)
    if report.resubmissions:
        typer.echo(
            f"{len(report.resubmissions)} resubmission(s) in the LMS download (the later "
            "upload counts):",
            err=True,
        )
        for line in report.resubmissions:
            typer.echo(f"  {terminal_safe(line)}", err=True)
    if report.unreadable:
        typer.echo(f"{len(report.unreadable)} submission(s) could not be read:", err=True)
        for reason in report.unreadable:
            typer.echo(f"  {terminal_safe(reason)}", err=True)


@app.command("check")
def check(
    answers: Annotated[Path, typer.Argument(help="Your answers file.", show_default=False)],
    rubric: RubricOption,
    student: StudentOption = None,
    limit: LimitOption = None,
) -> None:
    """Grade one answers file and print its feedback (for a student checking their work).

    With a rubric with variants, the file's student_id (or --student) says whose
    numbers it answers."""
    from grader.render.feedback import render_feedback
    from grader.rubric.load import load_rubric
    from grader.run.single import grade_file
    from grader.variants.keys import answer_key

    try:
        limits = DEFAULT_LIMITS.with_options(limit or [])
        key = answer_key(load_rubric(rubric), source=str(rubric))
        results = grade_file(answers, key, student=student, limits=limits)
    except GraderError as error:
        fail(error)
    status = 0
    for result in results:
        status = 1 if result.status == "error" else status
        typer.echo(printable(render_feedback(result, key.rubric)))
    raise typer.Exit(status)


@app.command("report")
def report(
    grades_dir: Annotated[
        Path,
        typer.Argument(
            help="A graded run's folder (what grade or grader merge wrote).", show_default=False
        ),
    ],
    rubric: RubricOption,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="The HTML file to write (default: report.html in GRADES_DIR).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the class report: one self-contained HTML page with the score histogram,
    each question's outcomes and mistakes, discrimination and the students to talk to."""
    from grader.rubric.load import load_rubric
    from grader.run.report import write_report
    from grader.variants.keys import answer_key

    OUTPUT_FOLDER.append(out.parent if out is not None else grades_dir)
    try:
        key = answer_key(load_rubric(rubric), source=str(rubric))
        written, graded = write_report(grades_dir, key, out)
    except GraderError as error:
        fail(error)
    typer.echo(f"Wrote {written}: {len(graded.results)} students")


@app.command("classroom")
def classroom(
    answers: Annotated[
        Path, typer.Argument(help="The student's answers file.", show_default=False)
    ],
    rubric: RubricOption,
    github_output: Annotated[
        Path | None,
        typer.Option(
            envvar="GITHUB_OUTPUT",
            help="File to append result=<base64 JSON> to (set by GitHub Actions).",
            show_default=False,
        ),
    ] = None,
    step_summary: Annotated[
        Path | None,
        typer.Option(
            envvar="GITHUB_STEP_SUMMARY",
            help="File to append the feedback to (set by GitHub Actions).",
            show_default=False,
        ),
    ] = None,
    student: StudentOption = None,
    limit: LimitOption = None,
) -> None:
    """Grade one answers file in GitHub Actions for the GitHub Classroom reporter.

    Exit 0 whenever a result was written (the reporter fails the job); 2 if none could be.
    """
    from grader.integrations.classroom import run_classroom

    try:
        limits = DEFAULT_LIMITS.with_options(limit or [])
        run = run_classroom(
            answers,
            rubric,
            github_output=github_output,
            step_summary=step_summary,
            student=student,
            limits=limits,
        )
    except GraderError as error:
        fail(error)
    typer.echo(printable(run.feedback), nl=False)


@app.command("gradescope")
def gradescope(
    submission_dir: Annotated[
        Path,
        typer.Argument(help="The upload's folder (/autograder/submission).", show_default=False),
    ],
    rubric: RubricOption,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write Gradescope's results.json.")
    ] = Path("results.json"),
    metadata: Annotated[
        Path | None,
        typer.Option(
            help="Gradescope's submission_metadata.json, whose first submitter's email is "
            "the student id (default: the one beside SUBMISSION_DIR).",
            show_default=False,
        ),
    ] = None,
    limit: LimitOption = None,
) -> None:
    """Grade a Gradescope upload and write results.json (exit 2 only for a bad rubric or
    a bad --limit)."""
    from grader.integrations.gradescope import run_gradescope

    OUTPUT_FOLDER.append(out.parent)
    try:
        limits = DEFAULT_LIMITS.with_options(limit or [])
        data = run_gradescope(submission_dir, rubric, out, metadata=metadata, limits=limits)
    except GraderError as error:
        fail(error)
    except Exception as error:  # a bug: Gradescope still gets a results.json saying so
        _gradescope_failure(out, error)
        raise
    typer.echo(f"Wrote {out}: score {data['score']:g}")


def _gradescope_failure(out: Path, error: Exception) -> None:
    """A ``results.json`` for an upload the grader failed on (exit 4 follows)."""
    text = (
        "The autograder failed on this upload (an error of the grader, not of your answers: "
        f"{type(error).__name__}); tell your instructor. Nothing was graded."
    )
    data = {"score": 0, "output": text, "tests": [], "visibility": "visible"}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError:
        pass


@app.command("merge")
def merge(
    results: Annotated[
        list[Path],
        typer.Argument(
            help="The results.jsonl of each shard, in the order one run would read them.",
            show_default=False,
        ),
    ],
    rubric: RubricOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the outputs.")] = Path(
        "grades"
    ),
    format: FormatOption = "plain",
    roster: RosterOption = None,
    assignment_id: AssignmentIdOption = None,
) -> None:
    """Combine shards graded apart into the outputs of one run (gradebook, results,
    feedback, and an LMS gradebook with --format)."""
    from grader.integrations.lms import lms_exports
    from grader.rubric.load import load_rubric
    from grader.run.merge import merge_results
    from grader.variants.keys import answer_key

    OUTPUT_FOLDER.append(out)
    try:
        key = answer_key(load_rubric(rubric), source=str(rubric))
        exports = lms_exports(format, roster, key.rubric, assignment_id)
        report = merge_results(results, key, out, exports=exports)
    except GraderError as error:
        fail(error)
    _print_report(report, out)


@app.command("key")
def key(
    rubric: RubricOption,
    format: Annotated[
        str, typer.Option("--format", "-f", help="table (readable) or json (full precision).")
    ] = "table",
    student: StudentOption = None,
) -> None:
    """Print the answer key the solver computes from the rubric (a student's own key with
    --student, for a rubric with variants)."""
    from grader.rubric.load import load_rubric
    from grader.variants.keys import student_key

    if format not in ("table", "json"):
        typer.echo(f"error: --format must be 'table' or 'json', got {format!r}", err=True)
        raise typer.Exit(2)
    try:
        answer_key = student_key(load_rubric(rubric), student, source=str(rubric))
    except GraderError as error:
        fail(error)
    if format == "json":
        typer.echo(json.dumps(answer_key.to_json(), indent=2))
        return
    from grader.render.key_table import render_key_table

    typer.echo(render_key_table(answer_key), nl=False)


@app.command("variant")
def variant(
    rubric: RubricOption,
    student: Annotated[
        str, typer.Option("--student", "-s", help="The student id.", show_default=False)
    ],
) -> None:
    """Print a student's variant of a rubric with variants: the same rubric format with
    their own numbers and no variants block."""
    from grader.render.variant_yaml import render_variant_yaml
    from grader.rubric.load import load_rubric
    from grader.variants.variant import Template

    try:
        template = Template(load_rubric(rubric), source=str(rubric))
        drawn = template.variant(student)
    except GraderError as error:
        fail(error)
    typer.echo(render_variant_yaml(drawn, seed=template.variants.seed), nl=False)


@app.command("sheet")
def sheet(
    rubric: RubricOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the handouts.")] = Path(
        "sheets"
    ),
    student: StudentOption = None,
    roster: Annotated[
        Path | None,
        typer.Option(
            help="A CSV of the class: a student_id column, a Canvas gradebook export or a "
            "Moodle export (a handout for each student).",
            show_default=False,
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="The roster column holding the ids the submissions will carry, e.g. ID "
            "(Canvas's user id, for a Canvas bulk download) or Identifier (Moodle's "
            "participant, for a Moodle download).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write each student's handout (their own numbers) and answers templates, JSON and
    CSV, into OUT/<student>/ (a rubric with variants)."""
    from grader.integrations.lms import roster_student_ids
    from grader.rubric.load import load_rubric
    from grader.run.sheets import write_sheets
    from grader.variants.variant import Template

    try:
        if (student is None) == (roster is None):
            raise UsageError("give one of --student ID or --roster ROSTER.csv")
        template = Template(load_rubric(rubric), source=str(rubric))
        if id_column is not None and roster is None:
            raise UsageError("--id-column is for --roster")
        if roster is not None:
            students = roster_student_ids(roster, id_column)
        else:
            students = [student] if student is not None else []
        sheets = write_sheets(template, students, out)
    except GraderError as error:
        fail(error)
    redrawn = sum(1 for each in sheets if each.attempt)
    typer.echo(
        f"Wrote {len(sheets)} handout(s) into {out}/ ({redrawn} drawn again for a degenerate draw)"
    )


@app.command("schema")
def schema() -> None:
    """Print the rubric format's JSON Schema (for editors to check rubric files)."""
    from grader.rubric.models import Rubric

    typer.echo(json.dumps(Rubric.model_json_schema(), indent=2))


OUTPUT_FOLDER: list[Path] = []
"""The output folder of the running command, if it has one (where ``run`` writes the
traceback of an unexpected error)."""

ERROR_FILE = "grader-error.txt"


def run(application: Callable[[], object]) -> None:
    """Run a command; an ``OSError`` nobody turned into a message (a full disk) exits
    ``EXIT_WRITE``, any other unexpected exception ``EXIT_INTERNAL`` with one line on
    stderr and the traceback in ``grader-error.txt`` of the output folder (or of the
    temporary folder): never 1, the status that means 'some submissions unreadable'."""
    import traceback

    from grader.errors import EXIT_INTERNAL, EXIT_WRITE

    try:
        application()
    except OSError as error:
        typer.echo(
            f"error: could not finish: {terminal_safe(error.strerror or str(error))}"
            f"{f' ({error.filename})' if error.filename else ''}",
            err=True,
        )
        sys.exit(EXIT_WRITE)
    except Exception as error:  # a bug: say so in one line, keep the traceback
        text = traceback.format_exc()
        where = _traceback_file(text)
        typer.echo(
            f"internal error: {type(error).__name__}: {terminal_safe(str(error))[:300]} "
            f"(the grader's fault, not the submissions'; traceback in {where})",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)


def _traceback_file(text: str) -> str:
    import tempfile

    for folder in [*OUTPUT_FOLDER[-1:], Path(tempfile.gettempdir())]:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / ERROR_FILE
            path.write_text(text, encoding="utf-8", errors="backslashreplace")
            return str(path)
        except OSError:
            continue
    return "(nowhere: no folder could be written)"


def main() -> None:
    """Entry point of ``grader``."""
    run(app)


def grade_main() -> None:
    """Entry point of ``grade`` (the same as ``grader grade``)."""
    run(grade_app)
