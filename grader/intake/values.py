"""Reading one answer, as a student wrote it, into the value the key's entry asks for.

A raw answer is what a file held: a JSON number, string or (nested) list, or a CSV cell's
text. Vectors and matrices may be JSON-style lists (``[[1, 2], [3, 4]]``), tuples
(``(1, 2)``) or MATLAB-style (``1 2; 3 4``, ``[1, 2; 3, 4]``); each entry is a number as
people type it (see ``grader.intake.numbers``). Expression answers are lists of expressions in
the function's variables. Every failure is an ``AnswerError`` saying which entry and what
was expected.

Decimal commas (``docs/untrusted-input.md``): with ``decimal_comma=True`` (the file is a
``;``- or tab-delimited spreadsheet), a cell that holds a comma between two digits and no
decimal point is read European-style: that comma is the decimal comma, and entries are
separated by spaces, ``;`` (rows) or a comma followed by a space (``[0,05 0,06]``,
``0,05; 0,06``, ``[0,05, 0,06]``). Elsewhere a comma separates entries; a decimal comma
is read only where the answer cannot be read another way: a number answered alone
(``0,52``, but ``1,234`` is ambiguous), or a cell with no decimal point whose commas, as
separators, do not give the expected shape (``"0,05 0,06 0,07"`` for a vector of 3).

Caps (``grader.limits.Limits``, passed as ``limits``): ``max_answer_text`` characters in
one answer's text, ``max_entries`` entries in one answer, ``max_list_depth`` levels of
nested lists, ``max_number_text`` characters of one number, and the expression caps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from grader.deadline import checkpoint
from grader.errors import AnswerError, ExpressionError
from grader.intake.numbers import read_number
from grader.limits import DEFAULT_LIMITS, Limits
from grader.solver import expr

Array = NDArray[np.float64]

_PAIRS = {"(": ")", "[": "]"}
_BRACKETS = re.compile(r"[()\[\]]")
_DIGITS = frozenset("0123456789")
_DIGIT_COMMA = re.compile(r"[0-9],[0-9]")
_DECIMAL_POINT = re.compile(r"[0-9]\.[0-9]|(?<![0-9])\.[0-9]")
_LEADING = "≈~∼≃="
_BINARY = "*/^×·"
# Every pattern applied to a student's text runs in linear time: no two adjacent or
# nested repetitions can share characters without a possessive quantifier (``*+``,
# ``++``) or a look-behind fixing where a match may start (tests/test_identity.py and
# tests/test_attacks.py run them on adversarial texts at the caps).
_PLAIN_NUMBER = re.compile(r"[+-]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+")


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
    return (
        f"a {shape[0]}×{shape[1]} matrix"
        if len(shape) == 2
        else f"an array of shape {tuple(shape)}"
    )


def uses_decimal_comma(text: str) -> bool:
    """Does a cell of a decimal-comma file use decimal commas (a comma between digits,
    and no decimal point)?"""
    return bool(_DIGIT_COMMA.search(text)) and not _DECIMAL_POINT.search(text)


_NUMPY_ROW_BREAK = re.compile(r"\][^\S\r\n]*+[\r\n]\s*+\[")
_LINE_BREAKS = re.compile(r"(?<![^\S\r\n])[^\S\r\n]*+[\r\n]\s*+")


def line_breaks_as_rows(text: str) -> str:
    """A cell's line breaks (Alt+Enter in Excel, pasted MATLAB or numpy output) separate
    rows: ``2 2⏎3 16`` is ``2 2; 3 16``, numpy's ``[[2. 2.]⏎ [3. 16.]]`` is
    ``[[2. 2.], [3. 16.]]``. A cell that already has ``;`` keeps them as its rows."""
    body = text.strip()
    if "\n" not in body and "\r" not in body:
        return text
    body = _NUMPY_ROW_BREAK.sub("], [", body)
    return _LINE_BREAKS.sub(" " if ";" in body else "; ", body)


def read_numeric(
    raw: Any,
    shape: tuple[int, ...],
    *,
    decimal_comma: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Array:
    """The numbers of ``raw`` as an array of ``shape`` (singleton dimensions forgiven).

    ``decimal_comma``: ``raw`` comes from a ``;``- or tab-delimited file, whose cells may
    use decimal commas (see the module docstring). ``limits``: the caps.
    """
    plain = _json_numbers(raw, shape, limits)  # performance: the common case, see there
    if plain is not None:
        return plain
    if not isinstance(raw, str):
        array = _read_array(raw, split_comma=False, number_comma=False, limits=limits)
        return _fit(array, shape, "")
    _check_text(raw, limits)
    raw = line_breaks_as_rows(raw)
    comma_cell = uses_decimal_comma(raw)
    european = decimal_comma and comma_cell
    number_error: AnswerError | None = None
    if shape == ():
        try:  # one number: "0,52" cannot be read as anything else
            number = read_number(raw, decimal_comma=european, limits=limits)
            return np.array(number, dtype=np.float64)
        except AnswerError as error:
            number_error = error
    try:
        array = _read_array(raw, split_comma=european, number_comma=european, limits=limits)
        return _fit(array, shape, _comma_hint(raw, european))
    except AnswerError as error:
        if number_error is not None and _DIGIT_COMMA.search(raw):
            raise number_error from None
        if comma_cell and not european:
            try:  # read with commas as separators, it does not fit: decimal commas do?
                array = _read_array(raw, split_comma=True, number_comma=False, limits=limits)
                return _fit(array, shape, "")
            except AnswerError:
                pass
        hint = _comma_hint(raw, european)
        if hint and "comma" not in error.detail:
            raise AnswerError(error.detail + hint) from None
        raise


def _json_numbers(raw: Any, shape: tuple[int, ...], limits: Limits) -> Array | None:
    """Performance: the common answer read at C speed, or None for the general reader.

    A JSON number, a JSON list of numbers or of equal rows of numbers, or a cell that
    holds one, written JSON-style (``[[0.1, 0.2], [0.3, 0.4]]``) or MATLAB-style with
    spaces and semicolons (``0.1 0.2; 0.3 0.4``), in exactly the expected shape: each
    number is ``float`` of its text, as ``read_number`` reads a plain number, so the value
    is the one the general reader gives. Anything else (another shape, a comma outside
    a JSON list, a possible decimal comma, text around the list, NaN, a number of more
    than ``max_number_text`` characters, deeper lists, true/false) is left to the
    general reader. (Profile of ``grade``, 10,000 students: 50 µs per JSON list and
    200-350 µs per cell before, 2-20 µs after; read_numeric was a third of the time.)
    """
    longest = limits.max_number_text
    from_text = isinstance(raw, str)  # a text's list holding texts is not numbers
    if from_text:
        if len(raw) > limits.max_answer_text:
            return None
        if raw[:1] == "[":
            if uses_decimal_comma(raw):
                return None
            try:
                raw = _cell_json(len(raw), longest).decode(raw)
            except (ValueError, RecursionError):
                return None
        else:
            raw = _matlab_numbers(raw, scalar=not shape, longest=longest)
            if raw is None:
                return None
    if not shape:
        kind = type(raw)
        if kind is float or (kind is int and -(2**53) < raw < 2**53):
            return np.array(float(raw), dtype=np.float64)
        return None
    if type(raw) is not list or len(shape) > min(2, limits.max_list_depth) or len(raw) != shape[0]:
        return None
    if shape[0] * (shape[1] if len(shape) == 2 else 1) > limits.max_entries:
        return None  # the caps are the general reader's to apply
    texts = False
    for row in raw if len(shape) == 2 else (raw,):
        if type(row) is not list or len(row) != shape[-1]:
            return None
        for number in row:
            kind = type(number)
            if kind is str:  # a JSON list of numbers as strings, ["0.52", "-1.5e-3"]
                if from_text or len(number) > longest or not _PLAIN_NUMBER.fullmatch(number):
                    return None
                texts = True
            elif kind is not float and (kind is not int or not -(2**53) < number < 2**53):
                return None  # an int that large: float() rounds it, as the general reader
    if texts:  # a plain number's text is read as float() of it, as read_number does
        raw = [[float(x) for x in row] for row in raw] if len(shape) == 2 else list(map(float, raw))
    return np.array(raw, dtype=np.float64)


def _matlab_numbers(text: str, *, scalar: bool, longest: int) -> Any:
    """``1 2; 3 4`` as rows of floats, ``1 2 3`` as one list (a lone number as a number
    if ``scalar``), if every entry is a plain ASCII number; else None."""
    if "," in text:
        return None
    rows = [row.split() for row in text.split(";")] if ";" in text else [text.split()]
    for row in rows:
        if not row:
            return None
        for token in row:
            if len(token) > longest or not _PLAIN_NUMBER.fullmatch(token):
                return None
    floats = [[float(token) for token in row] for row in rows]
    if ";" in text:
        return floats
    return floats[0][0] if scalar and len(floats[0]) == 1 else floats[0]


def _refuse(text: str) -> float:
    raise ValueError(text)


_CELL_JSON = json.JSONDecoder(parse_int=float, parse_float=float, parse_constant=_refuse)
"""A cell's JSON list, numbers as floats of their text, NaN refused (built once: ``json.loads``
with hooks builds a decoder per call)."""


def _cell_json(length: int, longest: int) -> json.JSONDecoder:
    """The decoder of a cell's JSON list of ``length`` characters whose numbers may have
    at most ``longest`` characters: ``_CELL_JSON`` when no number can be that long (the
    common case), else one that refuses longer numbers (the general reader says why)."""
    if length <= longest:
        return _CELL_JSON

    def plain_float(text: str) -> float:
        if len(text) > longest:
            raise ValueError("too long for a number")
        return float(text)

    return json.JSONDecoder(parse_int=plain_float, parse_float=plain_float, parse_constant=_refuse)


def _fit(array: Array, shape: tuple[int, ...], hint: str) -> Array:
    if array.shape == shape:
        return array
    squeezed = array.reshape([n for n in array.shape if n != 1])
    if squeezed.shape == tuple(n for n in shape if n != 1):
        return squeezed.reshape(shape)
    if len(shape) == 2 and array.ndim == 1 and array.shape[0] == shape[0] * shape[1]:
        hint = " (write the matrix row by row, e.g. [[1, 2], [3, 4]] or 1 2; 3 4)"
    raise AnswerError(f"read {shape_text(array.shape)}, expected {shape_text(shape)}{hint}")


def _comma_hint(raw: str, comma: bool) -> str:
    if not _DIGIT_COMMA.search(raw):
        return ""
    if comma:
        return (
            " (in this file a comma between digits is a decimal comma: separate the "
            "entries with spaces or '; ', e.g. 0,5 1,5 or 0,5; 1,5)"
        )
    return " (a comma separates entries here: write decimals with a point, 0.5 not 0,5)"


def _read_array(raw: Any, *, split_comma: bool, number_comma: bool, limits: Limits) -> Array:
    """``raw`` as an array; ``split_comma``: a comma between digits does not separate
    entries; ``number_comma``: such a comma is the decimal comma even in ``1,234``."""
    nested = (
        parse_array_text(raw, decimal_comma=split_comma, limits=limits)
        if isinstance(raw, str)
        else raw
    )
    _check_size(nested, limits)
    return _rectangular(_to_floats(nested, (), number_comma, limits))


def read_expressions(
    raw: Any,
    count: int,
    variables: Sequence[str],
    *,
    decimal_comma: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> StudentExpressions:
    """``count`` expressions in ``variables``, from a list or one cell's text."""
    if isinstance(raw, str):
        _check_text(raw, limits)
        raw = line_breaks_as_rows(raw)
        texts = _split_expression_cell(raw, decimal_comma and uses_decimal_comma(raw), limits)
    elif isinstance(raw, list):
        if len(raw) != count:
            raise AnswerError(f"read {len(raw)} expressions, expected {count}")
        texts = [_expression_text(each, index) for index, each in enumerate(raw)]
    else:
        raise AnswerError(f"expected a list of {count} expressions, got {kind_of(raw)}")
    if len(texts) != count:
        raise AnswerError(f"read {len(texts)} expressions, expected {count}")
    parsed = []
    for index, text in enumerate(texts):
        checkpoint()
        try:
            parsed.append(_parse(text, tuple(variables), limits))
        except ExpressionError as error:
            raise AnswerError(f"entry [{index}]: {_short(text)!r}: {error}") from None
    return StudentExpressions(tuple(parsed), tuple(texts))


