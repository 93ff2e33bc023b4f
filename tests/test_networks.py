"""Networks given layer by layer (any depth, every activation and loss), the training
step, and their answers: the key checked against an independent 150-digit forward and
backward pass and against finite differences, on random networks including saturated
units; the shorthand and its layers are one network; the rubric's checks; answers over
every example (3-D) in JSON and in CSV cells."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, get_args

import mpmath
import numpy as np
import pytest

from grader import RubricError, Submission, grade_submission, solve
from grader.rubric.activations import ACTIVATIONS, LOSSES
from grader.rubric.load import validate_rubric
from grader.rubric.models import NetworkQuantity

from .conftest import ROOT

SELECTORS: list[Any] = ["all", "sum", "mean"]
LAYER_QUANTITIES = ("preactivation", "activation", "delta", "dW")


def random_problem(
    rng: np.random.Generator,
    sizes: list[int],
    activations: list[str],
    loss: dict[str, Any],
    examples: int,
    *,
    scale: float = 0.8,
    training: dict[str, Any] | None = None,
    class_targets: bool = False,
) -> dict[str, Any]:
    """A network problem: ``sizes`` = [inputs, units_1, ..., units_L]."""
    layers = [
        {
            "units": sizes[k + 1],
            "activation": activations[k],
            "W": rng.normal(0, scale, size=(sizes[k + 1], sizes[k] + 1)).round(6).tolist(),
        }
        for k in range(len(activations))
    ]
    outputs = sizes[-1]
    cases = []
    for _ in range(examples):
        x = rng.normal(0, 1.5, size=sizes[0]).round(4).tolist()
        y: Any
        if loss.get("kind") == "cross_entropy" and activations[-1] == "softmax":
            if class_targets:
                y = int(rng.integers(1, outputs + 1))
            else:
                y = np.eye(outputs)[int(rng.integers(outputs))].tolist()
        elif loss.get("kind") == "cross_entropy":
            y = float(rng.integers(2))
        else:
            y = rng.normal(0, 1, size=outputs).round(4).tolist() if outputs > 1 else 0.7
        cases.append({"x": x, "y": y})
    problem: dict[str, Any] = {
        "kind": "network",
        "inputs": sizes[0],
        "layers": layers,
        "loss": loss,
        "examples": cases,
    }
    if training is not None:
        problem["training"] = training
    return problem


def every_answer(problem: dict[str, Any]) -> list[dict[str, Any]]:
    """Every quantity of the problem, every layer, every selector."""
    count = len(problem["examples"])
    depth = len(problem["layers"])
    answers: list[dict[str, Any]] = []
    selectors = [*range(1, count + 1), *SELECTORS]
    for example in selectors:
        for quantity in ("yhat", "dL_dyhat", "loss"):
            answers.append(
                {"id": f"{quantity}.{example}", "quantity": quantity, "example": example}
            )
        for layer in range(1, depth + 1):
            for quantity in LAYER_QUANTITIES:
                answers.append(
                    {
                        "id": f"{quantity}.{layer}.{example}",
                        "quantity": quantity,
                        "layer": layer,
                        "example": example,
                    }
                )
        if "training" in problem:
            answers.append(
                {"id": f"loss_after.{example}", "quantity": "loss_after", "example": example}
            )
    if "training" in problem:
        for layer in range(1, depth + 1):
            answers.append({"id": f"W_after.{layer}", "quantity": "W_after", "layer": layer})
    return [{**answer, "problem": "n", "points": 1} for answer in answers]


def rubric_of(problem: dict[str, Any], answers: list[dict[str, Any]] | None = None) -> Any:
    return validate_rubric(
        {
            "schema_version": 1,
            "title": "random",
            "problems": {"n": problem},
            "answers": answers if answers is not None else every_answer(problem),
        }
    )


# --- an independent forward and backward pass, scalar loops in 150 digits ---------------


def mp_act(name: str, a: list[Any]) -> list[Any]:
    if name == "sigmoid":
        return [1 / (1 + mpmath.exp(-t)) for t in a]
    if name == "tanh":
        return [mpmath.tanh(t) for t in a]
    if name == "relu":
        return [t if t > 0 else mpmath.mpf(0) for t in a]
    if name == "linear":
        return list(a)
    top = max(a)
    exps = [mpmath.exp(t - top) for t in a]
    total = sum(exps)
    return [e / total for e in exps]


def mp_jacobian(name: str, a: list[Any], h: list[Any]) -> list[list[Any]]:
    """∂h_i/∂a_j written out for each activation."""
    n = len(a)
    zero = mpmath.mpf(0)
    if name == "softmax":
        return [[h[i] * ((1 if i == j else 0) - h[j]) for j in range(n)] for i in range(n)]
    diag = {
        "sigmoid": [t * (1 - t) for t in h],
        "tanh": [1 - t * t for t in h],
        "relu": [mpmath.mpf(1) if t > 0 else zero for t in a],
        "linear": [mpmath.mpf(1)] * n,
    }[name]
    return [[diag[i] if i == j else zero for j in range(n)] for i in range(n)]


def mp_example(
    problem: dict[str, Any], weights: list[list[list[Any]]], x: Any, y: Any
) -> dict[str, Any]:
    layers = problem["layers"]
    loss = problem["loss"]
    outputs = layers[-1]["units"]
    if isinstance(y, list):
        target = [mpmath.mpf(t) for t in y]
    elif outputs > 1:
        target = [mpmath.mpf(1 if k + 1 == y else 0) for k in range(outputs)]
    else:
        target = [mpmath.mpf(y)]
    pre, act = [], [[mpmath.mpf(c) for c in x]]
    for W, layer in zip(weights, layers, strict=True):
        below = [mpmath.mpf(1)] + act[-1]
        a = [sum(W[j][k] * below[k] for k in range(len(below))) for j in range(len(W))]
        pre.append(a)
        act.append(mp_act(layer["activation"], a))
    yhat = act[-1]
    if loss.get("kind") == "cross_entropy":
        if layers[-1]["activation"] == "softmax":
            value = -sum(t * mpmath.log(p) for t, p in zip(target, yhat, strict=True) if t)
            dL = [-t / p if t else mpmath.mpf(0) for t, p in zip(target, yhat, strict=True)]
        else:
            (p,), (t,) = yhat, target
            value = -(t * mpmath.log(p) + (1 - t) * mpmath.log(1 - p))
            dL = [-t / p + (1 - t) / (1 - p)]
    else:
        c = mpmath.mpf(1) / 2 if loss.get("half") else mpmath.mpf(1)
        value = sum(c * (p - t) ** 2 for p, t in zip(yhat, target, strict=True))
        dL = [2 * c * (p - t) for p, t in zip(yhat, target, strict=True)]
    deltas: list[list[Any]] = [[]] * len(layers)
    upstream = dL
    for index in range(len(layers) - 1, -1, -1):
        J = mp_jacobian(layers[index]["activation"], pre[index], act[index + 1])
        n = len(J)
        delta = [sum(J[i][j] * upstream[i] for i in range(n)) for j in range(n)]
        deltas[index] = delta
        W = weights[index]
        upstream = [
            sum(W[j][k + 1] * delta[j] for j in range(len(W))) for k in range(len(W[0]) - 1)
        ]
    grads = [
        [[d * b for b in [mpmath.mpf(1)] + act[index]] for d in deltas[index]]
        for index in range(len(layers))
    ]
    return {
        "yhat": yhat if outputs > 1 else yhat[0],
        "dL_dyhat": dL if outputs > 1 else dL[0],
        "loss": value,
        "preactivation": pre,
        "activation": act[1:],
        "delta": deltas,
        "dW": grads,
    }


def mp_key(problem: dict[str, Any]) -> dict[str, Any]:
    """Every answer of ``every_answer(problem)`` computed independently, in 150 digits:
    h(1 − h) and 1 − h² of a saturated unit cancel some 50 of them."""
    mpmath.mp.dps = 150
    weights = [[[mpmath.mpf(w) for w in row] for row in layer["W"]] for layer in problem["layers"]]
    examples = problem["examples"]

    def run(ws: list[Any]) -> list[dict[str, Any]]:
        return [mp_example(problem, ws, case["x"], case["y"]) for case in examples]

    per = run(weights)
    key: dict[str, Any] = {}

    def selected(values: list[Any]) -> dict[Any, Any]:
        found: dict[Any, Any] = {i + 1: v for i, v in enumerate(values)}
        found["all"] = values
        found["sum"] = _mp_sum(values)
        found["mean"] = _mp_scale(found["sum"], mpmath.mpf(1) / len(values))
        return found

    for quantity in ("yhat", "dL_dyhat", "loss"):
        for selector, value in selected([p[quantity] for p in per]).items():
            key[f"{quantity}.{selector}"] = value
    for layer in range(len(weights)):
        for quantity in LAYER_QUANTITIES:
            for selector, value in selected([p[quantity][layer] for p in per]).items():
                key[f"{quantity}.{layer + 1}.{selector}"] = value
    training = problem.get("training")
    if training is not None:
        eta = mpmath.mpf(training["learning_rate"])
        current = weights
        for _ in range(training.get("steps", 1)):
            grads = [
                _mp_sum([p["dW"][layer] for p in run(current)]) for layer in range(len(current))
            ]
            if training.get("batch", "sum") == "mean":
                grads = [_mp_scale(g, mpmath.mpf(1) / len(examples)) for g in grads]
            current = [
                _mp_sum([W, _mp_scale(g, -eta)]) for W, g in zip(current, grads, strict=True)
            ]
        for layer, W in enumerate(current, start=1):
            key[f"W_after.{layer}"] = W
        for selector, value in selected([p["loss"] for p in run(current)]).items():
            key[f"loss_after.{selector}"] = value
    return key


def _mp_sum(values: list[Any]) -> Any:
    if isinstance(values[0], list):
        return [_mp_sum([v[k] for v in values]) for k in range(len(values[0]))]
    return sum(values)


def _mp_scale(value: Any, factor: Any) -> Any:
    if isinstance(value, list):
        return [_mp_scale(v, factor) for v in value]
    return value * factor


def relative_errors(actual: Any, exact: Any) -> np.ndarray:
    """|a − e|/|e| entry by entry (0 where both are exactly 0, inf where only e is)."""
    e = np.vectorize(float)(np.array(exact, dtype=object)).astype(np.float64)
    e_mp = np.array(exact, dtype=object).ravel()
    a = np.asarray(actual, dtype=np.float64)
    assert a.shape == e.shape
    errors = []
    for got, want in zip(a.ravel(), e_mp, strict=True):
        if want == 0:
            errors.append(0.0 if got == 0 else np.inf)
        else:
            errors.append(float(abs((mpmath.mpf(float(got)) - want) / want)))
    return np.array(errors)


NETWORKS: list[tuple[list[int], list[str], dict[str, Any], float]] = [
    ([3, 2, 2, 3], ["tanh", "relu", "softmax"], {"kind": "cross_entropy"}, 0.8),
    ([2, 3, 1], ["sigmoid", "linear"], {"kind": "squared"}, 0.8),
    ([2, 4, 1], ["tanh", "sigmoid"], {"kind": "cross_entropy"}, 0.8),
    ([4, 3, 3, 2], ["relu", "sigmoid", "linear"], {"kind": "squared", "half": True}, 0.9),
    ([3, 5, 4, 3, 3], ["sigmoid", "tanh", "relu", "softmax"], {"kind": "squared"}, 0.8),
    ([2, 2], ["softmax"], {"kind": "cross_entropy"}, 1.0),
    ([3, 1], ["sigmoid"], {"kind": "squared", "half": True}, 1.0),
    ([2, 3, 2], ["linear", "tanh"], {"kind": "squared"}, 0.7),
    # saturated units: pre-activations of tens
    ([3, 3, 1], ["sigmoid", "sigmoid"], {"kind": "squared"}, 9.0),
    ([3, 3, 3], ["tanh", "softmax"], {"kind": "cross_entropy"}, 9.0),
    ([2, 3, 1], ["tanh", "sigmoid"], {"kind": "cross_entropy"}, 12.0),
    ([3, 4, 2], ["relu", "tanh"], {"kind": "squared", "half": True}, 8.0),
]
TRAINING: list[dict[str, Any]] = [
    {"learning_rate": 0.5},
    {"learning_rate": 0.1, "steps": 3, "batch": "mean"},
]


def test_every_activation_loss_and_depth_is_covered() -> None:
    """The random networks use every activation of the table and every loss."""
    used = {name for _, activations, _, _ in NETWORKS for name in activations}
    assert used == set(ACTIVATIONS)
    assert {loss["kind"] for _, _, loss, _ in NETWORKS} == set(LOSSES)
    assert {len(activations) for _, activations, _, _ in NETWORKS} >= {1, 2, 3, 4}


@pytest.mark.parametrize("case", range(len(NETWORKS)))
def test_key_agrees_with_an_independent_high_precision_pass_to_1e_10(case: int) -> None:
    """Every quantity, layer and selector (and the training step) of a random network
    agrees with scalar-loop backprop in 150-digit arithmetic to 1e-10 relative, entry by
    entry, saturated units included; exact zeros are exact."""
    sizes, activations, loss, scale = NETWORKS[case]
    rng = np.random.default_rng(1000 + case)
    problem = random_problem(
        rng, sizes, activations, loss, 3, scale=scale, training=TRAINING[case % 2]
    )
    key = solve(rubric_of(problem))
    exact = mp_key(problem)
    worst = 0.0
    for entry in key:
        errors = relative_errors(entry.expected, exact[entry.answer.id])
        assert np.all(errors <= 1e-10), (entry.answer.id, float(np.max(errors)))
        worst = max(worst, float(np.max(errors)))
    print(f"worst relative error: {worst:.2e}")


def test_worst_relative_error_over_all_random_networks_is_stated() -> None:
    """Over every random network above, the worst entry is below 1e-12 relative
    (README states the measured figure)."""
    worst = 0.0
    for case, (sizes, activations, loss, scale) in enumerate(NETWORKS):
        rng = np.random.default_rng(1000 + case)
        problem = random_problem(
            rng, sizes, activations, loss, 3, scale=scale, training=TRAINING[case % 2]
        )
        key = solve(rubric_of(problem))
        exact = mp_key(problem)
        for entry in key:
            worst = max(
                worst, float(np.max(relative_errors(entry.expected, exact[entry.answer.id])))
            )
    assert worst < 1e-12, worst


@pytest.mark.parametrize("case", [0, 1, 2, 3, 4, 5, 6, 7])
def test_gradients_match_central_finite_differences(case: int) -> None:
    """∂L/∂W_l of every layer, per example and summed, agrees with central differences
    of the loss node in every weight."""
    sizes, activations, loss, scale = NETWORKS[case]
    rng = np.random.default_rng(2000 + case)
    problem = random_problem(rng, sizes, activations, loss, 2, scale=scale)
    key = solve(rubric_of(problem))
    weights = [f"n.W.{layer}" for layer in range(1, len(activations) + 1)]
    h = 1e-6
    for example in (1, 2, "sum"):
        node = f"n.loss[{example}]"
        for layer, param in enumerate(weights, start=1):
            W0 = np.array(key.graph.evaluate(param))
            dW = np.asarray(key[f"dW.{layer}.{example}"].expected)
            for index in np.ndindex(*W0.shape):
                step = np.zeros_like(W0)
                step[index] = h
                up = float(key.graph.evaluate(node, {param: W0 + step}))
                down = float(key.graph.evaluate(node, {param: W0 - step}))
                assert dW[index] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)


def test_delta_is_the_derivative_of_the_loss_in_the_preactivation() -> None:
    """δ_l = ∂L/∂a_l: central differences of the loss in each pre-activation."""
    sizes, activations, loss, _ = NETWORKS[4]
    problem = random_problem(np.random.default_rng(5), sizes, activations, loss, 1)
    key = solve(rubric_of(problem))
    h = 1e-6
    for layer in range(1, len(activations) + 1):
        node = f"n.preactivation.{layer}[1]"
        a0 = np.array(key.graph.evaluate(node))
        delta = np.asarray(key[f"delta.{layer}.1"].expected)
        for k in range(a0.size):
            step = np.zeros_like(a0)
            step[k] = h
            up = float(key.graph.evaluate("n.loss[1]", {node: a0 + step}))
            down = float(key.graph.evaluate("n.loss[1]", {node: a0 - step}))
            assert delta[k] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9)


# --- the shorthand is the same network -----------------------------------------------


def test_the_shorthand_means_its_layers() -> None:
    """hidden/output/W/v and the layers [sigmoid hidden, output] give the same key:
    hidden = activation of layer 1, dW = layer 1's, dv = layer 2's as a vector."""
    W = [[0.1, -0.2, 0.3], [0.2, 0.1, -0.4]]
    v = [0.05, 0.3, -0.6]
    examples = [{"x": [1.0, 2.0], "y": 0.5}, {"x": [-1.0, 0.5], "y": 1.0}]
    for output in ("linear", "sigmoid"):
        shorthand = {
            "kind": "network",
            "inputs": 2,
            "hidden": 2,
            "output": output,
            "W": W,
            "v": v,
            "loss": {"half": True},
            "examples": examples,
            "training": {"learning_rate": 0.3},
        }
        layered = {
            "kind": "network",
            "inputs": 2,
            "loss": {"kind": "squared", "half": True},
            "layers": [
                {"units": 2, "activation": "sigmoid", "W": W},
                {"units": 1, "activation": output, "W": [v]},
            ],
            "examples": examples,
            "training": {"learning_rate": 0.3},
        }
        pairs: list[tuple[dict[str, Any], dict[str, Any]]] = [
            (
                {"quantity": "hidden", "example": 2},
                {"quantity": "activation", "layer": 1, "example": 2},
            ),
            (
                {"quantity": "dW", "example": "sum"},
                {"quantity": "dW", "layer": 1, "example": "sum"},
            ),
            ({"quantity": "dv", "example": 1}, {"quantity": "dW", "layer": 2, "example": 1}),
            (
                {"quantity": "dW", "layer": 2, "example": "all"},
                {"quantity": "dW", "layer": 2, "example": "all"},
            ),
            ({"quantity": "yhat", "example": "all"}, {"quantity": "yhat", "example": "all"}),
            ({"quantity": "W_after"}, {"quantity": "W_after", "layer": 1}),
            ({"quantity": "v_after"}, {"quantity": "W_after", "layer": 2}),
            (
                {"quantity": "loss_after", "example": "sum"},
                {"quantity": "loss_after", "example": "sum"},
            ),
            (
                {"quantity": "delta", "layer": 2, "example": 1},
                {"quantity": "delta", "layer": 2, "example": 1},
            ),
        ]
        for short, long in pairs:
            a = solve(rubric_of(shorthand, [{"id": "a", "problem": "n", "points": 1, **short}]))
            b = solve(rubric_of(layered, [{"id": "a", "problem": "n", "points": 1, **long}]))
            got, want = np.asarray(a["a"].expected), np.asarray(b["a"].expected)
            if short["quantity"] in ("dv", "v_after"):
                want = want.ravel()  # the shorthand's output weights are a vector
            assert got.shape == want.shape, (short, got.shape, want.shape)
            np.testing.assert_array_equal(got, want)


# --- shapes and values the contract fixes ---------------------------------------------


def test_shapes_of_every_quantity() -> None:
    """ŷ of one output is a number, of K outputs a vector; per-layer vectors have the
    layer's length; dW and W_after the shape of W; `all` stacks on a new first axis."""
    problem = random_problem(
        np.random.default_rng(1),
        [3, 2, 4],
        ["tanh", "softmax"],
        {"kind": "cross_entropy"},
        3,
        training={"learning_rate": 0.5},
    )
    key = solve(rubric_of(problem))
    shape = {entry.answer.id: np.shape(entry.expected) for entry in key}
    assert shape["yhat.1"] == (4,) and shape["yhat.all"] == (3, 4)
    assert shape["loss.1"] == () and shape["loss.all"] == (3,) and shape["loss.sum"] == ()
    assert shape["activation.1.2"] == (2,) and shape["delta.2.mean"] == (4,)
    assert shape["dW.1.1"] == (2, 4) and shape["dW.2.sum"] == (4, 3)
    assert shape["dW.1.all"] == (3, 2, 4)
    assert shape["W_after.2"] == (4, 3) and shape["loss_after.all"] == (3,)
    one = random_problem(np.random.default_rng(2), [2, 3, 1], ["relu", "sigmoid"], {}, 2)
    key = solve(rubric_of(one))
    assert np.shape(key["yhat.1"].expected) == () and np.shape(key["dL_dyhat.all"].expected) == (2,)
    assert np.shape(key["delta.2.1"].expected) == (1,)
    assert np.shape(key["dW.2.1"].expected) == (1, 4)


