"""Writing handouts (``grader sheet``): for each student, a folder with their handout and
their answers templates (``grader.render.handout``).

``DIR/<name>/handout.md``, ``DIR/<name>/<name>.json`` and ``DIR/<name>/<name>.csv``,
where ``<name>`` is the student's normalised id (the id their variant is drawn for) when
that is a safe file name, as the feedback files are named (``grader.run.output``); a CSV
answers file says who it is by its name, so an id that is not a safe name gets only the
JSON template (which names the student inside). Ids that normalise alike are one student,
written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import WriteError
from grader.render.handout import SheetFiles, render_handout, template_csv, template_json
from grader.run.output import feedback_stem
from grader.variants.variant import Template

HANDOUT = "handout.md"


@dataclass(frozen=True)
class Sheet:
    """One student's written handout."""

    student: str
    """The id as given (a roster's, or ``--student``)."""
    folder: Path
    attempt: int
    """Degenerate draws before the student's variant (``grader.variants.variant``)."""
    files: tuple[str, ...]


def write_sheets(template: Template, students: Sequence[str], out: Path) -> list[Sheet]:
    """Write the handout and templates of each student into ``out``; the sheets written,
    in order (an id normalising like an earlier one is skipped)."""
    written: list[Sheet] = []
    seen: set[str] = set()
    for given in students:
        student = given.strip()
        if not student:
            continue
        variant = template.variant(student)
        if variant.student in seen:
            continue
        seen.add(variant.student)
        name = feedback_stem(variant.student)
        csv_name = f"{name}.csv" if name == variant.student else None
        files = SheetFiles(f"{name}.json", csv_name)
        folder = out / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            texts = {
                HANDOUT: render_handout(variant.key, student, files),
                files.json_name: template_json(variant.key, student),
            }
            if csv_name is not None:
                texts[csv_name] = template_csv(variant.key)
            for file_name, text in texts.items():
                (folder / file_name).write_text(text, encoding="utf-8", newline="\n")
        except OSError as error:
            raise WriteError(
                f"{folder}: could not write the sheet: {error.strerror or error}"
            ) from None
        written.append(Sheet(student, folder, variant.attempt, tuple(texts)))
    return written