def _parse(text: str, variables: tuple[str, ...], limits: Limits) -> expr.Expr:
    """``expr.parse`` under ``limits`` (a repeated answer is not read again: its item is
    remembered, ``grader.grading.grade``)."""
    return expr.parse(
        text,
        variables,
        max_length=limits.max_expression_length,
        max_depth=limits.max_expression_depth,
        max_nodes=limits.max_expression_nodes,
        max_number_length=limits.max_literal_length,
    )


def _expression_text(item: Any, index: int) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, int | float) and not isinstance(item, bool):
        if isinstance(item, int) and item.bit_length() > 1_100:
            raise AnswerError(f"entry [{index}]: the number is too large")
        return repr(item)
    raise AnswerError(f"entry [{index}]: expected an expression, got {kind_of(item)}")


def _split_expression_cell(text: str, decimal_comma: bool, limits: Limits) -> list[str]:
    cell = _Cell(text, decimal_comma, limits.max_list_depth)
    start, end = cell.unwrap(*cell.strip(0, len(text)))
    pieces = cell.split(start, end, ";")
    if len(pieces) == 1:
        pieces = cell.split(start, end, ",")
    texts = [text[a:b].strip().strip("'\"").strip() for a, b in pieces]
    if decimal_comma:
        texts = [re.sub(r"(?<=[0-9]),(?=[0-9])", ".", each) for each in texts]
    return [each for each in texts if each]


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def kind_of(value: Any) -> str:
    """What a JSON value is, in the words of a message."""
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _check_text(text: str, limits: Limits) -> None:
    if len(text) > limits.max_answer_text:
        raise AnswerError(
            f"the answer is {len(text):,} characters long, "
            f"more than the {limits.max_answer_text:,} allowed"
        )


