"""The ``variants`` block of a rubric: which parameters are drawn per student, and from what.

A rubric with this block is a *template*: its own numbers give each drawn parameter its
shape (and are the template's key), and each student gets the rubric with the drawn
numbers put in (``grader.variants``). Parameters are addressed by *paths* into the
rubric's data, the same for every kind of problem (the one-hidden-layer shorthand, a
network given layer by layer, functions):

    problems.net.W                     a whole matrix: every entry drawn
    problems.net.examples[0].y         one number (lists are indexed from 0)
    problems.deep.layers[1].W          a layer's weights
    answers[q2b.DF].at                 the point of the answer with id q2b.DF

This module is only the shape of the block and the reading of paths (plain data in,
plain data out); the draw itself is ``grader.variants.draw``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Grid(_Strict):
    """Evenly spaced values ``low, low + step, ..., high`` (both ends included)."""

    low: float = Field(description="The smallest value.")
    high: float = Field(description="The largest value (included when on the grid).")
    step: float = Field(gt=0, description="The spacing of the values.")


class Draw(_Strict):
    """One parameter drawn per student: every entry of the value at ``at`` (a number, a
    vector or a matrix, its shape that of the template) drawn from ``grid`` or
    ``choices``, the same drawn value written at every path of ``at``."""

    name: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The draw's name: part of what seeds it, and a placeholder {name} in "
        "`texts` (letters, digits, _).",
    )
    at: list[str] = Field(
        default_factory=list,
        description="Paths of the rubric data that get the drawn value (e.g. "
        "problems.net.W, problems.net.examples[0].y, answers[q2b.DF].at); empty for a "
        "number used only in `texts`.",
    )
    grid: Grid | None = Field(None, description="Draw each entry from an evenly spaced grid.")
    choices: list[float] | None = Field(
        None, min_length=1, description="Draw each entry from these values."
    )
    shape: list[int] | None = Field(
        None,
        description="The drawn value's shape when `at` is empty ([] or left out: a number).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Draw:
        if (self.grid is None) == (self.choices is None):
            raise ValueError("a draw needs exactly one of grid or choices")
        return self


class Text(_Strict):
    """A text of the rubric (a function's expression) written from a template whose
    ``{name}`` placeholders are numbers drawn by ``draws`` (e.g. ``({a}x + {b}y)^2``)."""

    at: str = Field(description="Path of the text, e.g. problems.calc.functions.f.expr[0].")
    template: str = Field(min_length=1, description="The text, with {name} placeholders.")


class Variants(_Strict):
    """Per-student parameters: each student's variant is a pure function of ``seed`` and
    their normalised student id."""

    seed: str | int = Field(
        description="The assignment's seed: a new seed gives every student new numbers."
    )
    draws: list[Draw] = Field(min_length=1, description="The parameters drawn per student.")
    texts: list[Text] = Field(default_factory=list, description="Texts written from drawn numbers.")
    strip_domain: bool = Field(
        True,
        description="Normalise a student id by dropping an @domain suffix "
        "(alice@uni.edu is alice).",
    )
    strip_prefix: str = Field(
        "",
        description="Normalise a student id by dropping this prefix, ignoring case (e.g. "
        "'hw1-', so a GitHub Classroom repository hw1-alice is student alice).",
    )


# --- paths --------------------------------------------------------------------------

_TOKEN = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)|(\.)")


class PathError(ValueError):
    """A path that does not parse or does not lead to a value of the rubric."""


def path_steps(path: str) -> list[str | int]:
    """``problems.net.examples[0].y`` as ``["problems", "net", "examples", 0, "y"]``; a
    bracket holding other than digits (``answers[q2b.DF]``) stays text: the list item
    whose ``id`` it is."""
    steps: list[str | int] = []
    position = 0
    expect_name = True
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None:
            raise PathError(f"path {path!r} does not parse at {path[position:]!r}")
        bracket, name, dot = match.groups()
        if dot is not None:
            if expect_name:
                raise PathError(f"path {path!r}: a name is missing before a '.'")
            expect_name = True
        elif name is not None:
            if not expect_name:
                raise PathError(f"path {path!r}: a '.' is missing before {name!r}")
            steps.append(name)
            expect_name = False
        else:
            if not bracket:
                raise PathError(f"path {path!r}: empty brackets")
            steps.append(int(bracket) if bracket.isdigit() else bracket)
            expect_name = False
        position = match.end()
    if not steps or expect_name:
        raise PathError(f"path {path!r} is empty or ends with '.'")
    return steps


def _child(container: Any, step: str | int, path: str) -> tuple[Any, str | int]:
    """The container's entry at ``step`` and the key or index it is stored under."""
    if isinstance(step, int):
        if not isinstance(container, list) or not 0 <= step < len(container):
            size = len(container) if isinstance(container, list) else "no"
            raise PathError(f"path {path!r}: no entry [{step}] (there are {size} entries)")
        return container[step], step
    if isinstance(container, list):
        for index, item in enumerate(container):
            if isinstance(item, dict) and item.get("id") == step:
                return item, index
        raise PathError(f"path {path!r}: no item with id {step!r}")
    if not isinstance(container, dict) or step not in container:
        known = ", ".join(map(str, container)) if isinstance(container, dict) else "none"
        raise PathError(f"path {path!r}: no key {step!r} (keys here: {known})")
    return container[step], step


def get_path(data: Any, path: str) -> Any:
    """The value at ``path`` in plain rubric data; ``PathError`` saying why not."""
    value = data
    for step in path_steps(path):
        value, _ = _child(value, step, path)
    return value


def set_path(data: Any, path: str, value: Any) -> None:
    """Put ``value`` at ``path`` in plain rubric data (the path must already exist)."""
    steps = path_steps(path)
    container = data
    for step in steps[:-1]:
        container, _ = _child(container, step, path)
    _, where = _child(container, steps[-1], path)
    container[where] = value


def shape_of(value: Any, path: str) -> tuple[int, ...]:
    """The shape of a number (``()``), a vector or a matrix of numbers; ``PathError``
    for anything else (a text, a mapping, rows of different lengths)."""
    if isinstance(value, bool):
        raise PathError(f"path {path!r} holds true/false, not numbers")
    if isinstance(value, int | float):
        return ()
    if isinstance(value, list) and value:
        shapes = {shape_of(each, path) for each in value}
        if len(shapes) == 1:
            inner = shapes.pop()
            if len(inner) < 2:
                return (len(value), *inner)
    raise PathError(f"path {path!r} holds {_kind(value)}, not a number, vector or matrix")


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "a text"
    if isinstance(value, dict):
        return "a mapping"
    return "a list that is not a vector or matrix of numbers"


def check_variants(variants: Variants, data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(key path, message)`` for each way the block does not fit the rubric's data."""
    names: dict[str, tuple[int, ...]] = {}
    placed: dict[str, str] = {}
    for index, draw in enumerate(variants.draws):
        base = f"variants.draws[{index}]"
        if draw.name in names:
            yield f"{base}.name", f"the draw name {draw.name!r} is used twice"
        if draw.grid is not None and draw.grid.high < draw.grid.low:
            yield f"{base}.grid", "high is below low"
        shapes: list[tuple[int, ...]] = []
        for position, path in enumerate(draw.at):
            try:
                shapes.append(shape_of(get_path(data, path), path))
            except PathError as error:
                yield f"{base}.at[{position}]", str(error)
                continue
            if path in placed:
                yield f"{base}.at[{position}]", f"{path!r} is also drawn by {placed[path]!r}"
            placed[path] = draw.name
        if len(set(shapes)) > 1:
            yield (
                f"{base}.at",
                "the paths hold values of different shapes "
                f"({', '.join(map(str, shapes))}): one drawn value goes to each",
            )
        if draw.at and draw.shape is not None:
            yield f"{base}.shape", "give the shape only for a draw without `at`"
        names[draw.name] = shapes[0] if shapes else tuple(draw.shape or ())
    for index, text in enumerate(variants.texts):
        base = f"variants.texts[{index}]"
        try:
            current = get_path(data, text.at)
        except PathError as error:
            yield f"{base}.at", str(error)
            continue
        if not isinstance(current, str):
            yield f"{base}.at", f"path {text.at!r} holds {_kind(current)}, not a text"
        for name in placeholders(text.template):
            if name not in names:
                yield f"{base}.template", f"{{{name}}} is not the name of a draw"
            elif names[name] != ():
                yield f"{base}.template", f"{{{name}}} is not a single number"


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders(template: str) -> list[str]:
    """The draw names a template's ``{name}`` placeholders refer to, in order."""
    return _PLACEHOLDER.findall(template)


def fill_template(template: str, numbers: dict[str, str]) -> str:
    """The template with each ``{name}`` replaced by its number's text."""
    return _PLACEHOLDER.sub(lambda match: numbers[match.group(1)], template)
