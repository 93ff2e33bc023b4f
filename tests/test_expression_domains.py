"""Expression answers are compared at sample points inside the domain of both sides: a
point where either is undefined is replaced by the next candidate, so gradients of log,
sqrt, asin and acos grade fairly, and an answer defined nowhere the key is earns nothing."""

from __future__ import annotations

import pytest

from grader import grade_submission, parse_rubric, solve
from grader.grading.grade import MIN_COMMON_POINTS, SAMPLE_POINTS, equivalent
from grader.intake.submission import Submission
from grader.solver import expr

XY = ["x", "y"]


def _gradient(text: str, variables: list[str] = XY) -> list[expr.Expr]:
    tree = expr.parse(text, variables)
    return [expr.diff(tree, v) for v in variables]


def _right(student: str, expected: expr.Expr, variables: list[str] = XY) -> bool:
    return equivalent(expr.parse(student, variables), expected, variables, "q.grad[0]")


@pytest.mark.parametrize(
    ("function", "student", "right"),
    [
        # a disc of radius 0.5: almost none of the points of ±[0.2, 2.5]² are inside it
        ("sqrt(0.25 - x^2 - y^2)", "-x (0.25 - x^2 - y^2)^(-1/2)", True),
        ("sqrt(0.25 - x^2 - y^2)", "-x/sqrt(0.25 - x^2 + y^2)", False),
        ("sqrt(0.25 - x^2 - y^2)", "x/sqrt(0.25 - x^2 - y^2)", False),
        # asin of a product: defined where |xy| ≤ 1
        ("asin(x y)", "y/sqrt(1 - x^2 y^2)", True),
        ("asin(x y)", "y/sqrt(1 + x^2 y^2)", False),
        ("acos(x) + y", "-1/sqrt(1 - x^2)", True),
        ("acos(x) + y", "1/sqrt(1 - x^2)", False),
        ("log(x) y", "y/x", True),
        ("log(x y)", "1/x", True),
        ("log(x y)", "1/y", False),
        ("x^y", "y x^(y - 1)", True),
    ],
)
def test_expressions_near_domain_edges_grade_on_points_both_sides_define(
    function: str, student: str, right: bool
) -> None:
    """An equivalent form is right and a wrong one is not, however small the domain."""
    assert _right(student, _gradient(function)[0]) is right


def test_a_point_where_only_the_student_is_undefined_is_replaced() -> None:
    """2x written as 2·exp(log(x)) (undefined for x ≤ 0) agrees wherever it is defined."""
    expected = _gradient("x^2 + y")[0]
    assert _right("2 exp(log(x))", expected)
    assert not _right("3 exp(log(x))", expected)


def test_an_answer_defined_nowhere_the_key_is_earns_nothing() -> None:
    """sqrt(−1 − x²) is never a real number: it agrees with nothing."""
    assert not _right("sqrt(-1 - x^2)", _gradient("x^2 + y")[0])
    assert not _right("log(-x^2 - 1)", _gradient("x^2 + y")[0])


def test_a_key_defined_almost_nowhere_cannot_be_matched() -> None:
    """With fewer than MIN_COMMON_POINTS candidate points where the key is defined (a
    one-point domain), no answer is equivalent."""
    assert MIN_COMMON_POINTS <= SAMPLE_POINTS
    expected = _gradient("sqrt(-x^2) + y")[0]  # defined at x = 0 only
    assert not _right(expr.to_text(expected), expected)


def test_grading_an_asin_and_log_gradient_end_to_end() -> None:
    """Through grade_submission: an equivalent gradient is correct, a slipped one partial."""
    rubric = parse_rubric(
        """\
schema_version: 1
title: domains
problems:
  p:
    kind: functions
    functions:
      f: {variables: [x, y], expr: "asin(x/2) + log(y - 1) + sqrt(1 - x^2)"}
answers:
  - {id: g, problem: p, quantity: gradient, function: f, points: 2}
"""
    )
    key = solve(rubric)
    right = ["1/sqrt(4 - x^2) - x/sqrt(1 - x^2)", "1/(y - 1)"]
    slipped = ["1/sqrt(4 - x^2) + x/sqrt(1 - x^2)", "1/(y - 1)"]
    for answer, status, score in [(right, "correct", 2.0), (slipped, "partial", 1.0)]:
        result = grade_submission(Submission("s", "s.json", {"g": answer}), key)
        assert (result.items[0].status, result.items[0].score) == (status, score)


def test_students_write_the_new_functions_in_their_answers() -> None:
    """A gradient with sin, tanh, atan and abs: students' forms with the same functions
    (or their aliases and identities) are right; a slipped sign is not."""
    rubric = parse_rubric(
        """\
schema_version: 1
title: trig
problems:
  p:
    kind: functions
    functions:
      f: {variables: [x, y], expr: "sin(x) y + tanh(y) + atan(x) + abs(x y)"}
answers:
  - {id: g, problem: p, quantity: gradient, function: f, points: 2}
"""
    )
    key = solve(rubric)
    right = ["y cos(x) + 1/(1 + x^2) + y abs(x y)/(x y)", "sin(x) + 1 - tanh(y)^2 + x^2 y/abs(x y)"]
    aliases = ["cos(x)y + 1/(1+x²) + sqrt(y^2) abs(x)/x", "sin(x) + 1/cosh(y)^2 + abs(x) y/abs(y)"]
    slipped = ["-y cos(x) + 1/(1 + x^2) + y abs(x y)/(x y)", right[1]]
    for answer, status in [(right, "correct"), (aliases, "correct"), (slipped, "partial")]:
        result = grade_submission(Submission("s", "s.json", {"g": answer}), key)
        assert result.items[0].status == status, (answer, result.items[0].message)