def test_softmax_cross_entropy_dL_dyhat_is_literal_and_the_output_delta_is_yhat_minus_y() -> None:
    """With softmax and cross-entropy, ∂L/∂ŷ_k = −y_k/ŷ_k, and δ_L = ŷ − y; a class
    index k means the one-hot target e_k."""
    problem = random_problem(
        np.random.default_rng(3),
        [2, 3],
        ["softmax"],
        {"kind": "cross_entropy"},
        2,
        class_targets=True,
    )
    key = solve(rubric_of(problem))
    for i, case in enumerate(problem["examples"], start=1):
        onehot = np.eye(3)[case["y"] - 1]
        yhat = np.asarray(key[f"yhat.{i}"].expected)
        np.testing.assert_allclose(
            key[f"delta.1.{i}"].expected, yhat - onehot, rtol=1e-14, atol=1e-16
        )
        literal = np.where(onehot == 0, 0.0, -onehot / yhat)
        np.testing.assert_allclose(key[f"dL_dyhat.{i}"].expected, literal, rtol=1e-15)
        assert float(key[f"loss.{i}"].expected) == pytest.approx(
            -np.log(yhat[case["y"] - 1]), rel=1e-14
        )


def test_dead_relu_units_give_exact_zeros_and_relu_prime_at_zero_is_zero() -> None:
    """A ReLU unit with a ≤ 0 passes back exactly 0 (its row of ∂L/∂W is exactly 0,
    never 1e-17), also at a = 0 exactly."""
    problem = {
        "kind": "network",
        "inputs": 2,
        "layers": [
            {
                "units": 3,
                "activation": "relu",
                "W": [[0.5, 0.2, 0.1], [-2.0, 0.1, 0.1], [0.0, 0.0, 0.0]],
            },
            {"units": 1, "activation": "linear", "W": [[0.1, 0.7, -0.3, 0.9]]},
        ],
        "examples": [{"x": [1.0, 2.0], "y": 3.0}, {"x": [-1.0, 1.0], "y": 1.0}],
    }
    key = solve(rubric_of(problem))
    dW = np.asarray(key["dW.1.sum"].expected)
    assert np.all(dW[1] == 0.0) and np.all(dW[2] == 0.0)  # dead, and a = 0 exactly
    assert np.all(dW[0] != 0.0)
    assert key.to_json()["dW.1.sum"][1] == [0.0, 0.0, 0.0]


