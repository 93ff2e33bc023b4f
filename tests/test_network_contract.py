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

import csv
import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from grader import (
    AnswerKey,
    RubricError,
    Submission,
    grade_submission,
    load_rubric,
    parse_rubric,
    solve,
)

from .contract_reference import MP as REFERENCE_MP
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


@functools.cache
def solved_case(case: int) -> tuple[AnswerKey, dict[str, float]]:
    """Case ``case``'s answer key and each answer's relative error against the reference."""
    problem = random_case(case)
    key = solve(parse_rubric(yaml.safe_dump(rubric_of({"net": problem}, every_answer(problem)))))
    return key, compare(problem, key.to_json())


@pytest.mark.parametrize("case", CASES)
def test_the_key_of_a_random_network_agrees_with_50_digit_arithmetic(case: int) -> None:
    """Every quantity, layer and selector to 1e-9 relative; exact zeros exactly 0.0."""
    _, errors = solved_case(case)
    bad = {answer_id: error for answer_id, error in errors.items() if not error <= TOLERANCE}
    assert not bad, bad


def test_worst_relative_error_over_the_random_networks() -> None:
    """The figure the report states: the worst relative error over all 40 cases."""
    worst = max(max(solved_case(case)[1].values()) for case in CASES)
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


# --- shapes, and a student's singleton axis --------------------------------------------

THIN = {
    "kind": "network",
    "inputs": 2,
    "layers": [
        {"units": 1, "activation": "sigmoid", "W": [[0.1, -0.4, 0.3]]},
        {"units": 2, "activation": "tanh", "W": [[0.2, 0.5], [-0.1, 0.8]]},
        {"units": 1, "activation": "linear", "W": [[0.05, 0.6, -0.7]]},
    ],
    "loss": {"kind": "squared", "half": True},
    "examples": [
        {"x": [1.0, 2.0], "y": 0.5},
        {"x": [-1.0, 0.5], "y": -0.2},
        {"x": [0.3, 0.3], "y": 0.1},
    ],
    "training": {"learning_rate": 0.5},
}

THIN_SHAPES: list[tuple[dict[str, Any], tuple[int, ...]]] = [
    ({"quantity": "yhat", "example": 1}, ()),
    ({"quantity": "yhat", "example": "all"}, (3,)),
    ({"quantity": "yhat", "example": "mean"}, ()),
    ({"quantity": "dL_dyhat", "example": 2}, ()),
    ({"quantity": "loss", "example": "sum"}, ()),
    ({"quantity": "loss", "example": "all"}, (3,)),
    ({"quantity": "preactivation", "layer": 1, "example": 1}, (1,)),
    ({"quantity": "activation", "layer": 2, "example": 3}, (2,)),
    ({"quantity": "delta", "layer": 3, "example": 1}, (1,)),
    ({"quantity": "delta", "layer": 1, "example": "all"}, (3, 1)),
    ({"quantity": "dW", "layer": 1, "example": 1}, (1, 3)),
    ({"quantity": "dW", "layer": 1, "example": "all"}, (3, 1, 3)),
    ({"quantity": "dW", "layer": 2, "example": "sum"}, (2, 2)),
    ({"quantity": "dW", "layer": 3, "example": "all"}, (3, 1, 3)),
    ({"quantity": "W_after", "layer": 1}, (1, 3)),
    ({"quantity": "W_after", "layer": 3}, (1, 3)),
    ({"quantity": "loss_after", "example": "all"}, (3,)),
    ({"quantity": "loss_after", "example": "mean"}, ()),
]


def thin_rubric(tolerance: dict[str, Any] | None = None) -> dict[str, Any]:
    answers = [
        {"id": f"a{k}", "problem": "thin", "points": 2, **answer}
        for k, (answer, _) in enumerate(THIN_SHAPES)
    ]
    rubric = rubric_of({"thin": THIN}, answers)
    if tolerance is not None:
        rubric["defaults"] = {"tolerance": tolerance}
    return rubric


