"""Reading one answer: vectors and matrices in every common notation, decimal commas by
the documented rules, expressions, and caps; for any input, a value of the asked shape or
the project's own error."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.errors import AnswerError, GraderError
from grader.intake.values import (
    parse_array_text,
    read_expressions,
    read_numeric,
    uses_decimal_comma,
)
from grader.limits import DEFAULT_LIMITS, Limits

M = [[1.0, 2.0], [3.0, 4.0]]

NOTATIONS: list[tuple[str, str, tuple[int, ...], Any]] = [
    ("JSON list", "[0.5, 1.5, -2]", (3,), [0.5, 1.5, -2.0]),
    ("JSON matrix", "[[1, 2], [3, 4]]", (2, 2), M),
    ("MATLAB matrix", "1 2; 3 4", (2, 2), M),
    ("MATLAB in brackets with commas", "[1, 2; 3, 4]", (2, 2), M),
    ("MATLAB rows in brackets", "[[1 2]; [3 4]]", (2, 2), M),
    ("MATLAB trailing semicolon", "1 2; 3 4;", (2, 2), M),
    ("space separated", "0.5 1.5 -2", (3,), [0.5, 1.5, -2.0]),
    ("tuple", "(0.5, 1.5, -2)", (3,), [0.5, 1.5, -2.0]),
    ("column for a vector", "12; 131", (2,), [12.0, 131.0]),
    ("singleton for a number", "[0.5]", (), 0.5),
    ("spaced minus is subtraction", "[1 - 2, 3]", (2,), [-1.0, 3.0]),
    ("unspaced minus is a sign", "1 -2", (2,), [1.0, -2.0]),
    ("expressions as entries", "[exp(0) / (1 + 1), 1/4]", (2,), [0.5, 0.25]),
    ("approximately per entry", "≈ 0.5 ≈ 0.25", (2,), [0.5, 0.25]),
    ("Unicode minus entries", "\u22120.5 \u22121", (2,), [-0.5, -1.0]),
    ("a lone decimal comma number", "0,52", (), 0.52),
]


@pytest.mark.parametrize(
    ("case", "text", "shape", "expected"), NOTATIONS, ids=[n[0] for n in NOTATIONS]
)
def test_common_notations_read_as_the_numbers_meant(
    case: str, text: str, shape: tuple[int, ...], expected: Any
) -> None:
    """Each notation students use reads as the array meant."""
    assert np.allclose(read_numeric(text, shape), expected, rtol=1e-12, atol=0)


DECIMAL_COMMA_CELLS: list[tuple[str, str, tuple[int, ...], Any]] = [
    ("spaces between entries", "[0,05675 0,05715 0,05722]", (3,), [0.05675, 0.05715, 0.05722]),
    ("semicolons between entries", "0,05675; 0,05715; 0,05722", (3,), [0.05675, 0.05715, 0.05722]),
    ("comma and space between entries", "[0,5, 1,5]", (2,), [0.5, 1.5]),
    ("MATLAB matrix", "-0,5 1,25; 2 -3,75", (2, 2), [[-0.5, 1.25], [2.0, -3.75]]),
    ("one number", "\u221215,89", (), -15.89),
    ("approximately", "≈ 0,0567", (), 0.0567),
    ("three digits after the comma", "-1,027", (), -1.027),
    ("no comma at all", "[[2, 2], [3, 16]]", (2, 2), [[2.0, 2.0], [3.0, 16.0]]),
    ("decimal points: commas separate", "[0.5,1.5]", (2,), [0.5, 1.5]),
]


@pytest.mark.parametrize(
    ("case", "text", "shape", "expected"),
    DECIMAL_COMMA_CELLS,
    ids=[n[0] for n in DECIMAL_COMMA_CELLS],
)
def test_cells_of_a_decimal_comma_file_read_european_style(
    case: str, text: str, shape: tuple[int, ...], expected: Any
) -> None:
    """In a ;- or tab-delimited file, a cell with commas between digits and no point
    uses decimal commas; entries are separated by spaces, ';' or ', '."""
    read = read_numeric(text, shape, decimal_comma=True)
    assert read.shape == shape and np.allclose(read, expected, rtol=1e-12, atol=0)


def test_without_the_hint_commas_separate_entries_when_that_fits() -> None:
    """Outside decimal-comma files, [1,2] is two entries."""
    assert read_numeric("[1,2]", (2,)).tolist() == [1.0, 2.0]
    assert read_numeric("[1,2,3]", (3,)).tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("text", "shape", "expected"),
    [
        ("0,05675 0,05715 0,05722", (3,), [0.05675, 0.05715, 0.05722]),
        ("[0,5, 1,5]", (2,), [0.5, 1.5]),
        ("0,5 1; 2 3,25", (2, 2), [[0.5, 1.0], [2.0, 3.25]]),
    ],
)
def test_without_the_hint_decimal_commas_are_read_where_nothing_else_fits(
    text: str, shape: tuple[int, ...], expected: Any
) -> None:
    """A JSON string or quoted cell whose commas cannot be separators (the shape would
    be wrong) and that has no decimal point reads with decimal commas."""
    assert np.allclose(read_numeric(text, shape), expected, rtol=1e-12, atol=0)


def test_without_the_hint_thousands_like_entries_stay_ambiguous() -> None:
    """[1,234, 2,345]: four entries do not fit, but 1,234 may be 1234: refused, saying so."""
    with pytest.raises(AnswerError, match=r"read a vector of 4.*write decimals with a point"):
        read_numeric("[1,234, 2,345]", (2,))


def test_an_ambiguous_list_in_a_decimal_comma_cell_is_refused() -> None:
    """[1,2,3] in a decimal-comma cell: a thousands separator? a list? Refused."""
    with pytest.raises(AnswerError, match="several commas"):
        read_numeric("[1,2,3]", (3,), decimal_comma=True)


def test_a_one_number_for_a_vector_in_a_decimal_comma_cell_explains_the_comma() -> None:
    """-15,89 for a vector of 3 is one number there, and the message says how to list."""
    with pytest.raises(AnswerError, match=r"read a number, expected a vector of 3.*decimal comma"):
        read_numeric("\u221215,89", (3,), decimal_comma=True)


@pytest.mark.parametrize(
    ("text", "decimal"),
    [("0,5", True), ("[0,5 1,5]", True), ("[0.5, 1]", False), ("1, 2", False), ("0,5 0.5", False)],
)
def test_a_cell_uses_decimal_commas_when_it_has_them_and_no_point(text: str, decimal: bool) -> None:
    """The per-cell rule of decimal-comma files."""
    assert uses_decimal_comma(text) is decimal


def test_the_thousands_question_is_asked_for_a_single_number() -> None:
    """'1,234' for a number is refused as ambiguous, not read as a vector of two."""
    with pytest.raises(AnswerError, match="ambiguous"):
        read_numeric("1,234", ())


SHAPE_ERRORS: list[tuple[Any, tuple[int, ...], str]] = [
    ("1 2 3 4", (2, 2), "read a vector of 4, expected a 2×2 matrix (write the matrix row by row"),
    ([1, 2, 3], (2,), "read a vector of 3, expected a vector of 2"),
    ([[1, 2], [3]], (2, 2), "the rows have different lengths"),
    ("[1, 2", (2,), "'[' at position 1 is never closed"),
    ("1, 2]", (2,), "unmatched ']' at position 5"),
    ("[1, 2)", (2,), "')' at position 6 does not match '['"),
    ("[[[[1]]]]", (1,), "lists nested more than 3 deep"),
    ([[[[1.0]]]], (), "lists nested more than 3 deep"),
    ([1, None], (2,), "entry [1]: expected a number, got null"),
    ([1, True], (2,), "entry [1]: expected a number, got true"),
    ({"a": 1}, (), "expected a number, got an object"),
    ("[1,,2]", (3,), "entry [1]: empty"),
]


@pytest.mark.parametrize(("raw", "shape", "message"), SHAPE_ERRORS)
def test_unreadable_answers_say_what_was_read_and_expected(
    raw: Any, shape: tuple[int, ...], message: str
) -> None:
    """Wrong shapes, unbalanced brackets, deep lists and non-numbers are explained."""
    with pytest.raises(AnswerError) as caught:
        read_numeric(raw, shape)
    assert message in caught.value.detail


def test_non_finite_json_numbers_are_read_for_grading_to_mark_wrong() -> None:
    """NaN, infinities and integers too large for a float come through as non-finite."""
    array = read_numeric([math.nan, math.inf, 10**400, -(10**400)], (4,))
    assert np.isnan(array[0]) and array[1] == math.inf
    assert array[2] == math.inf and array[3] == -math.inf


def test_more_entries_than_the_cap_are_refused_before_any_is_read() -> None:
    """A million-entry list is refused at once, as text or as JSON."""
    start = time.process_time()
    with pytest.raises(AnswerError, match="more than 10,000 entries"):
        read_numeric([0] * 1_000_000, (3,))
    with pytest.raises(AnswerError, match="characters long"):
        read_numeric(" ".join(["0"] * 1_000_000), (3,))
    assert time.process_time() - start < 1.0


def test_caps_are_the_limits_passed() -> None:
    """Limits(max_entries=, max_answer_text=) lower the caps of that call only."""
    with pytest.raises(AnswerError, match="more than 2 entries"):
        read_numeric([1, 2, 3], (3,), limits=Limits(max_entries=2))
    assert read_numeric([1, 2, 3], (3,)).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(AnswerError, match="more than the 5 allowed"):
        read_numeric("[1, 2]", (2,), limits=Limits(max_answer_text=5))
    with pytest.raises(AnswerError, match="nested more than 1 deep"):
        read_numeric("1 2; 3 4", (2, 2), limits=Limits(max_list_depth=1))


def test_expression_caps_are_the_limits_passed() -> None:
    """Limits.max_expression_length (and depth, nodes, literal length) apply to answers."""
    assert read_expressions(["x+y+x+y", "y"], 2, ["x", "y"]).texts[0] == "x+y+x+y"
    with pytest.raises(AnswerError, match="max_length=5"):
        read_expressions(["x+y+x+y", "y"], 2, ["x", "y"], limits=Limits(max_expression_length=5))
    with pytest.raises(AnswerError, match="the limit is 3"):
        read_expressions(["1234*x", "y"], 2, ["x", "y"], limits=Limits(max_literal_length=3))
    assert read_expressions(["1234*x", "y"], 2, ["x", "y"]).texts[0] == "1234*x"


def test_parsing_is_linear_and_never_recurses_deeply() -> None:
    """100,000 nested brackets are refused quickly, without RecursionError."""
    start = time.process_time()
    for text in ("[" * 50_000 + "]" * 50_000, "(" * 50_000 + "1" + ")" * 50_000):
        with pytest.raises(AnswerError):
            read_numeric(text, (1,))
    assert time.process_time() - start < 1.0


def test_expressions_are_read_from_a_cell_or_a_list() -> None:
    """'[4(2x+3y), 6(2x+3y)]', '4(2x+3y); 6(2x+3y)' and a JSON list are the same answer."""
    texts = [
        read_expressions(raw, 2, ["x", "y"]).texts
        for raw in ("[4(2x+3y), 6(2x+3y)]", "4(2x+3y); 6(2x+3y)", ["4(2x+3y)", "6(2x+3y)"])
    ]
    assert texts == [("4(2x+3y)", "6(2x+3y)")] * 3


def test_expressions_with_decimal_commas_in_a_decimal_comma_cell() -> None:
    """'0,5x; 1,5y' in a ;-delimited file is 0.5x and 1.5y."""
    assert read_expressions("0,5x; 1,5y", 2, ["x", "y"], decimal_comma=True).texts == (
        "0.5x",
        "1.5y",
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("__import__('os').system('ls')", "read 1 expressions, expected 2"),
        (["__import__('os')", "y"], "unknown name '__import__'"),
        (["x.__class__", "y"], "character '.'"),
        (["lambda x: x", "y"], "unknown name 'lambda'"),
        (["x", True], "expected an expression, got true/false"),
        (["x"] * 1_000_000, "read 1000000 expressions"),
        ({"x": 1}, "expected a list of 2 expressions, got an object"),
    ],
    ids=["code in a cell", "import", "attribute", "lambda", "boolean", "million", "object"],
)
def test_hostile_expressions_are_refused_per_answer(raw: Any, message: str) -> None:
    """Code, attribute access and lambdas are not in the grammar; nothing is run."""
    with pytest.raises(AnswerError) as caught:
        read_expressions(raw, 2, ["x", "y"])
    assert message in caught.value.detail


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(alphabet="0123456789.,;+-eE []()x^/*≈−", max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children)
    ),
    max_leaves=20,
)
SHAPES = st.sampled_from([(), (1,), (3,), (2, 2), (3, 3), (4,)])


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, SHAPES, st.booleans())
def test_any_json_value_is_an_array_of_the_shape_or_the_projects_own_error(
    raw: Any, shape: tuple[int, ...], comma: bool
) -> None:
    """For any raw answer: an array of exactly the asked shape, or a GraderError."""
    try:
        array = read_numeric(raw, shape, decimal_comma=comma)
    except GraderError:
        return
    assert array.shape == shape and array.dtype == np.float64


CELL_TEXT = st.text(alphabet="0123456789.,;| \t[]()-+eE/*^x≈−\u00a0", max_size=50) | st.text(
    max_size=30
)


@settings(max_examples=300, deadline=None)
@given(CELL_TEXT, SHAPES, st.booleans())
def test_any_cell_text_is_an_array_of_the_shape_or_the_projects_own_error(
    text: str, shape: tuple[int, ...], comma: bool
) -> None:
    """For any cell text: an array of the asked shape, or a GraderError."""
    try:
        array = read_numeric(text, shape, decimal_comma=comma)
    except GraderError:
        return
    assert array.shape == shape


@settings(max_examples=300, deadline=None)
@given(CELL_TEXT)
@example("|,0 0")  # a matrix of a stack whose row holds a list: was 4 lists deep
def test_parse_array_text_gives_texts_in_lists_at_most_max_list_depth_deep(text: str) -> None:
    """parse_array_text returns texts or lists (≤ max_list_depth deep) of texts, or an error."""
    try:
        nested = parse_array_text(text)
    except GraderError:
        return
    json.dumps(nested)  # plain data only
    depth, stack = 0, [(nested, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, list):
            stack.extend((each, level + 1) for each in item)
            depth = max(depth, level + 1)
        else:
            assert isinstance(item, str)
    assert depth <= DEFAULT_LIMITS.max_list_depth


EXPRESSION_TEXT = st.text(alphabet="xy0123456789.+-*/^()[] esqrtlognpσ²,;", max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.one_of(EXPRESSION_TEXT, st.lists(EXPRESSION_TEXT, max_size=3)), st.booleans())
def test_any_expression_answer_is_parsed_or_the_projects_own_error(raw: Any, comma: bool) -> None:
    """The expression parser, through values: expressions or a GraderError, nothing else."""
    try:
        read = read_expressions(raw, 2, ["x", "y"], decimal_comma=comma)
    except GraderError:
        return
    assert len(read.exprs) == len(read.texts) == 2


@pytest.mark.parametrize(
    "cell",
    [
        "2 2\n3 16",
        "2 2\r\n3 16",
        "2 2;\n3 16",
        "[[ 2.  2.]\n [ 3. 16.]]",  # numpy's own print of the matrix
        "2, 2\n3, 16",
    ],
)
def test_line_breaks_in_a_cell_separate_rows(cell: str) -> None:
    """A matrix typed over several lines of one cell (Alt+Enter, pasted output) is read."""
    assert read_numeric(cell, (2, 2)).tolist() == [[2.0, 2.0], [3.0, 16.0]]


def test_line_breaks_separate_expressions() -> None:
    """Two gradient components on two lines of one cell are two expressions."""
    assert read_expressions("4(2x+3y)\n6(2x+3y)", 2, ["x", "y"]).texts == ("4(2x+3y)", "6(2x+3y)")
