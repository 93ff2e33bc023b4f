"""Numbers as people type them: what is read, what is refused and why, and that nothing
else can happen (a float or the project's own error, for any text)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.errors import AnswerError, GraderError
from grader.intake.numbers import read_number
from grader.limits import Limits

READ: list[tuple[str, str, float]] = [
    ("plain", "0.0567", 0.0567),
    ("integer", "131", 131.0),
    ("leading point", ".5", 0.5),
    ("trailing point", "5.", 5.0),
    ("scientific", "1.5e-3", 0.0015),
    ("scientific capital E", "2.5E+4", 25000.0),
    ("explicit plus", "+0.25", 0.25),
    ("Unicode minus", "\u221215.89", -15.89),
    ("en dash", "\u201315.89", -15.89),
    ("em dash", "\u201415.89", -15.89),
    ("fullwidth hyphen-minus", "\uff0d2", -2.0),
    ("approximately", "≈ 0.0567", 0.0567),
    ("approximately, no space", "≈0.0567", 0.0567),
    ("tilde", "~0.0567", 0.0567),
    ("equals sign", "= 0.0567", 0.0567),
    ("spaces around", "   0.5  ", 0.5),
    ("no-break spaces around", "\u00a00.5\u202f", 0.5),
    ("tab and newline around", "\t0.5\r\n", 0.5),
    ("times ten to the", "1.5×10^-3", 0.0015),
    ("middle dot", "1.5·10^-3", 0.0015),
    ("letter x for times", "1.5 x 10^-3", 0.0015),
    ("superscript exponent", "1.5·10⁻³", 0.0015),
    ("superscript square", "3²", 9.0),
    ("fraction", "1/2", 0.5),
    ("negative fraction", "-3/4", -0.75),
    ("arithmetic", "0.01 + 0.02*0.5", 0.02),
    ("sigmoid by hand", "exp(0.09)/(1+exp(0.09))", math.exp(0.09) / (1 + math.exp(0.09))),
    ("decimal comma", "0,52", 0.52),
    ("negative decimal comma", "-15,89", -15.89),
    ("decimal comma, Unicode minus", "\u221215,89", -15.89),
    ("decimal comma with a leading zero group", "0,520", 0.52),
    ("decimal comma in scientific", "1,5e-3", 0.0015),
    ("decimal comma in arithmetic", "exp(0,09)", math.exp(0.09)),
]


@pytest.mark.parametrize(("case", "text", "expected"), READ, ids=[c[0] for c in READ])
def test_numbers_people_type_are_read(case: str, text: str, expected: float) -> None:
    """Each way of writing a number reads as the number meant."""
    assert read_number(text) == pytest.approx(expected, rel=1e-12)


REFUSED: list[tuple[str, str, str]] = [
    ("thousands or decimal", "1,234", "ambiguous: a decimal comma or a thousands separator"),
    ("negative thousands or decimal", "-1,027", "ambiguous"),
    ("several commas", "1,234,567", "several commas"),
    ("comma and point", "1,234.5", "both a comma and a decimal point"),
    ("point and comma", "1.234,5", "both a comma and a decimal point"),
    ("comma as separator", "1, 2", "not one number"),
    ("empty", "", "empty"),
    ("only spaces", " \u00a0 ", "empty"),
    ("a word", "abc", "unknown name 'abc'"),
    ("code", "__import__('os')", "not a number"),
    ("two numbers", "0.5 0.6", "not a number"),
]


@pytest.mark.parametrize(("case", "text", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_ambiguous_or_invalid_numbers_are_refused_with_a_reason(
    case: str, text: str, message: str
) -> None:
    """What cannot be read one way only is refused, and the message says why."""
    with pytest.raises(AnswerError, match="(?s).*" + message.replace("(", r"\(")):
        read_number(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1,234", 1.234), ("-1,027", -1.027), ("0,05675", 0.05675), ("\u22121,5e-3", -0.0015)],
)
def test_in_a_decimal_comma_cell_a_comma_between_digits_is_the_decimal_comma(
    text: str, expected: float
) -> None:
    """European spreadsheets: 1,234 is 1.234, not ambiguous."""
    assert read_number(text, decimal_comma=True) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["1,2,3", "1,234.5", "1.234,5"])
def test_thousands_separators_are_refused_even_in_decimal_comma_cells(text: str) -> None:
    """Several commas, or a comma and a point, are never guessed at."""
    with pytest.raises(AnswerError):
        read_number(text, decimal_comma=True)


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("NaN", math.isnan),
        ("-inf", lambda v: v == -math.inf),
        ("Infinity", lambda v: v == math.inf),
        ("∞", lambda v: v == math.inf),
        ("1e400", lambda v: v == math.inf),
        ("9**9**9**9", lambda v: v == math.inf),
        ("10^10^10", lambda v: v == math.inf),
        ("1/0", lambda v: v == math.inf),
    ],
)
def test_non_finite_values_are_read_as_such_for_grading_to_mark_wrong(
    text: str, check: object
) -> None:
    """NaN, infinities and overflows are floats, not crashes or hangs."""
    assert callable(check) and check(read_number(text))


def test_the_length_cap_is_limits_max_number_text() -> None:
    """Text longer than Limits.max_number_text (1,000) is refused; a raised cap reads it."""
    long_sum = "+".join(["1"] * 600)  # 1,199 characters
    with pytest.raises(AnswerError, match="too long for a number"):
        read_number(long_sum)
    assert read_number(long_sum, limits=Limits(max_number_text=2_000)) == 600.0
    with pytest.raises(AnswerError, match="at most 3"):
        read_number("0.52", limits=Limits(max_number_text=3))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_a_float_or_the_projects_own_error(text: str) -> None:
    """No input makes the number reader raise anything but a GraderError."""
    try:
        value = read_number(text)
    except GraderError:
        return
    assert isinstance(value, float)


NUMBERISH = st.text(alphabet="0123456789.,+-eE ()/*^x×·−≈~²⁻³", max_size=40)


@settings(max_examples=300, deadline=None)
@given(NUMBERISH, st.booleans())
def test_number_like_text_is_a_float_or_the_projects_own_error(text: str, comma: bool) -> None:
    """Text made of number characters never escapes the project's errors, either mode."""
    try:
        value = read_number(text, decimal_comma=comma)
    except GraderError:
        return
    assert isinstance(value, float)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_written_out_reads_back_exactly(value: float) -> None:
    """repr of any finite float, with a Unicode minus, reads back to the same float."""
    assert read_number(repr(value).replace("-", "\u2212")) == value


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=999), st.integers(min_value=0, max_value=10**6))
def test_a_decimal_comma_number_reads_as_its_decimal_point_twin(whole: int, fraction: int) -> None:
    """0,52 is 0.52 wherever the comma cannot be a thousands separator."""
    text = f"{whole},{fraction:07d}"  # seven decimals: never a thousands group
    assert read_number(text) == float(f"{whole}.{fraction:07d}")


@pytest.mark.parametrize("text", ["5.67 e-2", "5.67e -2", "5.67E -2", "5.67 E - 2", "5.67e-2"])
def test_spaced_scientific_notation_is_read_as_a_power_of_ten(text: str) -> None:
    """A space around the exponent's e does not turn it into Euler's number."""
    assert read_number(text) == pytest.approx(0.0567, rel=1e-15)