def test_shapes_follow_the_layers() -> None:
    """dW and W_after have the shape of W (a 1-unit layer's is one row); per-layer vectors
    have length `units`; ŷ and ∂L/∂ŷ of one output are scalars; `all` adds a first axis."""
    key = solve(parse_rubric(yaml.safe_dump(thin_rubric()))).to_json()
    reference = Reference(THIN)
    for k, (answer, shape) in enumerate(THIN_SHAPES):
        assert np.shape(key[f"a{k}"]) == shape, answer
        assert worst_relative_error(reference.quantity(answer), key[f"a{k}"]) <= TOLERANCE


def squeezed(value: Any) -> Any:
    """The value with its singleton axes left out (a scalar stays a scalar)."""
    array = np.squeeze(np.asarray(value))
    return array.tolist()


def test_a_singleton_axis_left_out_or_added_is_read_in_the_shape_asked() -> None:
    """(m, 1) for (m,), a vector for a 1-row matrix, [v] for a scalar, (3, 3) for (3, 1, 3):
    all right."""
    rubric = thin_rubric()
    answer_key = solve(parse_rubric(yaml.safe_dump(rubric)))
    key = answer_key.to_json()
    answers: dict[str, Any] = {}
    for answer_id, value in key.items():
        shape = np.shape(value)
        if 1 in shape:
            answers[answer_id] = squeezed(value)  # every singleton axis left out
        elif shape == ():
            answers[answer_id] = [value]  # an axis added to a scalar
        else:
            answers[answer_id] = np.expand_dims(np.asarray(value), -1).tolist()  # (m,) as (m, 1)
    assert {np.shape(v) for v in answers.values()} >= {(1,), (3,), (3, 1), (3, 3), (2, 2, 1)}
    result = grade_submission(Submission("lenient", "lenient.json", answers), answer_key)
    assert [item.status for item in result.items] == ["correct"] * len(THIN_SHAPES), [
        (item.id, item.message) for item in result.items if item.status != "correct"
    ]
    assert result.score == result.max_score


# --- W_after: the step must be taken -----------------------------------------------------

STEP: dict[str, Any] = {
    "kind": "network",
    "inputs": 2,
    "layers": [
        # unit 2 is a dead ReLU: its weights do not move
        {"units": 2, "activation": "relu", "W": [[0.3, 0.4, -0.2], [-3.0, 0.1, 0.2]]},
        {"units": 1, "activation": "linear", "W": [[0.1, 0.8, 0.5]]},
    ],
    "examples": [{"x": [1.0, 2.0], "y": 1.0}, {"x": [0.5, -1.0], "y": 0.4}],
    "training": {"learning_rate": 0.002, "steps": 1, "batch": "sum"},
}


def step_key(tolerance: dict[str, Any]) -> Any:
    answers = [
        {"id": "W1", "problem": "step", "quantity": "W_after", "layer": 1, "points": 6},
        {"id": "W2", "problem": "step", "quantity": "W_after", "layer": 2, "points": 3},
    ]
    rubric = rubric_of({"step": STEP}, answers)
    rubric["defaults"] = {"tolerance": tolerance, "partial_credit": "per_entry"}
    return solve(parse_rubric(yaml.safe_dump(rubric)))


LOOSE = [
    {"mode": "relative", "rtol": 0.5},
    {"mode": "relative", "rtol": 0.01, "atol": 0.5},
    {"mode": "sigfigs", "digits": 1},
    {"mode": "decimals", "places": 0},
]


@pytest.mark.parametrize("tolerance", LOOSE, ids=lambda t: t["mode"] + str(len(t)))
def test_the_starting_weights_earn_nothing_however_loose_the_tolerance(
    tolerance: dict[str, Any],
) -> None:
    """The step is tiny (η = 0.002) and the tolerance loose: the unchanged weights are
    within it but nearer the start than the update, so they earn nothing, except the dead
    unit's weights (its row below, its weight above), whose exact change is zero."""
    key = step_key(tolerance)
    start = {"W1": STEP["layers"][0]["W"], "W2": STEP["layers"][1]["W"]}
    result = grade_submission(Submission("lazy", "lazy.json", start), key)
    w1, w2 = result.item("W1"), result.item("W2")
    # the dead unit's row of W1 and its weight in W2 do not move: those entries are right
    assert w1.score == pytest.approx(3.0) and set(w1.wrong_entries) == {(0, 0), (0, 1), (0, 2)}
    assert w2.score == pytest.approx(1.0) and set(w2.wrong_entries) == {(0, 0), (0, 1)}