def test_a_symmetric_batch_sums_to_an_exact_zero() -> None:
    """Two mirrored examples of a linear network cancel exactly in the batch gradient."""
    problem = {
        "kind": "network",
        "inputs": 1,
        "layers": [{"units": 1, "activation": "linear", "W": [[0.0, 1.0]]}],
        "examples": [{"x": [1.0], "y": 0.5}, {"x": [-1.0], "y": -0.5}],
    }
    key = solve(rubric_of(problem))
    assert key.to_json()["dW.1.sum"][0][0] == 0.0


# --- training ----------------------------------------------------------------------------


def test_one_step_is_the_weights_minus_eta_times_the_batch_gradient() -> None:
    """W_after = W − η·Σ_i ∂L_i/∂W (batch: sum), or with the mean; loss_after's `sum`
    sums the per-example losses after the step whatever the batch."""
    for batch in ("sum", "mean"):
        problem = random_problem(
            np.random.default_rng(4),
            [3, 2, 2, 3],
            ["tanh", "relu", "softmax"],
            {"kind": "cross_entropy"},
            3,
            training={"learning_rate": 0.5, "batch": batch},
        )
        key = solve(rubric_of(problem))
        for layer in (1, 2, 3):
            W = np.array(problem["layers"][layer - 1]["W"])
            gradient = np.asarray(key[f"dW.{layer}.{batch}"].expected)
            np.testing.assert_allclose(
                key[f"W_after.{layer}"].expected, W - 0.5 * gradient, rtol=1e-15
            )
        after = np.asarray(key["loss_after.all"].expected)
        assert float(key["loss_after.sum"].expected) == pytest.approx(after.sum(), rel=1e-15)
        assert float(key["loss_after.sum"].expected) < float(key["loss.sum"].expected)


