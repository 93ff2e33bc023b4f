"""The reference solver is the answer key for every student: each quantity is checked
against an independent method (finite differences, a second formulation in
high-precision arithmetic, hand-computed values)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import mpmath
import numpy as np
import pytest

from grader import AnswerKey, Rubric, solve
from grader.grading.grade import equivalent
from grader.solver import expr
from grader.solver.key import to_plain

from .conftest import RUBRICS


def random_network_rubric(
    rng: np.random.Generator, inputs: int, hidden: int, examples: int, output: str, half: bool
) -> Rubric:
    """A rubric for a random network, asking for every quantity of every example."""
    problem = {
        "kind": "network",
        "inputs": inputs,
        "hidden": hidden,
        "output": output,
        "loss": {"half": half},
        "W": rng.normal(0, 0.8, size=(hidden, inputs + 1)).tolist(),
        "v": rng.normal(0, 0.8, size=hidden + 1).tolist(),
        "examples": [
            {"x": rng.normal(0, 1.5, size=inputs).tolist(), "y": float(rng.normal(0, 2))}
            for _ in range(examples)
        ],
    }
    answers: list[dict[str, Any]] = []
    for quantity in ("loss", "dv", "dW", "yhat", "dL_dyhat"):
        for example in [*range(1, examples + 1), "sum", "mean"]:
            answers.append(
                {
                    "id": f"{quantity}.{example}",
                    "problem": "n",
                    "quantity": quantity,
                    "example": example,
                    "points": 1,
                }
            )
    return Rubric.model_validate(
        {"schema_version": 1, "title": "random", "problems": {"n": problem}, "answers": answers}
    )


def loss_at(key: AnswerKey, node: str, W: np.ndarray, v: np.ndarray) -> float:
    """The loss node's value with the weights replaced (a fresh evaluation)."""
    return float(key.graph.evaluate(node, {"n.W": W, "n.v": v}))


NETWORKS = [
    (2, 3, 3, "linear", False),
    (2, 3, 3, "sigmoid", True),
    (3, 4, 5, "sigmoid", False),
    (1, 1, 1, "linear", True),
    (5, 2, 4, "linear", True),
    (4, 6, 2, "sigmoid", True),
]


@pytest.mark.parametrize(("inputs", "hidden", "examples", "output", "half"), NETWORKS)
def test_gradients_match_central_finite_differences(
    inputs: int, hidden: int, examples: int, output: str, half: bool
) -> None:
    """∂L/∂v and ∂L/∂W, per example and summed, agree with central differences of L."""
    rng = np.random.default_rng(inputs * 100 + hidden * 10 + examples)
    key = solve(random_network_rubric(rng, inputs, hidden, examples, output, half))
    W0 = np.array(key.graph.evaluate("n.W"))
    v0 = np.array(key.graph.evaluate("n.v"))
    h = 1e-6
    for example in [*range(1, examples + 1), "sum"]:
        loss = f"n.loss[{example}]"
        dv = key[f"dv.{example}"].expected
        dW = key[f"dW.{example}"].expected
        for k in range(v0.size):
            step = np.zeros_like(v0)
            step[k] = h
            numeric = (loss_at(key, loss, W0, v0 + step) - loss_at(key, loss, W0, v0 - step)) / (
                2 * h
            )
            assert dv[k] == pytest.approx(numeric, rel=1e-6, abs=1e-8)
        for j, k in np.ndindex(*W0.shape):
            step = np.zeros_like(W0)
            step[j, k] = h
            numeric = (loss_at(key, loss, W0 + step, v0) - loss_at(key, loss, W0 - step, v0)) / (
                2 * h
            )
            assert dW[j, k] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(("inputs", "hidden", "examples", "output", "half"), NETWORKS[:3])