@pytest.mark.parametrize("tolerance", [{"mode": "relative", "rtol": 0.02}, *LOOSE])
def test_sensibly_rounded_updated_weights_are_right(tolerance: dict[str, Any]) -> None:
    """The update rounded to 5 decimals (the step is ~1e-3): full marks."""
    key = step_key(tolerance)
    exact = key.to_json()
    rounded = {k: np.round(np.asarray(v), 5).tolist() for k, v in exact.items()}
    result = grade_submission(Submission("careful", "careful.json", rounded), key)
    assert result.score == result.max_score, [item.message for item in result.items]
    reference = Reference(STEP)
    for layer, answer_id in ((1, "W1"), (2, "W2")):
        expected = reference.quantity({"quantity": "W_after", "layer": layer})
        assert worst_relative_error(expected, exact[answer_id]) <= TOLERANCE
        moved = np.asarray(exact[answer_id]) - np.asarray(STEP["layers"][layer - 1]["W"])
        assert np.all(
            np.abs(moved[moved != 0]) > 2e-5
        )  # the rounding (5e-6) is finer than the step


def test_the_shorthand_v_after_must_be_stepped_too() -> None:
    """v_after in the shorthand: the starting v earns nothing under a loose tolerance."""
    short = {**SHORTHAND, "training": {"learning_rate": 0.001}}
    answers = [{"id": "v", "problem": "s", "quantity": "v_after", "points": 4}]
    rubric = rubric_of({"s": short}, answers)
    rubric["defaults"] = {"tolerance": {"mode": "relative", "rtol": 0.9}}
    key = solve(parse_rubric(yaml.safe_dump(rubric)))
    lazy = grade_submission(Submission("lazy", "lazy.json", {"v": short["v"]}), key)
    assert lazy.score == 0
    exact = key.to_json()["v"]
    assert worst_relative_error(Reference(short).quantity(answers[0]), exact) <= TOLERANCE
    done = grade_submission(Submission("done", "d.json", {"v": np.round(exact, 6).tolist()}), key)
    assert done.score == 4


# --- rubrics that must be refused ----------------------------------------------------------


def cross_entropy_net(output: str, units: int) -> dict[str, Any]:
    return {
        "kind": "network",
        "inputs": 1,
        "layers": [
            {"units": 2, "activation": "tanh", "W": [[0.1, 0.2], [0.3, -0.1]]},
            {"units": units, "activation": output, "W": [[0.1, 0.2, 0.3]] * units},
        ],
        "loss": {"kind": "cross_entropy"},
        "examples": [{"x": [1.0], "y": [1.0] + [0.0] * (units - 1) if units > 1 else 1.0}],
    }


REFUSED: dict[str, dict[str, Any]] = {
    "cross_entropy_two_sigmoids": cross_entropy_net("sigmoid", 2),
    "cross_entropy_three_linear": cross_entropy_net("linear", 3),
    "cross_entropy_two_tanh": cross_entropy_net("tanh", 2),
    "cross_entropy_one_tanh": cross_entropy_net("tanh", 1),
    "cross_entropy_one_linear": cross_entropy_net("linear", 1),
    "cross_entropy_one_relu": cross_entropy_net("relu", 1),
    "softmax_below_the_output": {
        "kind": "network",
        "inputs": 1,
        "layers": [
            {"units": 2, "activation": "softmax", "W": [[0.1, 0.2], [0.3, -0.1]]},
            {"units": 1, "activation": "linear", "W": [[0.1, 0.2, 0.3]]},
        ],
        "examples": [{"x": [1.0], "y": 1.0}],
    },
}


