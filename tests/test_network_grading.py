"""Grading networks given layer by layer and the training step: the weights after a step
are right only nearer to the exact value than to the starting weights; every new named
mistake (a wrong derivative per activation, the step uphill, no step, another learning
rate, the mean for the sum, a layer's weights transposed) is recognised in an answer
that shows it and not in a near miss; errors carry forward from a student's own
gradient into their step and from their step into the loss after it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader import AnswerKey, ItemResult, Submission, grade_submission, load_rubric, solve
from grader.rubric.load import validate_rubric
from grader.solver.key import build_graph
from grader.solver.network import NetworkVariant

from .conftest import RUBRICS


@pytest.fixture(scope="module")
def deep_key() -> AnswerKey:
    return solve(load_rubric(RUBRICS / "deep-softmax.yaml"))


@pytest.fixture(scope="module")
def training_key() -> AnswerKey:
    return solve(load_rubric(RUBRICS / "hw-training.yaml"))


def grade_one(key: AnswerKey, answers: dict[str, Any], answer_id: str) -> ItemResult:
    plain = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in answers.items()}
    return grade_submission(Submission("s", "test", plain), key).item(answer_id)


def expected(key: AnswerKey, answer_id: str) -> np.ndarray:
    return np.array(key[answer_id].expected, dtype=np.float64)


def with_mistake(key: AnswerKey, answer_id: str, **mistake: Any) -> np.ndarray:
    """The answer as the solver computes it with a mistake of method made."""
    entry = key[answer_id]
    graph, _ = build_graph(key.rubric, {entry.answer.problem: NetworkVariant(**mistake)})
    return np.array(graph.evaluate(entry.node), dtype=np.float64)


def rounded(values: np.ndarray, digits: int = 4) -> np.ndarray:
    return np.asarray(
        np.vectorize(lambda x: float(f"{x:.{digits - 1}e}"))(values), dtype=np.float64
    )


def small_step_key(learning_rate: float) -> AnswerKey:
    """hw-training's network with another learning rate (a tiny one: a step far inside
    the tolerance) and a dead hidden unit (its weights do not move)."""
    data = load_rubric(RUBRICS / "hw-training.yaml").model_dump(mode="json", exclude_unset=True)
    net = data["problems"]["net"]
    net["training"] = {"learning_rate": learning_rate}
    return solve(validate_rubric(data))


# --- the weights after the step ----------------------------------------------------------


def test_the_updated_weights_rounded_sensibly_are_right(training_key: AnswerKey) -> None:
    """W after the step, to 4 significant figures: correct."""
    item = grade_one(
        training_key, {"t2.W_after": rounded(expected(training_key, "t2.W_after"))}, "t2.W_after"
    )
    assert item.status == "correct"


def test_no_step_earns_nothing_however_small_the_step() -> None:
    """With a step of 0.1 % of each weight (well inside the 2 % tolerance), the starting
    weights given as the answer are wrong in every entry, and named no_step; the exact
    value rounded to 5 figures is right."""
    key = small_step_key(3e-5)
    W0 = np.array(key.rubric.problems["net"].W)  # type: ignore[union-attr]
    exact = expected(key, "t2.W_after")
    assert np.all(np.abs(exact - W0) < 0.02 * np.abs(exact))  # the step is inside the tolerance
    item = grade_one(key, {"t2.W_after": W0}, "t2.W_after")
    assert item.score == 0 and item.status == "incorrect"
    assert item.diagnoses == ("no_step",)
    assert "weights before the step" in item.message
    assert grade_one(key, {"t2.W_after": rounded(exact, 5)}, "t2.W_after").status == "correct"


def test_an_answer_within_tolerance_but_nearer_the_start_is_wrong() -> None:
    """The rule is 'within tolerance AND nearer to the exact value than to W₀': an answer
    that took a quarter of the step is refused, three quarters of it accepted."""
    key = small_step_key(3e-5)
    W0 = np.array(key.rubric.problems["net"].W)  # type: ignore[union-attr]
    exact = expected(key, "t2.W_after")
    quarter = W0 + 0.25 * (exact - W0)
    three_quarters = W0 + 0.75 * (exact - W0)
    assert grade_one(key, {"t2.W_after": quarter}, "t2.W_after").score == 0
    assert grade_one(key, {"t2.W_after": three_quarters}, "t2.W_after").status == "correct"


def test_where_the_exact_change_is_zero_the_tolerance_alone_decides() -> None:
    """A ReLU unit dead on every example keeps its weights: giving them unchanged is right."""
    problem = {
        "kind": "network",
        "inputs": 1,
        "layers": [
            {"units": 2, "activation": "relu", "W": [[0.5, 0.4], [-3.0, 0.1]]},
            {"units": 1, "activation": "linear", "W": [[0.1, 0.6, 0.8]]},
        ],
        "examples": [{"x": [1.0], "y": 2.0}, {"x": [2.0], "y": 1.0}],
        "training": {"learning_rate": 0.1},
    }
    answers = [{"id": "W1", "problem": "n", "quantity": "W_after", "layer": 1, "points": 4}]
    key = solve(
        validate_rubric(
            {"schema_version": 1, "title": "t", "problems": {"n": problem}, "answers": answers}
        )
    )
    exact = expected(key, "W1")
    np.testing.assert_array_equal(exact[1], [-3.0, 0.1])  # the dead unit did not move
    answer = exact.copy()
    answer[0] = problem["layers"][0]["W"][0]  # type: ignore[index]
    item = grade_one(key, {"W1": answer}, "W1")
    assert item.wrong_entries == ((0, 0), (0, 1))  # the live row not stepped; the dead row right


# --- named mistakes: each triggers, and its near miss does not -------------------------


DERIVATIVE_MISTAKES = [
    ("d2.delta1", {"hidden_prime": "wrong", "hidden_activation": "tanh"}, "uses 1 − tanh where"),
    (
        "d2.delta2",
        {"hidden_prime": "wrong", "hidden_activation": "relu"},
        "the step on the wrong side",
    ),
    ("d2.delta3", {"output_prime": "wrong"}, "only the diagonal ŷ_k(1 − ŷ_k) of the Jacobian"),
    ("d2.dW1", {"hidden_prime": "wrong", "hidden_activation": "tanh"}, "tanh′ = 1 − tanh²"),
]


@pytest.mark.parametrize(("answer_id", "mistake", "words"), DERIVATIVE_MISTAKES)
def test_a_wrong_derivative_of_each_activation_is_named(
    deep_key: AnswerKey, answer_id: str, mistake: dict[str, str], words: str
) -> None:
    """1 − tanh for 1 − tanh², ReLU's step on the wrong side of 0, the softmax-cross-entropy
    δ with only the Jacobian's diagonal: wrong_derivative, in the activation's words."""
    value = rounded(with_mistake(deep_key, answer_id, **mistake))
    assert not np.allclose(value, expected(deep_key, answer_id), rtol=0.05)
    item = grade_one(deep_key, {answer_id: value}, answer_id)
    assert item.diagnoses == ("wrong_derivative",), item.message
    assert words in item.message


@pytest.mark.parametrize(("answer_id", "mistake", "words"), DERIVATIVE_MISTAKES)
def test_a_near_miss_of_a_wrong_derivative_is_not_named(
    deep_key: AnswerKey, answer_id: str, mistake: dict[str, str], words: str
) -> None:
    """The same answers 15 % off are not excused as a wrong derivative."""
    del words
    value = 1.15 * with_mistake(deep_key, answer_id, **mistake)
    item = grade_one(deep_key, {answer_id: value}, answer_id)
    assert "wrong_derivative" not in item.diagnoses


STEP_MISTAKES = [
    ("t2.W_after", {"step": "uphill"}, "step_uphill", "steps uphill"),
    ("t2.v_after", {"step": "uphill"}, "step_uphill", "steps uphill"),
    ("t2.W_after", {"step": "none"}, "no_step", "weights before the step"),
    ("t2.W_after", {"step": "other_batch"}, "mean_for_sum", "steps along the mean"),
    ("t2.v_after", {"step": "other_batch"}, "mean_for_sum", "this training step uses their sum"),
]


def test_the_sum_where_the_training_step_uses_the_mean_is_sum_for_mean(deep_key: AnswerKey) -> None:
    """deep-softmax.yaml steps along the mean: a step along the sum is sum_for_mean."""
    value = rounded(with_mistake(deep_key, "d3.W3_after", step="other_batch"))
    item = grade_one(deep_key, {"d3.W3_after": value}, "d3.W3_after")
    assert item.diagnoses == ("sum_for_mean",), item.message
    assert "steps along the sum" in item.message and "uses their mean" in item.message
    item = grade_one(deep_key, {"d3.W3_after": 1.1 * value}, "d3.W3_after")
    assert "sum_for_mean" not in item.diagnoses  # the near miss


@pytest.mark.parametrize(("answer_id", "mistake", "code", "words"), STEP_MISTAKES)
def test_a_wrong_training_step_is_named(
    training_key: AnswerKey, answer_id: str, mistake: dict[str, str], code: str, words: str
) -> None:
    """W + η∇, no step, the mean where the sum is asked: each its own code and words."""
    value = rounded(with_mistake(training_key, answer_id, **mistake))
    item = grade_one(training_key, {answer_id: value}, answer_id)
    assert item.diagnoses == (code,), item.message
    assert words in item.message and item.score == 0


@pytest.mark.parametrize(("answer_id", "mistake", "code", "words"), STEP_MISTAKES)
def test_a_near_miss_of_a_wrong_step_is_not_named(
    training_key: AnswerKey, answer_id: str, mistake: dict[str, str], code: str, words: str
) -> None:
    """The mistaken step with every entry 10 % off is not that mistake."""
    del words
    value = 1.1 * with_mistake(training_key, answer_id, **mistake)
    item = grade_one(training_key, {answer_id: value}, answer_id)
    assert code not in item.diagnoses


def test_another_learning_rate_is_named(training_key: AnswerKey) -> None:
    """W − 2η∇ (or 0.3η): the right direction, another step size: learning_rate; the
    same answer with one entry changed is not."""
    W0 = np.array(training_key.rubric.problems["net"].W)  # type: ignore[union-attr]
    step = W0 - expected(training_key, "t2.W_after")
    for factor in (2.0, 0.3):
        value = rounded(W0 - factor * step)
        item = grade_one(training_key, {"t2.W_after": value}, "t2.W_after")
        assert item.diagnoses == ("learning_rate",), item.message
        assert "η = 0.01" in item.message
        value[1, 1] *= 1.5
        item = grade_one(training_key, {"t2.W_after": value}, "t2.W_after")
        assert "learning_rate" not in item.diagnoses


def test_a_layers_weights_used_transposed_are_named(deep_key: AnswerKey) -> None:
    """The output layer's square W₃ used as W₃ᵀ, forward and back: weights_transposed;
    15 % off, not."""
    value = rounded(with_mistake(deep_key, "d1.yhat", transposed_layer=3))
    item = grade_one(deep_key, {"d1.yhat": value}, "d1.yhat")
    assert item.diagnoses == ("weights_transposed",), item.message
    assert "layer 3's weights" in item.message
    item = grade_one(deep_key, {"d1.yhat": 1.15 * value}, "d1.yhat")
    assert "weights_transposed" not in item.diagnoses


# --- carried forward through the step -------------------------------------------------


def test_a_step_from_the_students_own_gradient_is_carried_forward(training_key: AnswerKey) -> None:
    """A wrong batch gradient, then W − η·(that gradient): ecf from t1.dW; the loss after
    the student's own (wrong) step: ecf from t2.v_after."""
    gradient = 1.3 * expected(training_key, "t1.dW")
    W0 = np.array(training_key.rubric.problems["net"].W)  # type: ignore[union-attr]
    W_after = rounded(W0 - 0.01 * gradient)
    item = grade_one(training_key, {"t1.dW": gradient, "t2.W_after": W_after}, "t2.W_after")
    assert item.diagnoses == ("ecf",) and item.carried_forward_from == ("t1.dW",)
    assert item.score == item.max_score
    # and the loss after the student's own (wrong) output weights: ecf from t2.v_after
    v0 = np.array(training_key.rubric.problems["net"].v)  # type: ignore[union-attr]
    v_after = rounded(v0 - 0.01 * 1.5 * expected(training_key, "t1.dv"))
    loss_after = training_key.graph.evaluate("net.loss_after[sum]", {"net.v_after": v_after})
    answers = {"t2.v_after": v_after, "t2.loss_after": rounded(np.asarray(loss_after))}
    item = grade_one(training_key, answers, "t2.loss_after")
    assert item.diagnoses == ("ecf",) and item.carried_forward_from == ("t2.v_after",)


