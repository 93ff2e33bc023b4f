"""Answer keys per student: each variant solved once per batch, whoever asks for it.

``answer_key(rubric)`` is what every command grades with: for a rubric without variants
it is the plain key; with variants, the template's key carrying a ``VariantKeys`` that
draws and solves a student's variant the first time their id (normalised) is seen, and
keeps it for the rest of the batch (and the class's keys for the copy check).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from grader.errors import UsageError
from grader.rubric.models import Rubric
from grader.solver.key import AnswerKey, solve
from grader.variants.variant import Template, Variant


class VariantKeys:
    """A batch's cache of variants by normalised student id (picklable: a ``--jobs``
    worker gets the template and draws the variants it needs itself; the draws are
    pure, so every process gets the same keys)."""

    def __init__(self, rubric: Rubric, *, source: str = "<rubric>") -> None:
        self.template = Template(rubric, source=source)
        self._cache: dict[str, Variant] = {}

    def variant(self, student_id: str) -> Variant:
        student = self.template.normalise(student_id)
        found = self._cache.get(student)
        if found is None:
            found = self._cache[student] = self.template.variant(student)
        return found

    def __call__(self, student_id: str) -> AnswerKey:
        return self.variant(student_id).key

    def __len__(self) -> int:
        return len(self._cache)

    def __getstate__(self) -> dict[str, Any]:
        return {"rubric": self.template.rubric, "source": self.template.source}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["rubric"], source=state["source"])  # type: ignore[misc]


def answer_key(rubric: Rubric, *, source: str = "<rubric>") -> AnswerKey:
    """The key to grade with: the plain key, or the template's with its variants."""
    if rubric.variants is None:
        return solve(rubric, source=source)
    keys = VariantKeys(rubric, source=source)
    return replace(keys.template.key, per_student=keys)


def variant_keys(key: AnswerKey) -> VariantKeys | None:
    """The variants behind a key, if it has them."""
    return key.per_student if isinstance(key.per_student, VariantKeys) else None


def student_key(rubric: Rubric, student: str | None, *, source: str = "<rubric>") -> AnswerKey:
    """The key ``grader key`` prints: the rubric's, or (``student`` given) that student's.

    A rubric with variants needs a student (its own numbers are only the template's); a
    student given for a rubric without variants is refused rather than ignored.
    """
    if rubric.variants is None:
        if student is not None:
            raise UsageError(f"{source}: --student: the rubric has no variants block")
        return solve(rubric, source=source)
    if student is None:
        raise UsageError(
            f"{source}: the rubric draws its numbers per student: give --student ID "
            "(each student has their own key)"
        )
    return VariantKeys(rubric, source=source)(student)
