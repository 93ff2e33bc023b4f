"""The functions of the expression grammar (sin … abs), their derivatives and Hessians,
checked against mpmath (40 digits) and finite differences; points outside a function's
domain refuse the rubric; the key's zeros are exact zeros."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest
from typer.testing import CliRunner

from grader import Rubric, grade_submission, solve
from grader.cli import app
from grader.errors import RubricError
from grader.intake.submission import Submission
from grader.rubric.load import parse_rubric
from grader.solver import expr

RUBRIC = """\
schema_version: 1
title: functions
problems:
  p:
    kind: functions
    functions:
      f: {{variables: {variables}, expr: "{expr}"}}
answers:
"""
"""A rubric of one function ``f``; answers are appended line by line."""

MP = Callable[[Any], Any]
# name: (mpmath's function, the interval random points are drawn from)
FUNCTIONS: dict[str, tuple[MP, tuple[float, float]]] = {
    "exp": (mpmath.exp, (-3, 3)),
    "log": (mpmath.log, (0.05, 4)),
    "ln": (mpmath.log, (0.05, 4)),
    "sqrt": (mpmath.sqrt, (0.05, 4)),
    "sigmoid": (lambda u: 1 / (1 + mpmath.exp(-u)), (-6, 6)),
    "sin": (mpmath.sin, (-4, 4)),
    "cos": (mpmath.cos, (-4, 4)),
    "tan": (mpmath.tan, (-1.4, 1.4)),
    "sinh": (mpmath.sinh, (-3, 3)),
    "cosh": (mpmath.cosh, (-3, 3)),
    "tanh": (mpmath.tanh, (-3, 3)),
    "asin": (mpmath.asin, (-0.99, 0.99)),
    "arcsin": (mpmath.asin, (-0.99, 0.99)),
    "acos": (mpmath.acos, (-0.99, 0.99)),
    "arccos": (mpmath.acos, (-0.99, 0.99)),
    "atan": (mpmath.atan, (-4, 4)),
    "arctan": (mpmath.atan, (-4, 4)),
    "abs": (mpmath.fabs, (0.1, 3)),  # drawn with a random sign: never at 0
}


def test_every_function_of_the_grammar_is_tested() -> None:
    """The table above covers exactly the grammar's functions."""
    assert set(FUNCTIONS) == expr.FUNCTIONS


def _points(name: str, count: int = 12) -> list[float]:
    rng = np.random.default_rng(sum(map(ord, name)))
    low, high = FUNCTIONS[name][1]
    points = rng.uniform(low, high, size=count)
    if name == "abs":
        points *= rng.choice([-1.0, 1.0], size=count)
    return [float(p) for p in points]