def test_dL_dyhat_matches_finite_difference_in_yhat(
    inputs: int, hidden: int, examples: int, output: str, half: bool
) -> None:
    """∂L/∂ŷ is the derivative of the loss node with respect to ŷ."""
    rng = np.random.default_rng(7)
    key = solve(random_network_rubric(rng, inputs, hidden, examples, output, half))
    for example in range(1, examples + 1):
        yhat = float(key[f"yhat.{example}"].expected)
        h = 1e-6
        up = key.graph.evaluate(f"n.loss[{example}]", {f"n.yhat[{example}]": np.array(yhat + h)})
        down = key.graph.evaluate(f"n.loss[{example}]", {f"n.yhat[{example}]": np.array(yhat - h)})
        assert float(key[f"dL_dyhat.{example}"].expected) == pytest.approx(
            (up - down) / (2 * h), rel=1e-6, abs=1e-9
        )


def test_mean_is_sum_over_examples_divided_by_count() -> None:
    """The 'mean' selector is the 'sum' divided by the number of examples."""
    key = solve(random_network_rubric(np.random.default_rng(3), 2, 3, 4, "sigmoid", True))
    np.testing.assert_allclose(key["dW.mean"].expected, key["dW.sum"].expected / 4, rtol=1e-15)


# --- an independent formulation in 50-digit arithmetic --------------------------------


def mp_network(
    W: Sequence[Sequence[float]],
    v: Sequence[float],
    x: Sequence[float],
    y: float,
    sigmoid_out: bool,
    half: bool,
) -> dict[str, Any]:
    """ŷ, ∂L/∂ŷ, ∂L/∂v, ∂L/∂W for one example, written out with scalar loops in mpmath."""
    mpmath.mp.dps = 50

    def sig(s: Any) -> Any:
        return 1 / (1 + mpmath.exp(-s))

    xs = [mpmath.mpf(1)] + [mpmath.mpf(c) for c in x]
    z = [sig(sum(mpmath.mpf(W[j][k]) * xs[k] for k in range(len(xs)))) for j in range(len(W))]
    s = mpmath.mpf(v[0]) + sum(mpmath.mpf(v[j + 1]) * z[j] for j in range(len(z)))
    yhat = sig(s) if sigmoid_out else s
    c = mpmath.mpf(1) / 2 if half else mpmath.mpf(1)
    dL = 2 * c * (yhat - y)
    g = yhat * (1 - yhat) if sigmoid_out else mpmath.mpf(1)
    dv = [dL * g] + [dL * g * zj for zj in z]
    dW = [
        [dL * g * mpmath.mpf(v[j + 1]) * z[j] * (1 - z[j]) * xk for xk in xs] for j in range(len(z))
    ]
    return {"yhat": yhat, "dL": dL, "dv": dv, "dW": dW}


def close_to(actual: Any, exact: Any, rel: float = 1e-12) -> bool:
    a = np.asarray(actual, dtype=np.float64)
    e = np.vectorize(float)(np.array(exact, dtype=object)).astype(np.float64)
    return a.shape == e.shape and bool(np.all(np.abs(a - e) <= rel * np.abs(e)))