def test_the_refused_networks_are_otherwise_valid() -> None:
    """The same networks with a softmax (or one sigmoid) output are accepted."""
    for units, output in ((3, "softmax"), (1, "sigmoid"), (2, "softmax")):
        problem = cross_entropy_net(output, units)
        rubric = rubric_of({"net": problem}, every_answer(problem))
        key = solve(parse_rubric(yaml.safe_dump(rubric))).to_json()
        assert max(compare(problem, key).values()) <= TOLERANCE


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_network_the_format_does_not_allow_is_refused(name: str, tmp_path: Path) -> None:
    """Cross-entropy on an output that is neither softmax nor one sigmoid; softmax on a
    hidden layer: the rubric is refused, naming its file."""
    answers = [{"id": "yhat", "problem": "net", "quantity": "yhat", "example": 1, "points": 1}]
    path = write_rubric(tmp_path, rubric_of({"net": REFUSED[name]}, answers))
    with pytest.raises(RubricError, match=r"rubric\.yaml"):
        solve(load_rubric(path))


@pytest.mark.parametrize("name", ["cross_entropy_two_sigmoids", "cross_entropy_one_tanh"])
def test_grader_key_and_grade_exit_2_on_such_a_network(name: str, tmp_path: Path) -> None:
    """`grader key` and `grade` exit 2 with one line, writing nothing."""
    answers = [{"id": "yhat", "problem": "net", "quantity": "yhat", "example": 1, "points": 1}]
    path = write_rubric(tmp_path, rubric_of({"net": REFUSED[name]}, answers))
    run = grader_cli("key", "--rubric", path, "--format", "json")
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == "" and "rubric.yaml" in run.stderr and "Traceback" not in run.stderr
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "a.json").write_text('{"answers": {"yhat": 1}}', encoding="utf-8")
    graded = grader_cli("grade", tmp_path / "subs", "--rubric", path, "--out", tmp_path / "out")
    assert graded.returncode == 2 and not (tmp_path / "out").exists()


def named_variable_rubric(name: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "title": "names",
        "problems": {
            "calc": {
                "kind": "functions",
                "functions": {"f": {"variables": ["x", name], "expr": f"x^2 + 3*{name}"}},
            }
        },
        "answers": [
            {
                "id": "g",
                "problem": "calc",
                "quantity": "jacobian",
                "function": "f",
                "at": [1, 2],
                "points": 1,
            }
        ],
    }


@pytest.mark.parametrize("name", ["e", "pi", "sin", "cos", "tanh", "abs", "asin", "arctan", "exp"])
def test_a_variable_named_like_a_function_or_constant_is_refused(name: str) -> None:
    """`e`, `pi`, `sin`, ...: the rubric is refused."""
    with pytest.raises(RubricError):
        solve(parse_rubric(yaml.safe_dump(named_variable_rubric(name))))


def test_grader_key_exits_2_on_a_variable_named_e(tmp_path: Path) -> None:
    run = grader_cli("key", "--rubric", write_rubric(tmp_path, named_variable_rubric("e")))
    assert run.returncode == 2 and "rubric.yaml" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("expr", "at"),
    [
        ("log(x)", [-1.0]),
        ("sqrt(x)", [-4.0]),
        ("asin(x)", [2.0]),
        ("acos(x)", [-1.5]),
        ("1/x", [0.0]),
    ],
)
def test_a_point_outside_the_domain_is_refused(expr: str, at: list[float]) -> None:
    """log, sqrt, asin, acos and 1/x where they are undefined: the rubric is refused."""
    rubric = {
        "schema_version": 1,
        "title": "domain",
        "problems": {
            "calc": {"kind": "functions", "functions": {"f": {"variables": ["x"], "expr": expr}}}
        },
        "answers": [
            {
                "id": "v",
                "problem": "calc",
                "quantity": "value",
                "function": "f",
                "at": at,
                "points": 1,
            }
        ],
    }
    with pytest.raises(RubricError):
        solve(parse_rubric(yaml.safe_dump(rubric)))


# --- atol in every tolerance mode ----------------------------------------------------------