# --- nested lists from text ---------------------------------------------------------


def _check_size(nested: Any, limits: Limits) -> None:
    """Refuse more than ``max_entries`` entries or ``max_list_depth`` levels, early."""
    count, stack = 0, [(nested, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list):
            if depth >= limits.max_list_depth:
                raise AnswerError(
                    f"lists nested more than {limits.max_list_depth} deep; an answer is a "
                    "number, a vector, a matrix or a stack of matrices"
                )
            if count + len(stack) + len(item) > limits.max_entries:
                raise AnswerError(f"more than {limits.max_entries:,} entries")
            stack.extend((each, depth + 1) for each in item)
        else:
            count += 1


def parse_array_text(
    text: str, *, decimal_comma: bool = False, limits: Limits = DEFAULT_LIMITS
) -> Any:
    """A cell's text as a number's text or nested lists of numbers' texts.

    Linear in the text's length and never recursing more than ``max_list_depth`` deep;
    unbalanced brackets are an ``AnswerError``.
    """
    _check_text(text, limits)
    cell = _Cell(text, decimal_comma, limits.max_list_depth)
    return cell.parse(0, len(text), 0)


class _Cell:
    """One answer's text with its brackets matched once, parsed by index spans."""

    def __init__(self, text: str, decimal_comma: bool, max_depth: int) -> None:
        self.text = text
        self.decimal_comma = decimal_comma
        self.max_depth = max_depth
        self.closes = _match_brackets(text)

    def strip(self, start: int, end: int) -> tuple[int, int]:
        text = self.text
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end

    def wrapped(self, start: int, end: int) -> bool:
        return end > start and self.closes.get(start) == end - 1

    def unwrap(self, start: int, end: int) -> tuple[int, int]:
        return self.strip(start + 1, end - 1) if self.wrapped(start, end) else (start, end)

    def parse(self, start: int, end: int, level: int) -> Any:
        """The span as an entry's text, or a list nested inside ``level`` others."""
        start, end = self.strip(start, end)
        if start == end:
            return ""
        if self.wrapped(start, end):
            square = self.text[start] == "["
            inner = self.strip(start + 1, end - 1)
            if inner[0] == inner[1]:
                return [] if square else self.text[start:end]
            items = self.items(*inner, level)
            if items is not None:
                return items
            if square:
                self.deeper(level, 1)
                return [self.text[inner[0] : inner[1]]]
            return self.text[start:end]  # (1 + 2): an expression
        items = self.items(start, end, level)
        return self.text[start:end] if items is None else items

    def items(self, start: int, end: int, level: int) -> list[Any] | None:
        """The entries of a list's inside, or None if it holds one entry."""
        blocks = self.split(start, end, "|")
        if len(blocks) > 1:  # matrices one after another: 1 2; 3 4 | 5 6; 7 8
            if blocks[-1][0] == blocks[-1][1]:
                blocks.pop()  # a trailing '|'
            self.deeper(level, 3)
            return [self.block(*block) for block in blocks]
        rows = self.split(start, end, ";")
        if len(rows) > 1:
            if rows[-1][0] == rows[-1][1]:
                rows.pop()  # a trailing ';'
            self.deeper(level, 2)
            return [self.row(*row) for row in rows]
        pieces = self.split(start, end, ",")
        if len(pieces) > 1 or (self.text[start] == "[" and self.wrapped(start, end)):
            self.deeper(level, 1)
            return [self.parse(a, b, level + 1) for a, b in pieces]
        row = self.row(start, end)
        if len(row) > 1:
            self.deeper(level, 1)
            return row
        return None

    def block(self, start: int, end: int) -> list[Any]:
        """One matrix of a stack, its rows separated by ';' (or a bracketed list)."""
        start, end = self.unwrap(*self.strip(start, end))
        rows = self.split(start, end, ";")
        if len(rows) > 1:
            if rows[-1][0] == rows[-1][1]:
                rows.pop()
            return [self.row(*row) for row in rows]
        parsed = self.parse(start, end, 1)
        if isinstance(parsed, list) and parsed and isinstance(parsed[0], list):
            return parsed
        if isinstance(parsed, list) and any(isinstance(item, list) for item in parsed):
            self.deeper(self.max_depth, 1)  # one row of the matrix holding lists ('|,0 0')
        return [parsed] if isinstance(parsed, list) else [[parsed]]

    def deeper(self, level: int, by: int) -> None:
        if level + by > self.max_depth:
            raise AnswerError(
                f"lists nested more than {self.max_depth} deep; an answer is a number, "
                "a vector, a matrix or a stack of matrices"
            )

    def row(self, start: int, end: int) -> list[str]:
        start, end = self.strip(start, end)
        if self.wrapped(start, end) and self.text[start] == "[":
            start, end = self.strip(start + 1, end - 1)
        pieces = self.split(start, end, ",")
        if len(pieces) > 1:
            return [self.text[a:b] for a, b in pieces]
        return _merge_operators([self.text[a:b] for a, b in self.split(start, end, " ")])

    def split(self, start: int, end: int, separator: str) -> list[tuple[int, int]]:
        """Spans between ``separator`` (``" "``: any whitespace) outside brackets."""
        text, closes, comma = self.text, self.closes, self.decimal_comma
        spans: list[tuple[int, int]] = []
        begin, index = start, start
        while index < end:
            char = text[index]
            if char in "([":
                index = closes[index] + 1
                continue
            cut = char.isspace() if separator == " " else char == separator
            if cut and separator == "," and comma:
                cut = not (
                    text[index - 1 : index] in _DIGITS and text[index + 1 : index + 2] in _DIGITS
                )
            if cut:
                spans.append(self.strip(begin, index))
                begin = index + 1
            index += 1
        spans.append(self.strip(begin, end))
        if separator == " ":
            return [span for span in spans if span[0] < span[1]]
        return spans


def _match_brackets(text: str) -> dict[int, int]:
    """Index of each opening bracket -> its closing one; refuse unbalanced brackets."""
    closes: dict[int, int] = {}
    stack: list[int] = []
    for match in _BRACKETS.finditer(text):
        index, char = match.start(), match.group()
        if char in _PAIRS:
            stack.append(index)
            continue
        if not stack:
            raise AnswerError(f"unmatched '{char}' at position {index + 1}")
        opened = stack.pop()
        if _PAIRS[text[opened]] != char:
            raise AnswerError(
                f"'{char}' at position {index + 1} does not match '{text[opened]}' "
                f"at position {opened + 1}"
            )
        closes[opened] = index
    if stack:
        raise AnswerError(f"'{text[stack[-1]]}' at position {stack[-1] + 1} is never closed")
    return closes


def _merge_operators(tokens: list[str]) -> list[str]:
    """Whitespace-separated tokens back into entries: ``1 - 2`` is one, ``1 -2`` two,
    ``≈ 0.5`` one."""
    entries: list[str] = []
    joining = False
    for token in tokens:
        binary_start = token[0] in _BINARY or token in ("+", "-")
        if entries and (joining or binary_start):
            entries[-1] += " " + token
        else:
            entries.append(token)
        joining = token[-1] in "+-" + _BINARY or not token.strip(_LEADING)
    return entries


# --- numbers ------------------------------------------------------------------------


def _to_floats(item: Any, index: tuple[int, ...], decimal_comma: bool, limits: Limits) -> Any:
    """Nested lists of raw entries as nested lists of floats (depth already capped)."""
    if isinstance(item, list):
        return [
            _to_floats(each, (*index, position), decimal_comma, limits)
            for position, each in enumerate(item)
        ]
    where = f"entry {list(index)}: " if index else ""
    if isinstance(item, bool) or item is None:
        raise AnswerError(f"{where}expected a number, got {json_text(item)}")
    if isinstance(item, int):
        try:
            return float(item)
        except OverflowError:  # too large for a float: infinite, as 1e400 is
            return float("inf") if item > 0 else float("-inf")
    if isinstance(item, float):
        return item
    if isinstance(item, str):
        try:
            return read_number(item, decimal_comma=decimal_comma, limits=limits)
        except AnswerError as error:
            raise AnswerError(f"{where}{error.detail}") from None
    raise AnswerError(f"{where}expected a number, got {kind_of(item)}")


def _rectangular(values: Any) -> Array:
    try:
        array = np.array(values, dtype=np.float64)
    except ValueError:
        raise AnswerError("the rows have different lengths") from None
    if array.ndim > 3:
        raise AnswerError(f"read an array of {array.ndim} dimensions; answers have at most 3")
    return array


def json_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)
