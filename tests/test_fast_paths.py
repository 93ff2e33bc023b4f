"""The shortcuts taken for speed read exactly what the general readers read."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader import load_rubric, solve
from grader.errors import AnswerError
from grader.grading import compare
from grader.grading.results import plain_json
from grader.intake.values import read_numeric
from grader.memo import Memo
from grader.render import feedback, gradebook
from grader.rubric.models import DecimalsTolerance, RelativeTolerance, SigFigsTolerance
from grader.solver.key import Expressions

SHAPES = [(), (1,), (3,), (4,), (1, 3), (3, 1), (2, 2), (3, 3)]
number = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.floats(min_value=-1e3, max_value=1e3).map(lambda x: float(f"{x:.4g}")),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.sampled_from([0.0, -0.0, 1e-320, 5e-324, 1e308, -1e308]),
)


@st.composite
def answers(draw: st.DrawFn) -> tuple[Any, tuple[int, ...]]:
    """A list of numbers in some shape, and the shape a key expects (often another)."""
    given_shape = draw(st.sampled_from(SHAPES))
    size = int(np.prod(given_shape)) if given_shape else 1
    flat = draw(st.lists(number, min_size=size, max_size=size))
    value: Any = flat[0] if not given_shape else flat
    if len(given_shape) == 2:
        rows, cols = given_shape
        value = [flat[r * cols : (r + 1) * cols] for r in range(rows)]
    expected = draw(st.sampled_from([given_shape, *SHAPES]))
    return value, expected


def outcome(raw: Any, shape: tuple[int, ...]) -> tuple[str, Any]:
    """What read_numeric gives: the array, exactly (float.hex keeps -0.0 and NaN), or the
    error."""
    try:
        array = read_numeric(raw, shape)
    except AnswerError as error:
        return "error", error.detail
    return "value", (array.shape, [float.hex(x) for x in array.ravel().tolist()])


def around(cell: str) -> str:
    """The cell with what only the general reader takes: a space before a JSON-style
    list, an ``≈`` before a number."""
    return " " + cell if cell.startswith("[") else "≈" + cell


def matlab(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], list):
        return "; ".join(" ".join(repr(float(x)) for x in row) for row in value)
    if isinstance(value, list):
        return " ".join(repr(float(x)) for x in value)
    return repr(float(value))


@given(answers())
def test_json_lists_and_cells_read_as_the_general_reader_reads_them(
    case: tuple[Any, tuple[int, ...]],
) -> None:
    """A JSON list, the same list written in a cell JSON-style or MATLAB-style, and the
    same cells with what only the general reader accepts around them (a leading space,
    a leading ≈) give the same value, or the same error."""
    value, shape = case
    text = json.dumps(value)
    general = outcome(around(text), shape)
    assert outcome(text, shape) == general
    assert outcome(value, shape) == general
    floats = matlab(value)
    assert outcome(floats, shape) == outcome(around(floats), shape)


@pytest.mark.parametrize(
    "cell",
    [
        "[0,5, 1,5]",  # decimal commas
        "[1, 2",  # unbalanced
        "[NaN, 1, 2]",
        "[1e400, 1, 2]",
        "[01, 2, 3]",
        "[true, 2, 3]",
        "[[1, 2, 3]]",
        "1 - 2 3",
        "1 2 3;",
        "1,5 2 3",
        "−1 2 3",  # a Unicode minus
        "1 2 " + "3" * 1_200,
    ],
)
def test_cells_only_the_general_reader_reads_agree_either_way(cell: str) -> None:
    """Cells the shortcut leaves alone are read (or refused) as the general reader reads
    them (its messages count positions, which the prefix shifts)."""
    got, general = outcome(cell, (3,)), outcome(around(cell), (3,))
    assert got[0] == general[0]
    if got[0] == "value":
        assert got == general


@given(answers())
def test_json_lists_of_number_strings_read_as_the_general_reader_reads_them(
    case: tuple[Any, tuple[int, ...]],
) -> None:
    """``["0.52", "-1.5e-3"]`` (numbers sent as strings) is read as the general reader
    reads the same strings with a space before each, which only it accepts."""
    value, shape = case

    def texts(each: Any, prefix: str) -> Any:
        return [texts(x, prefix) for x in each] if isinstance(each, list) else prefix + repr(each)

    assert outcome(texts(value, ""), shape) == outcome(texts(value, " "), shape)


finite_or_not = st.one_of(number, st.sampled_from([math.nan, math.inf, -math.inf]))


@settings(max_examples=1000)
@given(
    st.lists(st.tuples(finite_or_not, number), min_size=1, max_size=12),
    st.sampled_from(
        [
            RelativeTolerance(mode="relative", rtol=0.02),
            RelativeTolerance(mode="relative", rtol=0.0, atol=1e-3),
            SigFigsTolerance(mode="sigfigs", digits=3),
            DecimalsTolerance(mode="decimals", places=2),
        ]
    ),
)
def test_the_key_entry_fast_path_compares_as_within(
    pairs: list[tuple[float, float]], tolerance: Any
) -> None:
    """``Criterion.accepts`` (plain floats, the allowed errors worked out once) gives each
    entry the verdict the general numpy path ``within`` gives it."""
    answer = np.array([float(a) for a, _ in pairs])
    expected = np.array([float(e) for _, e in pairs])
    general = compare.within(tolerance, answer, expected)
    fast = compare.criterion_of(tolerance, expected).accepts(answer.tolist())
    assert fast == general.tolist()


def _clipped(value: Any, depth: int = 0) -> Any:
    """What feedback shows of a value: the first 40 entries of each list (then "..."),
    three levels of lists at most, a mapping as "{...}"."""
    if isinstance(value, list):
        if depth >= 3:
            return "..."
        head = [_clipped(each, depth + 1) for each in value[:40]]
        return [*head, "..."] if len(value) > 40 else head
    return "{...}" if isinstance(value, dict) else value


_BIDI = {chr(c) for c in (0x61C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _reference_inline(value: Any) -> str:
    """``feedback.inline`` written out the general way: clip, serialise, fold spaces."""
    text = json.dumps(_clipped(value), ensure_ascii=False, default=str)
    text = " ".join(text.split()).replace("`", "'")
    text = "".join(f"\\x{ord(c):02x}" if c.isascii() and not c.isprintable() else c for c in text)
    text = "".join(f"\\x{ord(c):02x}" if 0x80 <= ord(c) <= 0x9F else c for c in text)
    text = "".join(f"\\u{ord(c):04x}" if c in _BIDI else c for c in text)
    return text if len(text) <= 300 else text[:297] + "..."


def _reference_plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, list):
        return [_reference_plain(each) for each in value]
    return value


entry_value = st.one_of(number, finite_or_not, st.booleans(), st.none(), st.text(max_size=3))
vectors_and_matrices = st.one_of(
    st.lists(entry_value, max_size=45),
    st.lists(st.lists(entry_value, max_size=45), max_size=45),
    st.lists(st.one_of(entry_value, st.lists(entry_value, max_size=3)), max_size=5),
)


@given(vectors_and_matrices)
@example([None] * 45)  # short entries: the clipping shows before the 300-character cut
@example([[0] * 41, [True]])
def test_answers_are_shown_and_recorded_as_the_general_paths_write_them(value: Any) -> None:
    """Lists of finite numbers go straight to JSON in the feedback and the record: the
    text is what the general paths (clipping, folding spaces, non-finite numbers as
    text) give."""
    assert feedback.inline(value) == _reference_inline(value)
    assert json.dumps(plain_json(value)) == json.dumps(_reference_plain(value))


@pytest.mark.parametrize("cell", ['["12", "131"]', '[["1", "2"], ["3", "4"]]'])
def test_a_text_holding_a_list_of_texts_is_not_read_as_numbers(cell: str) -> None:
    """Only a JSON list may hold numbers as strings; a cell (or JSON string) whose text
    is a list of quoted texts is refused as the general reader refuses it."""
    shape = (2,) if cell.count("[") == 1 else (2, 2)
    got = outcome(cell, shape)
    assert got[0] == "error"
    assert got == outcome(around(cell), shape)


def test_comparing_with_infinite_expected_values_warns_of_nothing() -> None:
    """A tolerance of atol only (rtol 0) against an infinite value: 0·inf is no warning
    (warnings are errors in this suite)."""
    tolerance = RelativeTolerance(mode="relative", rtol=0.0, atol=0.01)
    expected = np.array([math.inf, 1.0, -math.inf])
    assert compare.within(tolerance, np.array([1e308, 1.0, 2.0]), expected).tolist() == [
        False,
        True,
        False,
    ]


@settings(max_examples=500)
@given(st.lists(st.text(alphabet=st.sampled_from('ab ,"\n\r\t=\x00é'), max_size=4), max_size=5))
@example([])
@example([""])
@example(["", ""])
@example(["a\rb"])
def test_a_gradebook_line_is_the_csv_writer_s_line(cells: list[str]) -> None:
    """csv_line writes a row as the csv module writes it (csv_text of that one row),
    quoting, lone empty cells and line breaks included."""
    assert gradebook.csv_line(cells) == gradebook.csv_text([cells])


_HW_KEY = solve(load_rubric(Path(__file__).resolve().parent.parent / "rubrics" / "hw.yaml"))
_NUMERIC = [entry for entry in _HW_KEY if not isinstance(entry.expected, Expressions)]


@settings(max_examples=300)
@given(st.sampled_from(range(len(_NUMERIC))), st.floats(-0.05, 0.05), st.integers(0, 2**31))
def test_comparing_with_the_criterion_remembered_is_comparing_afresh(
    which: int, spread: float, seed: int
) -> None:
    """``compare.accepted`` with a ``Memo`` (the entry's allowed errors worked out once per
    batch) gives every entry the verdict it gives without one."""
    entry = _NUMERIC[which]
    expected = np.asarray(entry.expected, dtype=np.float64)
    noise = np.random.default_rng(seed).uniform(-1.0, 1.0, expected.shape)
    answer = expected * (1.0 + spread * noise)
    memo = Memo()
    for _ in range(2):  # first working the criterion out, then remembered
        assert (
            compare.accepted(entry, answer, memo).tolist()
            == compare.accepted(entry, answer).tolist()
        )