ATOL_CASES: list[tuple[dict[str, Any], float, list[float], list[float]]] = [
    # tolerance, expected, accepted answers, refused answers
    # relative: atol + rtol·|e| = 0.1 + 0.0123456 (the sum, not the larger)
    ({"mode": "relative", "rtol": 0.01, "atol": 0.1}, 1.23456, [1.34, 1.125, 1.3], [1.35, 1.12]),
    # sigfigs and decimals: the larger of the mode's half-width and atol (not their sum)
    ({"mode": "sigfigs", "digits": 3, "atol": 0.1}, 1.23456, [1.33, 1.14, 1.2], [1.34, 1.13]),
    ({"mode": "decimals", "places": 2, "atol": 0.1}, 1.23456, [1.33, 1.14], [1.34, 1.13]),
    (
        {"mode": "sigfigs", "digits": 3, "atol": 0.001},
        1.23456,
        [1.235, 1.2345, 1.239],
        [1.2405, 1.229],
    ),
    ({"mode": "decimals", "places": 1, "atol": 0.001}, 1.23456, [1.2, 1.27], [1.3, 1.18]),
    # an exact zero: sigfigs accepts only 0 without atol, anything within atol with it
    ({"mode": "sigfigs", "digits": 3, "atol": 0.001}, 0.0, [0.0, 0.0009, -0.001], [0.0011]),
    ({"mode": "sigfigs", "digits": 3}, 0.0, [0.0], [1e-9]),
    ({"mode": "decimals", "places": 3, "atol": 0.01}, 0.0, [0.009], [0.011]),
    ({"mode": "relative", "rtol": 0.5, "atol": 0.01}, 0.0, [0.01, -0.0099], [0.0101]),
]


@pytest.mark.parametrize(("tolerance", "expected", "accepted", "refused"), ATOL_CASES)
def test_atol_in_every_tolerance_mode(
    tolerance: dict[str, Any], expected: float, accepted: list[float], refused: list[float]
) -> None:
    """An entry within atol of the exact value is accepted whatever the mode."""
    answers = [
        {
            "id": "v",
            "problem": "calc",
            "quantity": "value",
            "function": "f",
            "at": [expected],
            "points": 1,
            "grading": {"tolerance": tolerance},
        }
    ]
    rubric = {
        "schema_version": 1,
        "title": "atol",
        "problems": {
            "calc": {"kind": "functions", "functions": {"f": {"variables": ["x"], "expr": "x"}}}
        },
        "answers": answers,
    }
    key = solve(parse_rubric(yaml.safe_dump(rubric)))
    assert key.to_json()["v"] == expected
    for answer in accepted:
        assert grade_submission(Submission("s", "s.json", {"v": answer}), key).score == 1, answer
    for answer in refused:
        assert grade_submission(Submission("s", "s.json", {"v": answer}), key).score == 0, answer


# --- the new functions: value, jacobian and hessian against mpmath --------------------------

FUNCTIONS_1 = (
    "sin",
    "cos",
    "tan",
    "tanh",
    "sinh",
    "cosh",
    "asin",
    "acos",
    "atan",
    "arcsin",
    "arccos",
    "arctan",
    "abs",
    "exp",
    "log",
    "sqrt",
    "sigmoid",
)


def mp_function(name: str) -> Any:
    mp = REFERENCE_MP
    table = {
        "sin": mp.sin,
        "cos": mp.cos,
        "tan": mp.tan,
        "tanh": mp.tanh,
        "sinh": mp.sinh,
        "cosh": mp.cosh,
        "asin": mp.asin,
        "acos": mp.acos,
        "atan": mp.atan,
        "arcsin": mp.asin,
        "arccos": mp.acos,
        "arctan": mp.atan,
        "abs": mp.fabs,
        "exp": mp.exp,
        "log": mp.log,
        "sqrt": mp.sqrt,
        "sigmoid": lambda u: 1 / (1 + mp.exp(-u)),
    }
    return table[name]


class OutsideDomainError(Exception):
    """The random expression is undefined, or nearly singular, at the point."""


def checked(name: str, u: Any) -> Any:
    """f(u), refusing points near where f or its first two derivatives are undefined."""
    mp = REFERENCE_MP
    if name in ("asin", "acos", "arcsin", "arccos") and abs(u) > 0.9:
        raise OutsideDomainError
    if name in ("log", "sqrt") and u < 0.1:
        raise OutsideDomainError
    if name == "tan" and abs(mp.cos(u)) < 0.2:
        raise OutsideDomainError
    if name == "abs" and abs(u) < 0.05:
        raise OutsideDomainError
    if name in ("exp", "sinh", "cosh") and abs(u) > 5:
        raise OutsideDomainError
    return mp_function(name)(u)


