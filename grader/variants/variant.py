"""A student's variant: their rubric, drawn, checked, and its answer key.

A draw is refused as *degenerate*, and drawn again, when it would make a graded quantity
useless for grading:

- **a near-zero entry**: an entry of a numeric answer whose magnitude is below 1 % of the
  largest magnitude of that answer's entries (in the variant's key or the template's),
  where the template's own entry is not (a sign, a ratio, a relative tolerance or a
  diagnosis has nothing to hold on to; a zero the template has too, such as a dead
  ReLU's gradient, is the mathematics and stays);
- **a saturated unit**: a sigmoid hidden unit whose activation is below 0.02 or above
  0.98 on some example (its derivative all but vanishes);
- **two alike**: two examples of one problem with the same inputs and target, or two
  answers of one shape whose keys are within each other's tolerance where the
  template's are not (the grader could not tell which one a student gave);
- **outside a domain**: a point where what an answer asks for is undefined (``log`` of a
  negative number, a division by zero), which would refuse a plain rubric.

The rule is deterministic: attempt 0 is drawn; while it is degenerate, attempt 1, 2, ...
is drawn afresh (the attempt number is part of what every entry is drawn from), and the
first acceptable attempt is the student's variant. After ``MAX_ATTEMPTS`` the rubric is
refused, naming the student and the last reason (the grids are too narrow).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.errors import RubricError, UsageError
from grader.rubric.load import plain_data, validate_rubric
from grader.rubric.models import NetworkProblem, Rubric
from grader.rubric.tolerance import allowed_error
from grader.solver.key import AnswerKey, Expressions, KeyEntry, solve
from grader.solver.network import network_spec
from grader.variants.draw import apply, draw_values
from grader.variants.identity import normalise_student_id

MAX_ATTEMPTS = 100
NEAR_ZERO = 0.01
"""An entry below this share of its answer's largest magnitude is near zero."""
SATURATED = 0.02
"""A sigmoid activation below this, or above 1 minus this, is saturated."""


@dataclass(frozen=True)
class Variant:
    """One student's variant of a template rubric."""

    student: str
    """The normalised student id it was drawn for."""
    attempt: int
    """How many degenerate draws came first (0: the first draw was kept)."""
    drawn: dict[str, Any]
    """Each draw's value, by draw name."""
    data: dict[str, Any]
    """The variant as plain rubric data (no ``variants`` block)."""
    key: AnswerKey

    @property
    def rubric(self) -> Rubric:
        return self.key.rubric


class Template:
    """A rubric with a ``variants`` block, with what every variant is compared with."""

    def __init__(self, rubric: Rubric, *, source: str = "<rubric>") -> None:
        if rubric.variants is None:
            raise UsageError(f"{source}: the rubric has no variants block")
        self.rubric = rubric
        self.variants = rubric.variants
        self.source = source
        self.data = plain_data(rubric)
        self.key = solve(validate_rubric(self.data, source=source), source=source)

    def normalise(self, student_id: str) -> str:
        return normalise_student_id(
            student_id,
            strip_domain=self.variants.strip_domain,
            strip_prefix=self.variants.strip_prefix,
        )

    def variant(self, student_id: str) -> Variant:
        """The student's variant (drawn again for each call: cache it, see ``keys``)."""
        student = self.normalise(student_id)
        if not student:
            raise UsageError(f"{self.source}: an empty student id has no variant")
        reason = ""
        for attempt in range(MAX_ATTEMPTS):
            drawn = draw_values(self.variants, self.data, student, attempt)
            data = apply(self.variants, self.data, drawn)
            source = f"{self.source} (variant of student {student!r})"
            rubric = validate_rubric(data, source=source)
            try:
                key = solve(rubric, source=source)
            except RubricError as error:  # a drawn point outside a function's domain
                reason = error.detail
                continue
            found = degenerate(key, self.key, data)
            if found is None:
                return Variant(student, attempt, drawn, data, key)
            reason = found
        raise RubricError(
            f"no acceptable variant for student {student!r} in {MAX_ATTEMPTS} draws "
            f"(the last: {reason}); widen the grids of the variants block",
            path=self.source,
            key="variants",
        )


def degenerate(key: AnswerKey, template: AnswerKey, data: dict[str, Any]) -> str | None:
    """Why a variant's key is degenerate (see the module's rules), or None."""
    numeric = [entry for entry in key if not isinstance(entry.expected, Expressions)]
    for entry in numeric:
        found = _near_zero(entry, template[entry.answer.id])
        if found is not None:
            return found
    found = _alike_examples(data)
    if found is not None:
        return found
    found = _saturated(key)
    if found is not None:
        return found
    for index, first in enumerate(numeric):
        for second in numeric[index + 1 :]:
            if first.shape != second.shape:
                continue
            if _alike(first, second) and not _alike(
                template[first.answer.id], template[second.answer.id]
            ):
                return f"{first.answer.id} and {second.answer.id} have alike keys"
    return None


def _near_zero(entry: KeyEntry, template: KeyEntry) -> str | None:
    values = np.abs(np.asarray(entry.flat_expected, dtype=np.float64))
    own = np.abs(np.asarray(template.flat_expected, dtype=np.float64))
    if not np.all(np.isfinite(values)):
        return f"{entry.answer.id} is not finite"
    if values.shape != own.shape:  # pragma: no cover - shapes come from the template
        return None
    scale = max(float(values.max(initial=0.0)), float(own.max(initial=0.0)))
    threshold = NEAR_ZERO * scale
    for position, (value, base) in enumerate(zip(values, own, strict=True)):
        if value < threshold and base >= threshold:
            return f"{entry.answer.id} entry {position + 1} is near zero ({value:.3g})"
    return None


def _alike(first: KeyEntry, second: KeyEntry) -> bool:
    a = np.asarray(first.expected, dtype=np.float64)
    b = np.asarray(second.expected, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        allowed = allowed_error(second.grading.tolerance, b)
    return bool(np.all(np.abs(a - b) <= allowed))


def _alike_examples(data: dict[str, Any]) -> str | None:
    for name, problem in data.get("problems", {}).items():
        examples = problem.get("examples") if isinstance(problem, dict) else None
        if not isinstance(examples, list):
            continue
        seen: dict[str, int] = {}
        for index, example in enumerate(examples):
            text = repr(example)
            if text in seen:
                return f"problems.{name}: examples {seen[text] + 1} and {index + 1} are the same"
            seen[text] = index
    return None


def _saturated(key: AnswerKey) -> str | None:
    """A sigmoid hidden unit (of any hidden layer) saturated on some example."""
    graph = key.graph
    memo: dict[str, Any] = {}
    for name, problem in key.rubric.problems.items():
        if not isinstance(problem, NetworkProblem):
            continue
        spec = network_spec(name, problem)
        for layer, each in enumerate(spec.layers[:-1], start=1):
            if each.activation.name != "sigmoid":
                continue
            for number in range(1, len(spec.examples) + 1):
                node = spec.node("activation", layer, number)
                z = np.asarray(graph.evaluate(node, memo=memo), dtype=np.float64)
                if np.any(z < SATURATED) or np.any(z > 1 - SATURATED):
                    return f"problems.{name}: a hidden unit is saturated on example {number}"
    return None
