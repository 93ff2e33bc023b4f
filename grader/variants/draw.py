"""Drawing a student's parameters: SHA-256 of the seed, the student and the entry.

Every entry is drawn on its own from a stream of bytes that depends only on text:

    SHA-256("grader-variants/1" ␟ seed ␟ student ␟ attempt ␟ draw name ␟ entry ␟ counter)

(␟ is the unit separator U+001F, the texts UTF-8, ``seed`` as written in the rubric,
``student`` the normalised id, ``entry`` the entry's position row by row, ``counter`` 0,
1, ... for rejection). The first 8 bytes, read as a big-endian integer u, pick value
number ``u mod n`` of the draw's n values, unless u falls in the last, incomplete block of
n (then the next counter is used), so every value is exactly as likely. Nothing depends
on Python's ``hash``, on numpy's generators, on the platform or on the order of other
draws: adding a draw leaves the others as they were.

Grid values are computed in decimal (``low + k·step``), so ``-0.05 … 0.05 step 0.01``
gives exactly the numbers 0.03 and -0.01 as written, and a grid of whole numbers gives
integers.
"""

from __future__ import annotations

import copy
import hashlib
import math
from decimal import Decimal
from typing import Any

from grader.rubric.variants import Draw, Variants, fill_template, get_path, set_path, shape_of

STREAM = "grader-variants/1"
"""Names the drawing rule; a new rule would get a new name (and new variants)."""
_SEPARATOR = "\x1f"


def values_of(draw: Draw) -> list[int | float]:
    """The values a draw's entries are drawn from, in order."""
    if draw.choices is not None:
        return [_plain(Decimal(repr(value))) for value in draw.choices]
    grid = draw.grid
    if grid is None:  # pragma: no cover - the model requires one of them
        raise ValueError(f"draw {draw.name!r} has no values")
    low, high, step = (Decimal(repr(value)) for value in (grid.low, grid.high, grid.step))
    count = int((high - low) / step) + 1
    return [_plain(low + index * step) for index in range(count)]


def _plain(number: Decimal) -> int | float:
    """A grid value as the rubric would write it: an int when whole, else the float."""
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def pick(count: int, *parts: str) -> int:
    """A number in ``range(count)``, uniform, from the SHA-256 stream of ``parts``."""
    text = _SEPARATOR.join((STREAM, *parts))
    limit = (2**64 // count) * count
    counter = 0
    while True:
        digest = hashlib.sha256(f"{text}{_SEPARATOR}{counter}".encode()).digest()
        number = int.from_bytes(digest[:8], "big")
        if number < limit:
            return number % count
        counter += 1


def draw_values(
    variants: Variants, data: dict[str, Any], student: str, attempt: int
) -> dict[str, Any]:
    """Each draw's value (a number, or nested lists) for ``student`` (normalised id) at
    ``attempt``; shapes from the template ``data``."""
    seed = str(variants.seed)
    drawn: dict[str, Any] = {}
    for draw in variants.draws:
        if draw.at:
            shape = shape_of(get_path(data, draw.at[0]), draw.at[0])
        else:
            shape = tuple(draw.shape or ())
        values = values_of(draw)
        flat = [
            values[pick(len(values), seed, student, str(attempt), draw.name, str(entry))]
            for entry in range(math.prod(shape))
        ]
        drawn[draw.name] = _reshape(flat, shape)
    return drawn


def _reshape(flat: list[Any], shape: tuple[int, ...]) -> Any:
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    width = shape[1]
    return [flat[row * width : (row + 1) * width] for row in range(shape[0])]


def number_text(value: int | float) -> str:
    """A drawn number as written into an expression: negative ones in parentheses."""
    text = str(value) if isinstance(value, int) else repr(value)
    return f"({text})" if value < 0 else text


def apply(variants: Variants, data: dict[str, Any], drawn: dict[str, Any]) -> dict[str, Any]:
    """A copy of the template ``data`` with the drawn values (and texts) put in."""
    out = copy.deepcopy(data)
    for draw in variants.draws:
        for path in draw.at:
            set_path(out, path, copy.deepcopy(drawn[draw.name]))
    numbers = {
        name: number_text(value) for name, value in drawn.items() if not isinstance(value, list)
    }
    for text in variants.texts:
        set_path(out, text.at, fill_template(text.template, numbers))
    return out