def random_expression(rng: np.random.Generator, names: list[str], depth: int) -> tuple[str, Any]:
    """(text in the grammar, the same function of a dict of mpf values)."""
    roll = rng.random()
    if depth == 0 or roll < 0.15:
        if rng.random() < 0.75:
            var = names[int(rng.integers(len(names)))]
            return var, lambda env: env[var]
        c = float(rng.choice([0.5, 1.5, 2.0, 3.0, 0.25]))
        return repr(c), lambda env: REFERENCE_MP.mpf(c)
    if roll < 0.6:
        name = FUNCTIONS_1[int(rng.integers(len(FUNCTIONS_1)))]
        text, inner = random_expression(rng, names, depth - 1)
        return f"{name}({text})", lambda env: checked(name, inner(env))
    op = str(rng.choice(["+", "-", "*", "/", "^"]))
    left_text, left = random_expression(rng, names, depth - 1)
    if op == "^":
        power = int(rng.integers(2, 4))
        return f"({left_text})^{power}", lambda env: left(env) ** power
    right_text, right = random_expression(rng, names, depth - 1)

    def combined(env: dict[str, Any]) -> Any:
        a, b = left(env), right(env)
        if op == "/":
            if abs(b) < 0.1:
                raise OutsideDomainError
            return a / b
        return a + b if op == "+" else a - b if op == "-" else a * b

    return f"({left_text}) {op} ({right_text})", combined


def random_function(seed: int) -> tuple[str, list[str], Any, list[float]]:
    """A random scalar function of 2 or 3 variables, defined (with margin) at its point."""
    rng = np.random.default_rng(seed)
    while True:
        names = ["x", "y", "z"][: int(rng.integers(2, 4))]
        text, function = random_expression(rng, names, 4)
        if not all(name in text for name in names):
            continue
        point = rng.uniform(-1.5, 1.5, size=len(names)).round(3).tolist()

        def at(*args: Any, _f: Any = function, _names: list[str] = names) -> Any:
            return _f(dict(zip(_names, args, strict=True)))

        try:
            value = at(*map(REFERENCE_MP.mpf, point))
            if not REFERENCE_MP.isfinite(value) or abs(value) > 1e6:
                continue
            return text, names, at, point
        except OutsideDomainError:
            continue


def mp_derivatives(at: Any, point: list[float]) -> tuple[Any, list[Any], list[list[Any]]]:
    mp = REFERENCE_MP
    x = [mp.mpf(p) for p in point]
    n = len(x)
    orders = [tuple(1 if k == i else 0 for k in range(n)) for i in range(n)]
    gradient = [mp.diff(at, x, order) for order in orders]
    hessian = [
        [
            mp.diff(at, x, tuple(a + b for a, b in zip(orders[i], orders[j], strict=True)))
            for j in range(n)
        ]
        for i in range(n)
    ]
    return at(*x), gradient, hessian


FUNCTION_SEEDS = range(60)


def test_hessian_value_and_jacobian_of_random_expressions_with_the_new_functions() -> None:
    """60 random expressions of sin … atan, arcsin … arctan, abs with exp, log, sqrt and
    sigmoid: value, Jacobian and Hessian at a point against mpmath's diff (50 digits), to
    1e-9 relative; every function of the grammar appears."""
    functions: dict[str, Any] = {}
    answers: list[dict[str, Any]] = []
    references: dict[str, Any] = {}
    for seed in FUNCTION_SEEDS:
        text, names, at, point = random_function(seed)
        name = f"f{seed}"
        functions[name] = {"variables": names, "expr": text}
        value, gradient, hessian = mp_derivatives(at, point)
        for quantity, expected in (("value", value), ("jacobian", gradient), ("hessian", hessian)):
            answer_id = f"{name}.{quantity}"
            answers.append(
                {
                    "id": answer_id,
                    "problem": "calc",
                    "quantity": quantity,
                    "function": name,
                    "at": point,
                    "points": 1,
                }
            )
            references[answer_id] = expected
    used = " ".join(f["expr"] for f in functions.values())
    assert all(f"{name}(" in used for name in FUNCTIONS_1)
    rubric = {
        "schema_version": 1,
        "title": "functions",
        "problems": {"calc": {"kind": "functions", "functions": functions}},
        "answers": answers,
    }
    key = solve(parse_rubric(yaml.safe_dump(rubric))).to_json()
    errors = {i: worst_relative_error(e, key[i]) for i, e in references.items()}
    worst = max(errors.values())
    print(f"worst relative error over {len(FUNCTION_SEEDS)} random functions: {worst:.3g}")
    assert worst <= TOLERANCE, {
        i: (e, functions[i.split(".")[0]]) for i, e in errors.items() if e > TOLERANCE
    }
    for seed in FUNCTION_SEEDS:
        matrix = np.asarray(key[f"f{seed}.hessian"])
        assert matrix.shape == (len(functions[f"f{seed}"]["variables"]),) * 2
        assert np.array_equal(matrix, matrix.T)