def test_hw_key_agrees_with_high_precision_to_1e_12() -> None:
    """`grader key --format json` on hw.yaml matches a 50-digit computation to 1e-12 relative."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "key",
            "--rubric",
            str(RUBRICS / "hw.yaml"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(out.stdout)
    W = [[0.01, 0.02, 0.03], [0.03, 0.01, 0.02], [0.02, 0.03, 0.01]]
    v = [0.01, 0.02, 0.03, 0.04]
    data = [([1, 2], 8), ([1, 3], 11), ([2, 2], 10)]
    per = [mp_network(W, v, x, y, False, False) for x, y in data]
    assert close_to(key["q1.yhat"], [p["yhat"] for p in per])
    assert close_to(key["q1c.dL_dyhat"], [p["dL"] for p in per])
    for i, p in enumerate(per, start=1):
        assert close_to(key[f"q1c.dv.x{i}"], p["dv"])
        assert close_to(key[f"q1c.dW.x{i}"], p["dW"])
    assert close_to(key["q1d.dv"], [sum(p["dv"][k] for p in per) for k in range(4)])
    assert close_to(
        key["q1d.dW"], [[sum(p["dW"][j][k] for p in per) for k in range(3)] for j in range(3)]
    )
    assert close_to(key["q2d.yhat"], per[0]["yhat"])
    assert close_to(key["q2d.dv"], per[0]["dv"])
    assert close_to(key["q2d.dW"], per[0]["dW"])
    sig = [mp_network(W, v, x, y, True, True) for x, y in data]
    assert close_to(key["q3.dE_dv"], [sum(p["dv"][k] for p in sig) for k in range(4)])
    # Problem 2 by hand: ∂/∂x x²+2y = 2x, ∂/∂y = 2; ∂/∂x 3x+4y² = 3, ∂/∂y = 8y.
    assert key["q2b.DF"] == [[2.0, 2.0], [3.0, 16.0]]
    # F(G(t)) = (3t², 3t + 4t⁴): derivative (6t, 3 + 16t³) at t = 2.
    assert key["q2c.DfG"] == [12.0, 131.0]


def test_gradient_expressions_are_equivalent_to_the_hand_derivation(hw_key: AnswerKey) -> None:
    """q2a's expressions agree with 4(2x+3y) and 6(2x+3y) everywhere sampled."""
    expected = hw_key["q2a.grad_f"].expected
    for got, hand in zip(expected.exprs, ["4(2x+3y)", "6(2x+3y)"], strict=True):
        assert equivalent(expr.parse(hand, ["x", "y"]), got, ["x", "y"], "check")
    assert not equivalent(
        expr.parse("2(2x+3y)", ["x", "y"]), expected.exprs[0], ["x", "y"], "check"
    )


def test_the_seed_hand_values_are_within_its_rounding(hw_key: AnswerKey) -> None:
    """The seed's values (sigmoid outputs rounded to 0.52) are within 2 % of the key."""
    seed: dict[str, list[float] | list[list[float]]] = {
        "q1.yhat": [0.0561, 0.057, 0.057],
        "q1c.dL_dyhat": [-15.88, -21.886, -19.886],
        "q1c.dW.x1": [
            [-0.079, -0.079, -0.1584],
            [-0.1187, -0.1187, -0.2375],
            [-0.1584, -0.1584, -0.3168],
        ],
        "q2d.dv": [-15.88, -8.262, -8.262, -8.262],
    }
    for answer_id, values in seed.items():
        np.testing.assert_allclose(values, hw_key[answer_id].expected, rtol=0.02)


def test_functions_by_finite_differences(wide_key: AnswerKey) -> None:
    """The second rubric's Jacobian and chain-rule answers match finite differences."""

    def H(u: float, w: float) -> np.ndarray:
        return np.array([u * w, np.log(u) + w**3, np.sqrt(u * u + w * w)])

    def K(s: float) -> np.ndarray:
        return np.array([s * s, 1 / s])

    h = 1e-6
    numeric = np.column_stack(
        [(H(3 + h, 4) - H(3 - h, 4)) / (2 * h), (H(3, 4 + h) - H(3, 4 - h)) / (2 * h)]
    )
    np.testing.assert_allclose(wide_key["p2.DH"].expected, numeric, rtol=1e-7)
    composed = (H(*K(2 + h)) - H(*K(2 - h))) / (2 * h)
    np.testing.assert_allclose(wide_key["p2.DHK"].expected, composed, rtol=1e-7)

    def g(a: float, b: float, c: float) -> float:
        return float(a * np.exp(b) + 1 / (1 + np.exp(-c)) / a)

    assert float(wide_key["p2.g_at"].expected) == pytest.approx(g(1, 0, 0), rel=1e-15)
    gradient = wide_key["p2.grad_g"].expected
    point = {"a": 1.3, "b": -0.4, "c": 0.7}
    for index, name in enumerate("abc"):
        up = dict(point, **{name: point[name] + h})
        down = dict(point, **{name: point[name] - h})
        numeric_d = (g(**up) - g(**down)) / (2 * h)
        assert float(expr.evaluate(gradient.exprs[index], point)) == pytest.approx(
            numeric_d, rel=1e-7
        )


