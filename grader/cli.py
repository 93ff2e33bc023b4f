"""The command line: thin commands that parse options, call one library function, and
turn a ``GraderError`` into a message on stderr and its exit status.

    grade SUBMISSIONS --rubric RUBRIC [--out DIR]
    grader grade | check | key | schema
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from grader.errors import GraderError

app = typer.Typer(
    name="grader",
    help="Grade numeric, vector, matrix and derivative homework from a rubric.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
grade_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

RubricOption = Annotated[
    Path, typer.Option("--rubric", "-r", help="The rubric YAML file.", show_default=False)
]


def fail(error: GraderError) -> NoReturn:
    """Print a user's error to stderr and exit with its status."""
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(error.exit_code)


class Progress:
    """A one-line progress count on stderr, shown when grading takes more than a moment."""

    def __init__(self, total_files: int) -> None:
        self.total_files = total_files
        self.count = 0
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False
        self.enabled = sys.stderr.isatty()

    def __call__(self, _result: object) -> None:
        self.count += 1
        now = time.monotonic()
        if self.enabled and now - self.start > 0.5 and now - self.last > 0.1:
            self.last = now
            self.shown = True
            sys.stderr.write(f"\rgrading: {self.count} students graded")
            sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 40 + "\r")
            sys.stderr.flush()


@app.command("grade")
def grade(
    submissions: Annotated[
        Path, typer.Argument(help="A submission file, or a folder of them.", show_default=False)
    ],
    rubric: RubricOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the outputs.")] = Path(
        "grades"
    ),
) -> None:
    """Grade every submission and write gradebook.csv, results.jsonl and feedback/."""
    from grader.batch import grade_path
    from grader.readers import discover
    from grader.render.summary import render_summary
    from grader.rubric_file import load_rubric
    from grader.solver import solve

    try:
        key = solve(load_rubric(rubric))
        progress = Progress(len(discover(submissions)))
        try:
            report = grade_path(submissions, key, out, on_result=progress)
        finally:
            progress.close()
    except GraderError as error:
        fail(error)
    typer.echo(render_summary(report.summary), nl=False)
    typer.echo(f"\nWrote {out / 'gradebook.csv'}, {out / 'results.jsonl'} and {out / 'feedback'}/")
    if report.unreadable:
        typer.echo(f"{len(report.unreadable)} submission(s) could not be read:", err=True)
        for reason in report.unreadable:
            typer.echo(f"  {reason}", err=True)
    raise typer.Exit(report.exit_code)


grade_app.command()(grade)


@app.command("check")
def check(
    answers: Annotated[Path, typer.Argument(help="Your answers file.", show_default=False)],
    rubric: RubricOption,
) -> None:
    """Grade one answers file and print its feedback (for a student checking their work)."""
    from grader.grading import grade_submission, unreadable_result
    from grader.readers import read_file
    from grader.render.feedback import render_feedback
    from grader.rubric_file import load_rubric
    from grader.solver import solve
    from grader.submission import Unreadable

    try:
        key = solve(load_rubric(rubric))
        known = [answer.id for answer in key.rubric.answers]
        try:
            read = read_file(answers, known)
        except GraderError as error:
            read = [Unreadable(answers.stem, str(answers), getattr(error, "detail", str(error)))]
    except GraderError as error:
        fail(error)
    status = 0
    for submission in read:
        if isinstance(submission, Unreadable):
            result = unreadable_result(submission, key)
            status = 1
        else:
            result = grade_submission(submission, key)
        typer.echo(render_feedback(result, key.rubric))
    raise typer.Exit(status)


@app.command("key")
def key(
    rubric: RubricOption,
    format: Annotated[
        str, typer.Option("--format", "-f", help="table (readable) or json (full precision).")
    ] = "table",
) -> None:
    """Print the answer key the solver computes from the rubric."""
    from grader.rubric_file import load_rubric
    from grader.solver import solve

    if format not in ("table", "json"):
        typer.echo(f"error: --format must be 'table' or 'json', got {format!r}", err=True)
        raise typer.Exit(2)
    try:
        answer_key = solve(load_rubric(rubric))
    except GraderError as error:
        fail(error)
    if format == "json":
        typer.echo(json.dumps(answer_key.to_json(), indent=2))
        return
    from grader.render.key_table import render_key_table

    typer.echo(render_key_table(answer_key), nl=False)


@app.command("schema")
def schema() -> None:
    """Print the rubric format's JSON Schema (for editors to check rubric files)."""
    from grader.rubric import Rubric

    typer.echo(json.dumps(Rubric.model_json_schema(), indent=2))


def main() -> None:
    """Entry point of ``grader``."""
    app()


def grade_main() -> None:
    """Entry point of ``grade`` (the same as ``grader grade``)."""
    grade_app()