# --- the key graded: perfect submissions, in JSON and in CSV --------------------------------


def test_every_random_key_graded_as_a_submission_earns_full_marks() -> None:
    """The key's own values, as a student's JSON answers, earn every point."""
    for case in CASES:
        problem = random_case(case)
        key = solve(
            parse_rubric(yaml.safe_dump(rubric_of({"net": problem}, every_answer(problem))))
        )
        result = grade_submission(Submission("perfect", "perfect.json", key.to_json()), key)
        assert result.score == result.max_score, (
            case,
            [i.id for i in result.items if i.score < i.max_score],
        )


def matlab(value: Any) -> str:
    """A cell MATLAB-style: `1 2 3`, `1 2; 3 4`, and a stack of matrices joined by `|`."""
    if not isinstance(value, list):
        return repr(value)
    if not isinstance(value[0], list):
        return " ".join(map(repr, value))
    if not isinstance(value[0][0], list):
        return "; ".join(" ".join(map(repr, row)) for row in value)
    return " | ".join(matlab(matrix) for matrix in value)


def test_grade_on_json_and_csv_submissions_of_3d_answers_gives_full_marks(tmp_path: Path) -> None:
    """`grade` on a folder: a JSON file (nested lists), question,answer CSVs and a
    whole-class CSV whose cells hold dW over `all` as JSON-style nested lists or as
    MATLAB-style matrices separated by `|` (docs/rubric.md); all 100 %."""
    problem = random_case(7)
    answers = every_answer(problem)
    path = write_rubric(tmp_path, rubric_of({"net": problem}, answers))
    key = solve(load_rubric(path)).to_json()
    assert any(np.ndim(v) == 3 for v in key.values())
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.json").write_text(
        json.dumps({"student_id": "alice", "answers": key}), encoding="utf-8"
    )
    with (subs / "bob.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "answer"])
        writer.writerows([answer_id, json.dumps(value)] for answer_id, value in key.items())
    with (subs / "class.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", *key])
        for student in ("carol", "dan"):
            writer.writerow([student, *(json.dumps(value) for value in key.values())])
    with (subs / "erin.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "answer"])
        writer.writerows([answer_id, matlab(value)] for answer_id, value in key.items())
    run = grader_cli("grade", subs, "--rubric", path, "--out", tmp_path / "out")
    assert run.returncode == 0, run.stdout + run.stderr
    with (tmp_path / "out" / "gradebook.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["student_id"] for row in rows) == ["alice", "bob", "carol", "dan", "erin"]
    assert all(float(row["percent"]) == 100.0 for row in rows), [
        (r["student_id"], r["percent"]) for r in rows
    ]
    assert all(row["status"] == "graded" for row in rows)


def test_grader_key_prints_every_quantity_readably(tmp_path: Path) -> None:
    """The readable table of a key holding 3-D dW over `all`: exit 0, every id printed."""
    problem = random_case(7)
    answers = every_answer(problem)
    run = grader_cli(
        "key", "--rubric", write_rubric(tmp_path, rubric_of({"net": problem}, answers))
    )
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert all(answer["id"] in run.stdout for answer in answers)