def _mp_slope(f: MP, x: float) -> Any:
    with mpmath.workdps(40):
        return mpmath.diff(f, mpmath.mpf(x))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_and_derivative_match_mpmath_and_finite_differences(name: str) -> None:
    """f(x) to 1e-14 and the symbolic f'(x) to 1e-12 relative of a 40-digit mpmath value,
    and f'(x) to 1e-6 of a central finite difference, at random points of the domain."""
    mp_f = FUNCTIONS[name][0]
    tree = expr.parse(f"{name}(x)", ["x"])
    slope = expr.diff(tree, "x")
    for x in _points(name):
        with mpmath.workdps(40):
            exact = mp_f(mpmath.mpf(x))
        assert expr.evaluate(tree, {"x": x}) == pytest.approx(float(exact), rel=1e-14, abs=1e-300)
        got = float(expr.evaluate(slope, {"x": x}))
        assert got == pytest.approx(float(_mp_slope(mp_f, x)), rel=1e-12)
        h = 1e-6 * max(1.0, abs(x))
        numeric = (expr.evaluate(tree, {"x": x + h}) - expr.evaluate(tree, {"x": x - h})) / (2 * h)
        assert got == pytest.approx(numeric, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_chain_rule_through_each_function(name: str) -> None:
    """∂/∂x and ∂/∂y of f(0.7x − 0.2y) + x·f(y/3) match mpmath's partial derivatives."""
    mp_f, (low, high) = FUNCTIONS[name]
    text = f"{name}(0.7x - 0.2y) + x {name}(y/3)"
    tree = expr.parse(text, ["x", "y"])
    rng = np.random.default_rng(7)
    for _ in range(6):
        # a point where both arguments are inside the interval of the table
        y = float(rng.uniform(low, high)) * 3 * (0.9 if name != "abs" else 1)
        if not low <= y / 3 <= high:
            y = 3 * (low + high) / 2
        x = (float(rng.uniform(low, high)) + 0.2 * y) / 0.7
        if name == "abs" and rng.random() < 0.5:
            x, y = -x, -y

        def mp_g(a: Any, b: Any) -> Any:
            return mp_f(mpmath.mpf("0.7") * a - mpmath.mpf("0.2") * b) + a * mp_f(b / 3)

        with mpmath.workdps(40):
            for var, orders in (("x", (1, 0)), ("y", (0, 1))):
                exact = mpmath.diff(mp_g, (mpmath.mpf(x), mpmath.mpf(y)), orders)
                got = float(expr.evaluate(expr.diff(tree, var), {"x": x, "y": y}))
                assert got == pytest.approx(float(exact), rel=1e-11, abs=1e-13)


@pytest.mark.parametrize(
    ("text", "x"),
    [
        ("sigmoid(x)", 39.0),  # σ(1 − σ) would be 0 here: every digit lost
        ("sigmoid(x)", -39.0),
        ("sigmoid(x)", 21.75),
        ("tanh(x)", 20.0),  # 1 − tanh² would be 0
        ("tanh(x)", -17.5),
        ("asin(x)", 0.999999),  # 1 − x² by subtraction loses six digits
        ("acos(x)", -0.9999999),
    ],
)
def test_derivatives_keep_their_digits_where_naive_formulas_lose_them(text: str, x: float) -> None:
    """Saturated sigmoid and tanh, asin and acos near ±1: the derivative to 1e-13 relative."""
    name = text.split("(")[0]
    got = float(expr.evaluate(expr.diff(expr.parse(text, ["x"]), "x"), {"x": x}))
    assert got == pytest.approx(float(_mp_slope(FUNCTIONS[name][0], x)), rel=1e-13)


def test_function_names_are_read_longest_first() -> None:
    """sinh is sinh, not sin·h; asin is asin, not a·sin; the arc names are aliases."""
    variables = ["a", "h", "x"]
    assert expr.parse("sinh(x)", variables) == expr.Call("sinh", expr.Var("x"))
    assert expr.parse("asin(x)", variables) == expr.Call("asin", expr.Var("x"))
    assert expr.parse("a sin(x)", variables) == expr.Mul(
        (expr.Var("a"), expr.Call("sin", expr.Var("x")))
    )
    for alias, name in [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan")]:
        assert expr.evaluate(expr.parse(f"{alias}(0.3)"), {}) == expr.evaluate(
            expr.parse(f"{name}(0.3)"), {}
        )


# --------------------------------------------------------------------------- hessian
SCALAR_FUNCTIONS: dict[str, tuple[list[str], str, Callable[..., Any]]] = {
    "poly": (["x", "y"], "x^3 y + 2x y^2 - y", lambda x, y: x**3 * y + 2 * x * y**2 - y),
    "trig": (
        ["x", "y"],
        "sin(x y) + cos(x)^2 tan(y/4)",
        lambda x, y: mpmath.sin(x * y) + mpmath.cos(x) ** 2 * mpmath.tan(y / 4),
    ),
    "mixed": (
        ["a", "b", "c"],
        "exp(a b) log(c^2 + 1) + sqrt(a^2 + b^2 + c^2) - atan(a c) + sigmoid(b - c) tanh(a)",
        lambda a, b, c: (
            mpmath.exp(a * b) * mpmath.log(c**2 + 1)
            + mpmath.sqrt(a**2 + b**2 + c**2)
            - mpmath.atan(a * c)
            + 1 / (1 + mpmath.exp(c - b)) * mpmath.tanh(a)
        ),
    ),
    "inverse": (
        ["u", "w"],
        "asin(u w/4) + acos(u/3) + abs(w) u^2 + sinh(u) cosh(w)",
        lambda u, w: (
            mpmath.asin(u * w / 4)
            + mpmath.acos(u / 3)
            + mpmath.fabs(w) * u**2
            + mpmath.sinh(u) * mpmath.cosh(w)
        ),
    ),
}


def _hessian_rubric(points: dict[str, list[list[float]]]) -> Rubric:
    answers = [
        {
            "id": f"{name}.{index}",
            "problem": "p",
            "quantity": "hessian",
            "function": name,
            "at": at,
            "points": 1,
        }
        for name, ats in points.items()
        for index, at in enumerate(ats)
    ]
    functions = {
        name: {"variables": variables, "expr": text}
        for name, (variables, text, _) in SCALAR_FUNCTIONS.items()
    }
    return Rubric.model_validate(
        {
            "schema_version": 1,
            "title": "hessians",
            "problems": {"p": {"kind": "functions", "functions": functions}},
            "answers": answers,
        }
    )


def _random_points() -> dict[str, list[list[float]]]:
    rng = np.random.default_rng(12)
    points: dict[str, list[list[float]]] = {}
    for name, (variables, _, _) in SCALAR_FUNCTIONS.items():
        points[name] = [rng.uniform(0.2, 1.4, size=len(variables)).tolist() for _ in range(4)]
        points[name][1] = [-c for c in points[name][1]]  # negative coordinates too
    return points


def test_hessian_matches_mpmath_second_derivatives() -> None:
    """Each entry ∂²f/∂x_i∂x_j equals mpmath's 40-digit derivative to 1e-11 relative."""
    points = _random_points()
    key = solve(_hessian_rubric(points))
    for name, ats in points.items():
        variables, _, mp_f = SCALAR_FUNCTIONS[name]
        n = len(variables)
        for index, at in enumerate(ats):
            got = np.asarray(key[f"{name}.{index}"].expected)
            assert got.shape == (n, n)
            with mpmath.workdps(40):
                for i in range(n):
                    for j in range(n):
                        orders = tuple((k == i) + (k == j) for k in range(n))
                        exact = mpmath.diff(mp_f, tuple(mpmath.mpf(c) for c in at), orders)
                        assert got[i, j] == pytest.approx(float(exact), rel=1e-11, abs=1e-12)


def test_hessian_matches_finite_differences_of_the_gradient() -> None:
    """Column j of the Hessian is the central difference of the gradient along x_j, and
    the matrix is exactly symmetric."""
    points = _random_points()
    key = solve(_hessian_rubric(points))
    for name, ats in points.items():
        variables, text, _ = SCALAR_FUNCTIONS[name]
        tree = expr.parse(text, variables)
        gradient = [expr.diff(tree, v) for v in variables]
        for index, at in enumerate(ats):
            got = np.asarray(key[f"{name}.{index}"].expected)
            assert np.array_equal(got, got.T)
            for j, var in enumerate(variables):
                h = 1e-6
                up = dict(zip(variables, at, strict=True)) | {var: at[j] + h}
                down = dict(zip(variables, at, strict=True)) | {var: at[j] - h}
                column = [
                    (float(expr.evaluate(g, up)) - float(expr.evaluate(g, down))) / (2 * h)
                    for g in gradient
                ]
                np.testing.assert_allclose(got[:, j], column, rtol=1e-6, atol=1e-7)


def test_hessian_zeros_are_exact_and_the_shape_is_n_by_n() -> None:
    """The Hessian of x² + 3y² + z is diag(2, 6, 0): off-diagonal zeros are exact zeros."""
    rubric = parse_rubric(
        RUBRIC.format(variables="[x, y, z]", expr="x^2 + 3y^2 + z")
        + "  - {id: h, problem: p, quantity: hessian, function: f, at: [0.1, -0.7, 2], points: 1}\n"
    )
    key = solve(rubric)
    assert key.to_json()["h"] == [
        [2.0, 0.0, 0.0],
        [0.0, 6.0, 0.0],
        [0.0, 0.0, 0.0],
    ]
    assert key["h"].shape == (3, 3)


def test_hessian_of_a_vector_function_is_refused() -> None:
    """A Hessian needs a scalar function: a vector-valued one refuses the rubric."""
    text = RUBRIC.format(variables="[x]", expr="x").replace('"x"', '["x^2", "x"]') + (
        "  - {id: h, problem: p, quantity: hessian, function: f, at: [1], points: 1}\n"
    )
    with pytest.raises(RubricError, match=r"answers\[0\]\.function: the hessian needs a scalar"):
        parse_rubric(text)


def test_hessian_in_the_key_table_and_json(tmp_path: Path) -> None:
    """`grader key` prints the Hessian as an (n, n) matrix in the table and as nested lists."""
    path = tmp_path / "h.yaml"
    path.write_text(
        RUBRIC.format(variables="[x, y]", expr="x^2 y + sin(y)")
        + "  - {id: h, problem: p, quantity: hessian, function: f, at: [1, 0], points: 2}\n",
        encoding="utf-8",
    )
    table = CliRunner().invoke(app, ["key", "--rubric", str(path)]).stdout
    assert "h  " in table and "[          0,           2]" in table
    data = json.loads(
        CliRunner().invoke(app, ["key", "--rubric", str(path), "--format", "json"]).stdout
    )
    assert data["h"] == [[0.0, 2.0], [2.0, 0.0]]  # [[2y, 2x], [2x, −sin y]] at (1, 0)


# --------------------------------------------------------------------------- domains


@pytest.mark.parametrize(
    ("expression", "answer", "fragments"),
    [
        ("log(x - 3)", "value, function: f, at: [1]",
         ["(x=1.0)", "log(x - 3) is log of -2 (log needs a number > 0)"]),
        ("sqrt(x)", "value, function: f, at: [-1]",
         ["(x=-1.0)", "sqrt(x) is sqrt of -1 (sqrt needs a number ≥ 0)"]),
        ("asin(x)", "jacobian, function: f, at: [2]",
         ["(x=2.0)", "asin(x) is asin of 2 (asin needs a number from −1 to 1)"]),
        ("acos(2x)", "value, function: f, at: [0.75]", ["acos of 1.5"]),
        ("1/x", "value, function: f, at: [0]", ["(x=0.0)", "1/x divides by zero"]),
        ("x/(x - 2)", "jacobian, function: f, at: [2]", ["divides by zero"]),
        ("sqrt(x)", "jacobian, function: f, at: [0]",
         ["(x=0.0)", "divides by zero (in its derivative 1/(2*sqrt(x)))"]),
        ("abs(x)", "jacobian, function: f, at: [0]", ["in its derivative x/abs(x)"]),
        ("x^1.5", "hessian, function: f, at: [0]", ["in its second derivative"]),
        ("x^0.5", "value, function: f, at: [-4]", ["a power that is not a whole number"]),
        ("exp(x)", "value, function: f, at: [1000]", ["exp(x) is inf (beyond float64)"]),
        ("log(x)", "composition_derivative, outer: f, inner: f, at: [0.5]",
         ["'f' is undefined at the point (x=-0.693", "log of -0.69"]),
    ],
)  # fmt: skip
def test_a_point_outside_the_domain_refuses_the_rubric(
    expression: str, answer: str, fragments: list[str]
) -> None:
    """The refusal names the answer's point (key path), the function, the point and what
    is undefined there."""
    text = RUBRIC.format(variables="[x]", expr=expression) + (
        f"  - {{id: a, problem: p, quantity: {answer}, points: 1}}\n"
    )
    rubric = parse_rubric(text, source="d.yaml")
    with pytest.raises(RubricError) as caught:
        solve(rubric, source="d.yaml")
    message = str(caught.value)
    assert message.startswith("d.yaml: answers[0].at: 'f' is undefined at the point (x=")
    for fragment in fragments:
        assert fragment in message
    assert message.endswith(" (answer 'a' of problem 'p')")


def test_points_inside_the_domain_are_accepted() -> None:
    """The edge of a domain that is inside it is fine: sqrt(0), asin(1), log at 1."""
    text = RUBRIC.format(variables="[x]", expr="sqrt(x) + asin(x) + log(x + 1)") + (
        "  - {id: a, problem: p, quantity: value, function: f, at: [0], points: 1}\n"
        "  - {id: b, problem: p, quantity: value, function: f, at: [1], points: 1}\n"
    )
    key = solve(parse_rubric(text))
    assert key.to_json() == {"a": 0.0, "b": pytest.approx(1 + np.pi / 2 + np.log(2), rel=1e-15)}


def test_out_of_domain_rubric_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    """`grader grade` with such a rubric exits 2 with the message and no output folder."""
    rubric = tmp_path / "d.yaml"
    rubric.write_text(
        RUBRIC.format(variables="[x, y]", expr="log(x) + y")
        + "  - {id: a, problem: p, quantity: jacobian, function: f, at: [-1, 2], points: 1}\n",
        encoding="utf-8",
    )
    sub = tmp_path / "s.json"
    sub.write_text('{"answers": {"a": [1, 1]}}', encoding="utf-8")
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["grade", str(sub), "--rubric", str(rubric), "--out", str(out)])
    assert done.exit_code == 2
    assert "answers[0].at: 'f' is undefined at the point (x=-1.0, y=2.0)" in done.stderr
    assert "log of -1" in done.stderr and "Traceback" not in done.output
    assert not out.exists()


# --------------------------------------------------------------------------- names
@pytest.mark.parametrize(("name", "what"), [("e", "constant"), ("pi", "constant"),
                                            ("sin", "function"), ("arctan", "function"),
                                            ("abs", "function"), ("ln", "function")])  # fmt: skip
def test_a_variable_named_like_a_function_or_constant_refuses_the_rubric(
    name: str, what: str
) -> None:
    """Declaring e, pi or a function name as a variable refuses the rubric, naming it."""
    text = RUBRIC.format(variables=f"[x, {name}]", expr="x") + (
        "  - {id: a, problem: p, quantity: gradient, function: f, points: 1}\n"
    )
    with pytest.raises(RubricError) as caught:
        parse_rubric(text, source="n.yaml")
    assert str(caught.value).startswith(
        f"n.yaml: problems.p.functions.f.variables[1]: '{name}' cannot be a variable name: "
        f"it is the name of a {what}"
    )


# --------------------------------------------------------------------------- exact zeros
@pytest.mark.parametrize(
    ("expression", "quantity", "at", "expected"),
    [
        ("x - 0.1 - 0.2", "value", [0.3], 0.0),  # 0.3 − 0.1 − 0.2 is 2.8e-17 in float64
        ("sin(pi x)", "value", [1], 0.0),  # sin(float π) is 1.2e-16
        ("cos(x)", "value", [1.5707963267948966], 0.0),
        ("0.1x^2 - 0.3x", "jacobian", [1.5], [0.0]),  # 0.2·1.5 − 0.3 is 5.6e-17
        ("x^2/2 - 0.3x", "jacobian", [0.30000000000000004], [0.0]),
        ("sin(x) y", "jacobian", [3.141592653589793, 2], [-2.0, 0.0]),
        ("x y - 0.3 x", "hessian", [1, 2], [[0.0, 1.0], [1.0, 0.0]]),
    ],
)
def test_mathematical_zeros_are_exact_zeros_in_the_key(
    expression: str, quantity: str, at: list[float], expected: Any
) -> None:
    """A value no larger than its own rounding error is 0 exactly, not 1e-17 noise."""
    variables = "[x]" if len(at) == 1 else "[x, y]"
    text = RUBRIC.format(variables=variables, expr=expression) + (
        f"  - {{id: a, problem: p, quantity: {quantity}, function: f, at: {at}, points: 1}}\n"
    )
    assert solve(parse_rubric(text)).to_json()["a"] == expected


def test_a_chain_rule_product_that_cancels_is_an_exact_zero() -> None:
    """D(f∘G) = ∇f(G(t))·G'(t) summing to 0 in exact arithmetic is 0 exactly."""
    text = """\
schema_version: 1
title: chain
problems:
  p:
    kind: functions
    functions:
      f: {variables: [u, w], expr: "0.1u + 0.2w"}
      G: {variables: [t], expr: ["3t", "-1.5t"]}
answers:
  - {id: c, problem: p, quantity: composition_derivative, outer: f, inner: G, at: [1], points: 1}
"""
    assert solve(parse_rubric(text)).to_json()["c"] == 0.0  # 0.1·3 − 0.2·1.5 is 5.6e-17


def test_small_values_that_are_not_rounding_stay() -> None:
    """Only values within their own rounding error become 0: exp(−700), 1e-12·x stay."""
    assert expr.evaluate_key(expr.parse("exp(-700)"), {}) == pytest.approx(np.exp(-700))
    assert expr.evaluate_key(expr.parse("1e-12 x", ["x"]), {"x": 3.0}) == 3e-12
    assert expr.evaluate_key(expr.parse("x - 1", ["x"]), {"x": 1 + 1e-12}) != 0.0


def test_a_students_exact_zero_is_right_under_sigfigs_when_the_math_gives_zero() -> None:
    """The key's zero is exact, so 0 (and 0.0, -0) earns the points under sigfigs, and
    a small nonzero answer needs the rubric's atol."""
    text = RUBRIC.format(variables="[x]", expr="x - 0.1 - 0.2").replace(
        "answers:\n", "defaults: {tolerance: {mode: sigfigs, digits: 3}}\nanswers:\n"
    ) + (
        "  - {id: a, problem: p, quantity: value, function: f, at: [0.3], points: 1}\n"
        "  - {id: b, problem: p, quantity: value, function: f, at: [0.3], points: 1,\n"
        "     grading: {tolerance: {mode: sigfigs, digits: 3, atol: 1e-9}}}\n"
    )
    key = solve(parse_rubric(text))
    for zero in (0, 0.0, "0", "-0", "0.000"):
        result = grade_submission(Submission("s", "s.json", {"a": zero, "b": zero}), key)
        assert [item.status for item in result.items] == ["correct", "correct"]
    result = grade_submission(Submission("s", "s.json", {"a": 1e-12, "b": 1e-12}), key)
    assert [item.status for item in result.items] == ["incorrect", "correct"]
