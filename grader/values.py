"""Reading one answer, as a student wrote it, into the value the key's entry asks for.

A raw answer is what a file held: a JSON number, string or (nested) list, or a CSV cell's
text. Vectors and matrices may be JSON-style lists (``[[1, 2], [3, 4]]``) or MATLAB-style
(``1 2; 3 4``, ``[1, 2; 3, 4]``); each entry is a number as people type it (see
``grader.numbers``). Expression answers are lists of expressions in the function's
variables. Every failure is an ``AnswerError`` saying which entry and what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from grader import expr
from grader.errors import AnswerError, ExpressionError
from grader.numbers import NumberError, read_number

Array = NDArray[np.float64]

MAX_ENTRIES = 10_000
"""Most entries one answer may have, whatever the expected shape."""

_OPEN, _CLOSE = "([", ")]"


@dataclass(frozen=True)
class StudentExpressions:
    """A student's expressions, parsed, with the text they wrote."""

    exprs: tuple[expr.Expr, ...]
    texts: tuple[str, ...]


StudentValue = Array | StudentExpressions


def is_blank(raw: Any) -> bool:
    """A missing answer: nothing, an empty string, or an empty list."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    return isinstance(raw, list) and len(raw) == 0


def shape_text(shape: Sequence[int]) -> str:
    if len(shape) == 0:
        return "a number"
    if len(shape) == 1:
        return f"a vector of {shape[0]}"
    return f"a {shape[0]}×{shape[1]} matrix" if len(shape) == 2 else f"an array of shape {tuple(shape)}"


def read_numeric(raw: Any, shape: tuple[int, ...]) -> Array:
    """The numbers of ``raw`` as an array of ``shape`` (singleton dimensions forgiven)."""
    nested = _as_nested(raw)
    _check_size(nested)
    values = _to_floats(nested, ())
    array = _rectangular(values)
    if array.shape != shape:
        squeezed = array.reshape([n for n in array.shape if n != 1])
        if squeezed.shape == tuple(n for n in shape if n != 1):
            return squeezed.reshape(shape)
        raise AnswerError(
            f"read {shape_text(array.shape)}, expected {shape_text(shape)}"
            + _shape_hint(array.shape, shape)
        )
    return array


def _shape_hint(got: tuple[int, ...], shape: tuple[int, ...]) -> str:
    if len(shape) == 2 and len(got) == 1 and got[0] == shape[0] * shape[1]:
        return " (write the matrix row by row, e.g. [[1, 2], [3, 4]] or 1 2; 3 4)"
    return ""


def read_expressions(raw: Any, count: int, variables: Sequence[str]) -> StudentExpressions:
    """``count`` expressions in ``variables``, from a list or one cell's text."""
    if isinstance(raw, str):
        texts = _split_expression_cell(raw)
    elif isinstance(raw, list) and all(isinstance(each, str | int | float) for each in raw):
        texts = [str(each) for each in raw]
    else:
        raise AnswerError(f"expected a list of {count} expressions, got {type(raw).__name__}")
    if len(texts) != count:
        raise AnswerError(f"read {len(texts)} expressions, expected {count}")
    parsed = []
    for index, text in enumerate(texts):
        try:
            parsed.append(expr.parse(text, variables))
        except ExpressionError as error:
            raise AnswerError(f"entry [{index}]: {text!r}: {error}") from None
    return StudentExpressions(tuple(parsed), tuple(texts))


def _split_expression_cell(text: str) -> list[str]:
    body = text.strip()
    if body[:1] in "[(" and _matching_close(body, 0) == len(body) - 1:
        body = body[1:-1]
    separator = ";" if _split_top(body, ";")[1:] else ","
    pieces = [piece.strip().strip("'\"").strip() for piece in _split_top(body, separator)]
    return [piece for piece in pieces if piece]


# --- nested lists from text ---------------------------------------------------------


def _as_nested(raw: Any) -> Any:
    if isinstance(raw, str):
        return parse_array_text(raw)
    return raw


def _check_size(nested: Any) -> None:
    count, stack = 0, [nested]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            if len(stack) + len(item) > MAX_ENTRIES:
                raise AnswerError(f"more than {MAX_ENTRIES} entries")
            stack.extend(item)
        else:
            count += 1
            if count > MAX_ENTRIES:
                raise AnswerError(f"more than {MAX_ENTRIES} entries")


def parse_array_text(text: str) -> Any:
    """A cell's text as a number's text or nested lists of numbers' texts."""
    body = text.strip()
    if body[:1] == "[" and _matching_close(body, 0) == len(body) - 1:
        inner = body[1:-1].strip()
        if not inner:
            return []
        if _split_top(inner, ";")[1:]:
            return _matlab_rows(inner)
        pieces = _split_top(inner, ",")
        if len(pieces) > 1 or inner[:1] == "[":
            return [parse_array_text(piece) for piece in pieces]
        row = _row_entries(inner)
        return row if len(row) > 1 else [row[0]]
    if _split_top(body, ";")[1:]:
        return _matlab_rows(body)
    row = _row_entries(body)
    return row if len(row) > 1 else body


def _matlab_rows(text: str) -> list[Any]:
    rows = [row.strip() for row in _split_top(text, ";")]
    if rows and not rows[-1]:
        rows.pop()  # a trailing ';'
    return [_row_entries(row) for row in rows]


def _row_entries(row: str) -> list[str]:
    pieces = _split_top(row, ",")
    if len(pieces) > 1:
        return [piece.strip() for piece in pieces]
    return _merge_operators(_split_top(row, None))


def _merge_operators(tokens: list[str]) -> list[str]:
    """Whitespace-separated tokens back into entries: ``1 - 2`` is one, ``1 -2`` two."""
    entries: list[str] = []
    joining = False
    for token in (t for t in tokens if t):
        binary_start = token[0] in "*/^×·" or (token in ("+", "-"))
        if entries and (joining or binary_start):
            entries[-1] += " " + token
        else:
            entries.append(token)
        joining = token[-1] in "+-*/^×·"
    return entries


def _split_top(text: str, separator: str | None) -> list[str]:
    """Split at ``separator`` (whitespace if None) outside brackets and parentheses."""
    pieces, depth, current = [], 0, []
    for char in text:
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
        is_sep = char.isspace() if separator is None else char == separator
        if is_sep and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return [p.strip() for p in pieces if separator is not None or p.strip()]


def _matching_close(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] in _OPEN:
            depth += 1
        elif text[index] in _CLOSE:
            depth -= 1
            if depth == 0:
                return index
    return -1


# --- numbers ------------------------------------------------------------------------


def _to_floats(item: Any, index: tuple[int, ...]) -> Any:
    if isinstance(item, list):
        return [_to_floats(each, (*index, position)) for position, each in enumerate(item)]
    where = f"entry {list(index)}: " if index else ""
    if isinstance(item, bool) or item is None:
        raise AnswerError(f"{where}expected a number, got {json_text(item)}")
    if isinstance(item, int):
        if abs(item) > 10**308:
            raise AnswerError(f"{where}the number is too large")
        return float(item)
    if isinstance(item, float):
        return item
    if isinstance(item, str):
        try:
            return read_number(item)
        except NumberError as error:
            raise AnswerError(f"{where}{error}") from None
    raise AnswerError(f"{where}expected a number, got {type(item).__name__}")


def _rectangular(values: Any) -> Array:
    try:
        array = np.array(values, dtype=np.float64)
    except ValueError:
        raise AnswerError("the rows have different lengths") from None
    if array.ndim > 2:
        raise AnswerError(f"read an array of {array.ndim} dimensions; answers have at most 2")
    return array


def json_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return repr(value)
