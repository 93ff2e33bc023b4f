"""The network format as users rely on it, checked from outside: random layered networks
of every activation, loss, target form and depth 1-4 (saturated units, dead ReLUs,
training blocks of 1-3 steps over sums and means) are written as rubric files, and the
answer key of ``grader.solve`` and of ``grader key --format json`` is held, for every
quantity, layer and example selector, against an independent 50-digit mpmath pass
(``tests/contract_reference.py``) to 1e-9 relative; an exact zero must be 0.0 exactly.
Then what a key is for: the shorthand is its layers, the shapes, submissions built from
the key earn full marks (JSON, CSV cells of 3-D answers), a student's singleton axis,
the fairness rule of W_after, and the rubrics that must be refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from grader import load_rubric, parse_rubric, solve

from .contract_reference import Reference, worst_relative_error

TOLERANCE = 1e-9
HIDDEN = ("sigmoid", "tanh", "relu", "linear")

# (output activation, loss, outputs, target form): every output and loss of the format.
OUTPUTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("linear", {"kind": "squared", "half": False}, 1, "scalar"),
    ("linear", {"kind": "squared", "half": True}, 3, "vector"),
    ("sigmoid", {"kind": "squared", "half": True}, 1, "scalar"),
    ("sigmoid", {"half": False}, 2, "vector"),  # squared is the default kind
    ("tanh", {"kind": "squared"}, 2, "vector"),
    ("relu", {"kind": "squared", "half": True}, 2, "vector"),
    ("softmax", {"kind": "squared", "half": False}, 3, "vector"),
    ("softmax", {"kind": "cross_entropy"}, 3, "class"),
    ("softmax", {"kind": "cross_entropy"}, 4, "one_hot"),
    ("sigmoid", {"kind": "cross_entropy"}, 1, "binary"),
]


def make_problem(
    rng: np.random.Generator,
    sizes: list[int],
    activations: list[str],
    loss: dict[str, Any],
    targets: str,
    examples: int,
    *,
    saturate: int | None = None,
    training: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A network problem as a rubric holds it; layer ``saturate`` (0-based) gets
    pre-activations of ±20 to ±40."""
    layers = []
    for k, activation in enumerate(activations):
        W = rng.uniform(-1.2, 1.2, size=(sizes[k + 1], sizes[k] + 1)).round(4)
        if k == saturate:
            W[:, 1:] *= 0.02
            signs = rng.choice([-1.0, 1.0], size=sizes[k + 1])
            W[:, 0] = (signs * rng.uniform(20, 40, size=sizes[k + 1])).round(2)
        layers.append({"units": sizes[k + 1], "activation": activation, "W": W.tolist()})
    cases = []
    outputs = sizes[-1]
    for _ in range(examples):
        x = rng.uniform(-2, 2, size=sizes[0]).round(3).tolist()
        y: Any
        if targets == "class":
            y = int(rng.integers(1, outputs + 1))
        elif targets == "one_hot":
            y = np.eye(outputs)[int(rng.integers(outputs))].tolist()
        elif targets == "binary":
            y = float(rng.integers(0, 2))
        elif targets == "scalar":
            y = round(float(rng.uniform(-1, 1)), 3)
        else:
            y = rng.uniform(-1, 1, size=outputs).round(3).tolist()
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


def every_answer(problem: dict[str, Any], name: str = "net") -> list[dict[str, Any]]:
    """Every quantity of the format, every layer, every example selector."""
    count = len(problem["examples"])
    selectors: list[Any] = [*range(1, count + 1), "all", "sum", "mean"]
    answers: list[dict[str, Any]] = []

    def add(answer_id: str, **fields: Any) -> None:
        answers.append({"id": f"{name}.{answer_id}", "problem": name, "points": 1, **fields})

    for quantity in ("yhat", "dL_dyhat", "loss"):
        for selector in selectors:
            add(f"{quantity}.{selector}", quantity=quantity, example=selector)
    for layer in range(1, len(problem["layers"]) + 1):
        for quantity in ("preactivation", "activation", "delta", "dW"):
            for selector in selectors:
                add(
                    f"{quantity}.l{layer}.{selector}",
                    quantity=quantity,
                    layer=layer,
                    example=selector,
                )
        if "training" in problem:
            add(f"W_after.l{layer}", quantity="W_after", layer=layer)
    if "training" in problem:
        for selector in selectors:
            add(f"loss_after.{selector}", quantity="loss_after", example=selector)
    return answers