# --- the rubric's checks ---------------------------------------------------------------


def _refused(problem: dict[str, Any], answers: list[dict[str, Any]] | None = None) -> str:
    with pytest.raises(RubricError) as caught:
        rubric_of(
            problem,
            answers
            if answers is not None
            else [{"id": "a", "problem": "n", "quantity": "yhat", "example": 1, "points": 1}],
        )
    return str(caught.value)


def _layered(**changes: Any) -> dict[str, Any]:
    problem = random_problem(
        np.random.default_rng(9), [3, 2, 3], ["tanh", "softmax"], {"kind": "cross_entropy"}, 2
    )
    problem.update(changes)
    return problem


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "loss": {"kind": "cross_entropy"},
                "layers": [
                    {"units": 2, "activation": "tanh", "W": [[0.0] * 4] * 2},
                    {"units": 3, "activation": "linear", "W": [[0.0] * 3] * 3},
                ],
            },
            "problems.n.loss.kind: cross_entropy needs a softmax output or one sigmoid output "
            "unit, but the output is 3 linear units",
        ),
        (
            {
                "layers": [
                    {"units": 2, "activation": "softmax", "W": [[0.0] * 4] * 2},
                    {"units": 3, "activation": "softmax", "W": [[0.0] * 3] * 3},
                ]
            },
            "problems.n.layers[0].activation: softmax is allowed on the output layer only",
        ),
        (
            {
                "layers": [
                    {"units": 2, "activation": "tanh", "W": [[0.0] * 3] * 2},
                    {"units": 3, "activation": "softmax", "W": [[0.0] * 3] * 3},
                ]
            },
            "problems.n.layers[0].W: W has shape (2, 3), expected (2, 4) = (units, inputs + 1)",
        ),
        (
            {
                "layers": [
                    {"units": 2, "activation": "swish", "W": [[0.0] * 4] * 2},
                    {"units": 3, "activation": "softmax", "W": [[0.0] * 3] * 3},
                ]
            },
            "unknown activation 'swish'",
        ),
        ({"loss": {"kind": "hinge"}}, "unknown loss 'hinge'"),
        ({"loss": {"kind": "cross_entropy", "half": True}}, "half is for the squared loss"),
        ({"examples": [{"x": [1, 2, 3], "y": 4}]}, "y = 4 is not a class 1..3"),
        ({"examples": [{"x": [1, 2, 3], "y": [0, 1]}]}, "y has 2 entries, expected 3"),
        ({"W": [[0.0]]}, "'W' belongs to the one-hidden-layer shorthand"),
    ],
)
def test_a_network_that_does_not_fit_is_refused(change: dict[str, Any], message: str) -> None:
    """Shapes, softmax below the output, cross-entropy without softmax or one sigmoid
    output, unknown names, targets that fit no output: one clear message each."""
    assert message in _refused(_layered(**change))


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"quantity": "dW", "example": 1}, "'dW' needs a layer (1 to 2)"),
        ({"quantity": "dW", "layer": 3, "example": 1}, "layer 3 does not exist"),
        ({"quantity": "yhat", "layer": 1, "example": 1}, "'yhat' takes no layer"),
        ({"quantity": "dv", "example": 1}, "'dv' belongs to the one-hidden-layer shorthand"),
        ({"quantity": "W_after", "layer": 1}, "needs a training block"),
        ({"quantity": "loss", "example": None}, "example: is required but missing"),
    ],
)
def test_an_answer_that_does_not_fit_its_network_is_refused(
    answer: dict[str, Any], message: str
) -> None:
    """Layers out of range or missing, shorthand quantities of a layered network,
    training quantities without training."""
    answers = [
        {
            "id": "a",
            "problem": "n",
            "points": 1,
            **{k: v for k, v in answer.items() if v is not None},
        }
    ]
    assert message in _refused(_layered(), answers)