def test_second_rubric_works_without_code_change(wide_key: AnswerKey) -> None:
    """A 3-4-1 sigmoid-output network with five examples and ½ loss: shapes and sums."""
    assert np.shape(wide_key["p1.yhat"].expected) == (5,)
    assert np.shape(wide_key["p1.dW.x5"].expected) == (4, 4)
    assert np.shape(wide_key["p1.dv.batch"].expected) == (5,)
    yhat = np.asarray(wide_key["p1.yhat"].expected)
    assert np.all((yhat > 0) & (yhat < 1))  # a sigmoid output
    targets = np.array([1, 0, 1, 0, 1])
    assert float(wide_key["p1.E"].expected) == pytest.approx(
        0.5 * np.sum((yhat - targets) ** 2), rel=1e-14
    )
    np.testing.assert_allclose(wide_key["p1.dL_dyhat"].expected, yhat - targets, rtol=1e-14)


def test_key_json_has_every_answer_and_plain_values(hw_key: AnswerKey) -> None:
    """The key's JSON names every answer id; numbers are floats, expressions strings."""
    data = hw_key.to_json()
    assert list(data) == [answer.id for answer in hw_key.rubric.answers]
    assert all(isinstance(text, str) for text in data["q2a.grad_f"])
    assert isinstance(data["q2d.yhat"], float)
    assert to_plain(np.array(-0.0)) == 0.0 and str(to_plain(np.array(-0.0))) == "0.0"


def test_points_differing_only_in_the_seventh_figure_are_different_points() -> None:
    """Answers asked at points that agree to six significant figures each get the key
    value of their own point (node ids once formatted points with ``:g``)."""
    points = [[1234567.0], [1234568.0], [1.0], [1.0000001], [-2.5e-7], [-2.5000001e-7]]
    answers = []
    for index, at in enumerate(points):
        answers += [
            {"id": f"v{index}", "problem": "p", "quantity": "value", "function": "f", "at": at},
            {"id": f"j{index}", "problem": "p", "quantity": "jacobian", "function": "F", "at": at},
            {
                "id": f"c{index}",
                "problem": "p",
                "quantity": "composition_derivative",
                "outer": "f",
                "inner": "G",
                "at": at,
            },
        ]
    rubric = Rubric.model_validate(
        {
            "schema_version": 1,
            "title": "points",
            "problems": {
                "p": {
                    "kind": "functions",
                    "functions": {
                        "f": {"variables": ["x"], "expr": "x^3"},
                        "F": {"variables": ["x"], "expr": ["x^2", "3x"]},
                        "G": {"variables": ["t"], "expr": "t^2 + t"},
                    },
                }
            },
            "answers": [{**answer, "points": 1} for answer in answers],
        }
    )
    key = solve(rubric)
    for index, (x,) in enumerate(points):
        with mpmath.workdps(40):  # independently: 40 digits at the point as given
            t = mpmath.mpf(x)
            value, slope = float(t**3), float(2 * t)
            # d/dt f(G(t)) = 3 G(t)^2 G'(t), G(t) = t^2 + t
            composed = float(3 * (t**2 + t) ** 2 * (2 * t + 1))
        assert float(key[f"v{index}"].expected) == pytest.approx(value, rel=1e-14)
        assert key[f"j{index}"].flat_expected == pytest.approx((slope, 3.0), rel=1e-14)
        assert float(key[f"c{index}"].expected) == pytest.approx(composed, rel=1e-14)
    values = [float(key[f"v{index}"].expected) for index in range(len(points))]
    assert len(set(values)) == len(points)