def rubric_of(problems: dict[str, dict[str, Any]], answers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "title": "hidden network rubric",
        "defaults": {"tolerance": {"mode": "relative", "rtol": 1e-6}},
        "problems": problems,
        "answers": answers,
    }


def write_rubric(folder: Path, rubric: dict[str, Any], name: str = "rubric.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(rubric, sort_keys=False), encoding="utf-8")
    return path


def random_case(case: int) -> dict[str, Any]:
    """Case ``case``: depth 1-4, an output and loss of OUTPUTS, hidden activations in turn,
    every third case saturated, every other one trained."""
    rng = np.random.default_rng(1000 + case)
    output, loss, outputs, targets = OUTPUTS[case % len(OUTPUTS)]
    depth = 1 + case % 4
    hidden = [HIDDEN[(case + k) % len(HIDDEN)] for k in range(depth - 1)]
    sizes = [int(rng.integers(1, 4)), *(int(rng.integers(1, 4)) for _ in hidden), outputs]
    saturate = None if case % 3 else int(rng.integers(depth))
    training = None
    if case % 2:
        training = {
            "learning_rate": float(rng.choice([0.05, 0.3, 1.0])),
            "steps": 1 + case % 3,
            "batch": ["sum", "mean"][(case // 2) % 2],
        }
    return make_problem(
        rng,
        sizes,
        [*hidden, output],
        loss,
        targets,
        int(rng.integers(1, 5)),
        saturate=saturate,
        training=training,
    )


CASES = range(40)


def compare(problem: dict[str, Any], key: dict[str, Any], name: str = "net") -> dict[str, float]:
    """Relative error of every answer of ``problem`` in ``key`` against the reference."""
    reference = Reference(problem)
    return {
        answer["id"]: worst_relative_error(reference.quantity(answer), key[answer["id"]])
        for answer in every_answer(problem, name)
    }


def test_the_random_cases_cover_every_activation_loss_target_and_depth() -> None:
    """40 cases: each output/loss/target row of OUTPUTS, each hidden activation, depth
    1-4, saturated layers and training blocks of 1, 2 and 3 steps over sums and means."""
    problems = [random_case(case) for case in CASES]
    seen_outputs = {
        (p["layers"][-1]["activation"], p["loss"].get("kind", "squared")) for p in problems
    }
    assert len(seen_outputs) == 7
    hidden = {layer["activation"] for p in problems for layer in p["layers"][:-1]}
    assert hidden == set(HIDDEN)
    assert {len(p["layers"]) for p in problems} == {1, 2, 3, 4}
    trained = [p["training"] for p in problems if "training" in p]
    assert {(t["steps"], t["batch"]) for t in trained} >= {(1, "sum"), (2, "mean"), (3, "sum")}
    saturated = [
        p for p in problems if any(abs(row[0]) >= 20 for layer in p["layers"] for row in layer["W"])
    ]
    assert len(saturated) >= 10


@pytest.mark.parametrize("case", CASES)
def test_the_key_of_a_random_network_agrees_with_50_digit_arithmetic(case: int) -> None:
    """Every quantity, layer and selector to 1e-9 relative; exact zeros exactly 0.0."""
    problem = random_case(case)
    rubric = rubric_of({"net": problem}, every_answer(problem))

    key = solve(parse_rubric(yaml.safe_dump(rubric))).to_json()
    errors = compare(problem, key)
    bad = {answer_id: error for answer_id, error in errors.items() if not error <= TOLERANCE}
    assert not bad, bad


def test_worst_relative_error_over_the_random_networks() -> None:
    """The figure the report states: the worst relative error over all 40 cases."""

    worst = 0.0
    for case in CASES:
        problem = random_case(case)
        rubric = rubric_of({"net": problem}, every_answer(problem))
        key = solve(parse_rubric(yaml.safe_dump(rubric))).to_json()
        worst = max(worst, *compare(problem, key).values())
    print(f"worst relative error over {len(CASES)} random networks: {worst:.3g}")
    assert worst <= TOLERANCE


def grader_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_grader_key_json_on_a_rubric_file_is_the_independent_key(tmp_path: Path) -> None:
    """Several networks in one rubric file, through the command line: the same numbers."""
    problems = {f"n{case}": random_case(case) for case in (3, 6, 9, 13, 28)}
    answers = [a for name, p in problems.items() for a in every_answer(p, name)]
    path = write_rubric(tmp_path, rubric_of(problems, answers))
    run = grader_cli("key", "--rubric", path, "--format", "json")
    assert run.returncode == 0, run.stderr
    key = json.loads(run.stdout)
    assert list(key) == [a["id"] for a in answers]
    assert key == solve(load_rubric(path)).to_json()
    for name, problem in problems.items():
        errors = compare(problem, key, name)
        assert max(errors.values()) <= TOLERANCE, {k: e for k, e in errors.items() if e > TOLERANCE}


# --- saturation, exact zeros ---------------------------------------------------------


def one_layer(
    activation: str, W: list[list[float]], loss: dict[str, Any], examples: list[Any]
) -> dict[str, Any]:
    return {
        "kind": "network",
        "inputs": len(W[0]) - 1,
        "layers": [{"units": len(W), "activation": activation, "W": W}],
        "loss": loss,
        "examples": examples,
    }


SATURATED: dict[str, dict[str, Any]] = {
    # a hidden layer of sigmoid units at ±11.75, ±21.75, ±39 below a linear output
    "sigmoid_hidden": {
        "kind": "network",
        "inputs": 1,
        "layers": [
            {"units": 3, "activation": "sigmoid", "W": [[11.75, 0.0], [-21.75, 0.0], [39.0, 0.0]]},
            {"units": 1, "activation": "linear", "W": [[0.1, 0.5, -0.25, 2.0]]},
        ],
        "examples": [{"x": [1.0], "y": 3.0}],
    },
    "tanh_hidden": {
        "kind": "network",
        "inputs": 1,
        "layers": [
            {"units": 3, "activation": "tanh", "W": [[19.5, 0.5], [-30.0, 0.25], [38.0, 0.0]]},
            {
                "units": 2,
                "activation": "sigmoid",
                "W": [[0.1, 0.5, -0.25, 2.0], [0.0, 1.0, 1.0, -1.0]],
            },
        ],
        "loss": {"kind": "squared", "half": True},
        "examples": [{"x": [1.0], "y": [0.0, 1.0]}, {"x": [-2.0], "y": [1.0, 0.5]}],
    },
    # pre-activations (±30, 0.5): probabilities of e^-60; the right class nearly
    # impossible (loss ~ 60) or likely (a loss of 0.31)
    "softmax_cross_entropy": one_layer(
        "softmax",
        [[30.0, 0.0], [-30.0, 0.0], [0.0, 1.0]],
        {"kind": "cross_entropy"},
        [{"x": [0.5], "y": 3}, {"x": [0.5], "y": 2}, {"x": [29.0], "y": [1.0, 0.0, 0.0]}],
    ),
    # one sigmoid output, ŷ within e^-35 of 1 and e^-28 of 0, both targets
    "sigmoid_cross_entropy": one_layer(
        "sigmoid",
        [[35.0, 1.0, 0.0]],
        {"kind": "cross_entropy"},
        [
            {"x": [0.0, 1.0], "y": 1},
            {"x": [0.0, 1.0], "y": 0},
            {"x": [-63.0, 0.0], "y": 1},
            {"x": [-63.0, 0.0], "y": 1.0},
        ],
    ),
    "sigmoid_squared_output": one_layer(
        "sigmoid",
        [[-24.0, 0.5]],
        {"kind": "squared"},
        [{"x": [1.0], "y": 1.0}, {"x": [-30.0], "y": 0.0}],
    ),
}
for _name, _problem in SATURATED.items():
    # two saturated cases train too, so W_after and loss_after are checked at saturation
    if _name in ("tanh_hidden", "sigmoid_cross_entropy"):
        _problem["training"] = {"learning_rate": 0.02, "steps": 2, "batch": "mean"}


@pytest.mark.parametrize("name", list(SATURATED))
def test_saturated_units_keep_their_digits(name: str) -> None:
    """Pre-activations of ±11.75 … ±40: σ′, tanh′, softmax and cross-entropy to 1e-9."""

    problem = SATURATED[name]
    rubric = rubric_of({"net": problem}, every_answer(problem))
    key = solve(parse_rubric(yaml.safe_dump(rubric))).to_json()
    errors = compare(problem, key)
    bad = {answer_id: error for answer_id, error in errors.items() if not error <= TOLERANCE}
    assert not bad, bad


def test_dead_relu_units_and_a_symmetric_batch_give_exact_zeros() -> None:
    """A ReLU below zero or at exactly zero passes no gradient; an odd network on x and −x
    with targets y and −y sums its bias gradients to 0: all exactly 0.0 in the key."""

    relu = {
        "kind": "network",
        "inputs": 2,
        "layers": [
            {
                "units": 3,
                "activation": "relu",
                "W": [[-5.0, 0.1, 0.2], [0.0, 0.0, 0.0], [0.3, 0.4, -0.2]],
            },
            {"units": 1, "activation": "linear", "W": [[0.1, 0.7, -0.3, 0.9]]},
        ],
        "examples": [{"x": [1.0, 2.0], "y": 1.5}, {"x": [0.5, -1.0], "y": -0.5}],
    }
    odd = {
        "kind": "network",
        "inputs": 2,
        "layers": [
            {"units": 2, "activation": "tanh", "W": [[0.0, 0.3, -0.7], [0.0, 0.9, 0.2]]},
            {"units": 1, "activation": "linear", "W": [[0.0, 0.6, -0.4]]},
        ],
        "examples": [{"x": [0.3, 0.8], "y": 0.45}, {"x": [-0.3, -0.8], "y": -0.45}],
    }
    relu_key = solve(parse_rubric(yaml.safe_dump(rubric_of({"net": relu}, every_answer(relu)))))
    odd_key = solve(parse_rubric(yaml.safe_dump(rubric_of({"net": odd}, every_answer(odd)))))
    for problem, key in ((relu, relu_key.to_json()), (odd, odd_key.to_json())):
        assert max(compare(problem, key).values()) <= TOLERANCE
    relu_dW = relu_key.to_json()["net.dW.l1.all"]
    assert [example[0] for example in relu_dW] == [[0.0, 0.0, 0.0]] * 2  # below zero
    assert [example[1] for example in relu_dW] == [[0.0, 0.0, 0.0]] * 2  # at exactly zero
    odd_json = odd_key.to_json()
    assert [row[0] for row in odd_json["net.dW.l1.sum"]] == [0.0, 0.0]
    assert odd_json["net.dW.l2.sum"][0][0] == 0.0
    assert odd_json["net.delta.l2.mean"] == [0.0]


# --- the shorthand is its layers -----------------------------------------------------

SHORTHAND = {
    "kind": "network",
    "inputs": 2,
    "hidden": 3,
    "output": "sigmoid",
    "loss": {"half": True},
    "W": [[0.01, 0.02, 0.03], [0.03, 0.01, 0.02], [0.02, 0.03, 0.01]],
    "v": [0.01, 0.02, 0.03, 0.04],
    "examples": [{"x": [1, 2], "y": 8}, {"x": [1, 3], "y": 11}, {"x": [2, 2], "y": 10}],
    "training": {"learning_rate": 0.1, "steps": 2, "batch": "sum"},
}


@pytest.mark.parametrize("output", ["linear", "sigmoid"])
@pytest.mark.parametrize("half", [False, True])
def test_the_shorthand_is_its_layers(output: str, half: bool) -> None:
    """hidden = activation of layer 1, dW = layer 1's, dv = layer 2's as a vector,
    W_after/v_after = layer 1's/2's after training; `layer` works in the shorthand too."""

    short = {**SHORTHAND, "output": output, "loss": {"half": half}}
    layered = {
        "kind": "network",
        "inputs": 2,
        "layers": [
            {"units": 3, "activation": "sigmoid", "W": short["W"]},
            {"units": 1, "activation": output, "W": [short["v"]]},
        ],
        "loss": {"kind": "squared", "half": half},
        "examples": short["examples"],
        "training": short["training"],
    }
    selectors: list[Any] = [1, 2, 3, "all", "sum", "mean"]
    pairs: list[tuple[dict[str, Any], dict[str, Any], Any]] = []  # short, layered, reshape
    for s in selectors:
        for q in ("yhat", "dL_dyhat", "loss"):
            pairs.append(({"quantity": q, "example": s}, {"quantity": q, "example": s}, None))
        pairs.append(
            (
                {"quantity": "hidden", "example": s},
                {"quantity": "activation", "layer": 1, "example": s},
                None,
            )
        )
        pairs.append(
            ({"quantity": "dW", "example": s}, {"quantity": "dW", "layer": 1, "example": s}, None)
        )
        pairs.append(
            ({"quantity": "dv", "example": s}, {"quantity": "dW", "layer": 2, "example": s}, "row")
        )
        pairs.append(
            (
                {"quantity": "dW", "layer": 2, "example": s},
                {"quantity": "dW", "layer": 2, "example": s},
                None,
            )
        )
        pairs.append(
            (
                {"quantity": "delta", "layer": 1, "example": s},
                {"quantity": "delta", "layer": 1, "example": s},
                None,
            )
        )
        pairs.append(
            (
                {"quantity": "loss_after", "example": s},
                {"quantity": "loss_after", "example": s},
                None,
            )
        )
    pairs.append(({"quantity": "W_after"}, {"quantity": "W_after", "layer": 1}, None))
    pairs.append(({"quantity": "v_after"}, {"quantity": "W_after", "layer": 2}, "first"))
    pairs.append(({"quantity": "W_after", "layer": 2}, {"quantity": "W_after", "layer": 2}, None))
    answers = []
    for k, (a, b, _) in enumerate(pairs):
        answers.append({"id": f"s{k}", "problem": "short", "points": 1, **a})
        answers.append({"id": f"l{k}", "problem": "layered", "points": 1, **b})
    key = solve(
        parse_rubric(yaml.safe_dump(rubric_of({"short": short, "layered": layered}, answers)))
    ).to_json()
    reference = Reference(short)
    for k, (a, _, reshape) in enumerate(pairs):
        mine, theirs = key[f"s{k}"], key[f"l{k}"]
        if reshape == "first":
            theirs = theirs[0]
        elif reshape == "row":
            theirs = (
                theirs[0]
                if not isinstance(a["example"], str) or a["example"] != "all"
                else [m[0] for m in theirs]
            )
        assert worst_relative_error(reference.quantity(a), mine) <= TOLERANCE, (a, mine)
        assert np.allclose(mine, theirs, rtol=1e-14, atol=0), (a, mine, theirs)