def test_W_after_takes_no_example() -> None:
    problem = _layered(training={"learning_rate": 0.1})
    answers = [
        {"id": "a", "problem": "n", "points": 1, "quantity": "W_after", "layer": 1, "example": 1}
    ]
    assert "takes no example" in _refused(problem, answers)


# --- answers over every example: 3-D -----------------------------------------------------


def _deep_key() -> Any:
    problem = random_problem(
        np.random.default_rng(11), [2, 2, 2], ["tanh", "softmax"], {"kind": "cross_entropy"}, 2
    )
    answers = [
        {
            "id": "dW.all",
            "problem": "n",
            "quantity": "dW",
            "layer": 1,
            "example": "all",
            "points": 4,
        }
    ]
    return solve(rubric_of(problem, answers))


def test_a_stack_of_matrices_is_answerable_as_json_and_as_a_csv_cell() -> None:
    """dW over all examples, (2, 2, 3): JSON nested lists, a cell of nested brackets, and
    a cell of matrices separated by '|' (rows by ';') are all read and right."""
    key = _deep_key()
    value = np.round(np.asarray(key["dW.all"].expected), 8)
    blocks = " | ".join(
        "; ".join(" ".join(f"{x:.8g}" for x in row) for row in block) for block in value
    )
    for raw in (value.tolist(), json.dumps(value.tolist()), blocks):
        item = grade_submission(Submission("s", "test", {"dW.all": raw}), key).item("dW.all")
        assert item.status == "correct", (raw, item.message)
    wrong = value.copy()
    wrong[1, 0, 2] *= 1.5
    item = grade_submission(Submission("s", "test", {"dW.all": wrong.tolist()}), key).item("dW.all")
    assert (
        item.status == "partial" and "∂L/∂w₁₂ (layer 1, example 2)" in item.message
    )  # row 1, column 3 of example 2