def test_a_deep_networks_gradients_carry_forward_from_its_deltas(deep_key: AnswerKey) -> None:
    """∂L/∂W₃ = δ₃ ⊗ [1; h₂] from the student's own wrong δ₃: ecf."""
    delta = expected(deep_key, "d2.delta3") * np.array([1.0, 1.4, 1.0])
    h2 = expected(deep_key, "d1.h2")
    dW3 = rounded(np.outer(delta, np.concatenate(([1.0], h2))))
    item = grade_one(deep_key, {"d2.delta3": delta, "d2.dW3": dW3}, "d2.dW3")
    assert item.diagnoses == ("ecf",) and item.carried_forward_from == ("d2.delta3",)


def test_the_first_layer_s_weights_transposed_are_explained_with_its_input_x() -> None:
    """W₁ used transposed in a network given by layers: the sentence writes layer 1's
    sum over its inputs x_k (the output layer's, over h_k, is the test above)."""
    rubric = validate_rubric(
        {
            "schema_version": 1,
            "title": "square first layer",
            "problems": {
                "net": {
                    "kind": "network",
                    "inputs": 2,
                    "layers": [
                        {
                            "units": 3,
                            "activation": "tanh",
                            "W": [[0.1, 0.4, -0.3], [-0.2, 0.1, 0.5], [0.3, -0.6, 0.2]],
                        },
                        {"units": 1, "activation": "linear", "W": [[0.2, 0.7, -0.4, 0.9]]},
                    ],
                    "examples": [{"x": [1, 2], "y": 1}],
                }
            },
            "answers": [
                {"id": "a.yhat", "problem": "net", "quantity": "yhat", "example": 1, "points": 1}
            ],
        },
        source="square.yaml",
    )
    key = solve(rubric)
    value = rounded(with_mistake(key, "a.yhat", transposed_layer=1))
    item = grade_one(key, {"a.yhat": value}, "a.yhat")
    assert item.diagnoses == ("weights_transposed",), item.message
    assert "layer 1's weights" in item.message and "Σ_k w_jk·x_k." in item.message