def test_grader_key_prints_a_stack_of_matrices(tmp_path: Any) -> None:
    """`grader key` prints 3-D answers as one matrix per example, and its JSON as nested lists."""
    rubric = tmp_path / "deep.yaml"
    rubric.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "title": "deep",
                "problems": {
                    "n": random_problem(
                        np.random.default_rng(11),
                        [2, 2, 2],
                        ["tanh", "softmax"],
                        {"kind": "cross_entropy"},
                        2,
                    )
                },
                "answers": [
                    {
                        "id": "dW.all",
                        "problem": "n",
                        "quantity": "dW",
                        "layer": 1,
                        "example": "all",
                        "points": 4,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    table = subprocess.run(
        [sys.executable, "-m", "grader", "key", "--rubric", str(rubric)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "example 1:" in table and "example 2:" in table
    data = json.loads(
        subprocess.run(
            [sys.executable, "-m", "grader", "key", "--rubric", str(rubric), "--format", "json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert np.shape(data["dW.all"]) == (2, 2, 3)


def test_the_rubric_reference_names_every_quantity_activation_and_loss() -> None:
    """docs/rubric.md documents each network quantity, activation and loss by name."""
    text = (ROOT / "docs" / "rubric.md").read_text(encoding="utf-8")
    for name in [*get_args(NetworkQuantity), *ACTIVATIONS, *LOSSES]:
        assert f"`{name}`" in text, name
