"""No credit by coincidence, and the mistakes of round two named (README "Credit for
errors carried forward, and mistakes named"): for every code a submission that shows it
and a near miss that must not; the carried-forward rule; entries named in the homework's
notation. Answers are the solver's values, changed the way students change them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from grader import AnswerKey, ItemResult, StudentResult, Submission, grade_submission, solve
from grader.cli import app
from grader.errors import RubricError
from grader.rubric.load import load_rubric
from grader.rubric.models import NetworkProblem
from grader.solver.key import build_graph, to_plain
from grader.solver.network import NetworkVariant

from .conftest import RUBRICS


def grade(key: AnswerKey, answers: dict[str, Any]) -> StudentResult:
    plain = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in answers.items()}
    return grade_submission(Submission("s", "test", plain), key)


def answer(key: AnswerKey, answer_id: str, value: Any) -> ItemResult:
    """The grading of one answer given alone."""
    return grade(key, {answer_id: value}).item(answer_id)


def expected(key: AnswerKey, answer_id: str) -> np.ndarray:
    return np.array(key[answer_id].expected, dtype=np.float64)


def with_mistake(key: AnswerKey, answer_id: str, **mistake: Any) -> np.ndarray:
    """The answer as the solver computes it with a mistake of method made."""
    entry = key[answer_id]
    graph, _ = build_graph(key.rubric, {entry.answer.problem: NetworkVariant(**mistake)})
    return np.array(graph.evaluate(entry.node), dtype=np.float64)


def right_entries(key: AnswerKey, answer_id: str, value: np.ndarray) -> int:
    """How many entries of ``value`` are within the answer's tolerance of the key."""
    entry = key[answer_id]
    tolerance = entry.grading.tolerance
    gap = np.abs(value - expected(key, answer_id))
    assert tolerance.mode == "relative"
    return int(np.count_nonzero(gap <= tolerance.rtol * np.abs(expected(key, answer_id))))


def with_answer_fields(key: AnswerKey, answer_id: str, **fields: Any) -> AnswerKey:
    """The key of the same rubric with fields of one answer changed."""
    rubric = key.rubric
    answers = [
        each.model_copy(update=fields) if each.id == answer_id else each for each in rubric.answers
    ]
    return solve(rubric.model_copy(update={"answers": answers}))


def DF(x: float, y: float) -> np.ndarray:
    """The Jacobian of hw.yaml's F(x, y) = (x² + 2y, 3x + 4y²), worked by hand."""
    return np.array([[2 * x, 2.0], [3.0, 8 * y]])


def DG(t: float) -> np.ndarray:
    """The Jacobian of G(t) = (t, t²), a column."""
    return np.array([[1.0], [2 * t]])


# --- no credit by coincidence -------------------------------------------------------


def test_a_transposed_gradient_earns_only_its_diagonal(hw_key: AnswerKey) -> None:
    """A transposed ∂L/∂W of example 1: off-diagonal pairs that land within 2 % of each
    other (v₃ = 2·v₁, σ′ ≈ ¼) earned credit by coincidence; only the diagonal, which a
    transposition cannot change, earns it now: 3/9 of the points."""
    given = expected(hw_key, "q1c.dW.x1").T
    assert right_entries(hw_key, "q1c.dW.x1", given) > 3  # the coincidence is there
    item = answer(hw_key, "q1c.dW.x1", given)
    assert item.diagnoses == ("transposed",)
    assert item.score == pytest.approx(8 * 3 / 9)
    assert len(item.wrong_entries) == 6
    assert item.message.startswith("3 of 9 entries are right.")


def test_bias_last_earns_nothing_though_two_entries_land_near_the_right_ones(
    hw_key: AnswerKey,
) -> None:
    """∂L/∂v with the bias entry written last: entries 2 and 3 are within 2 % of the right
    ones only because z₁ ≈ z₂ ≈ z₃. Misordered, and no credit; the message gives the order."""
    given = np.roll(expected(hw_key, "q1c.dv.x1"), -1)
    assert right_entries(hw_key, "q1c.dv.x1", given) == 2
    item = answer(hw_key, "q1c.dv.x1", given)
    assert (item.diagnoses, item.score) == (("misordered",), 0)
    assert "∂L/∂v₀, is written last" in item.message
    assert "The order asked is (∂L/∂v₀, ∂L/∂v₁, ∂L/∂v₂, ∂L/∂v₃)" in item.message


def test_entries_an_explanation_cannot_change_keep_their_credit(hw_key: AnswerKey) -> None:
    """∂L/∂W of example 1 (x = (1, 2)) without the input factor: the bias column and the
    x₁ = 1 column are unchanged by the mistake, so they are right, not coincidences."""
    item = answer(hw_key, "q1c.dW.x1", with_mistake(hw_key, "q1c.dW.x1", no_input_factor=True))
    assert item.diagnoses == ("missing_input_factor",)
    assert item.score == pytest.approx(8 * 6 / 9)


@pytest.mark.parametrize(("answer_id", "factor"), [("d2.dW1", "x_k"), ("d2.dW3", "h_k")])
def test_a_missing_input_factor_names_the_layer_s_own_input(answer_id: str, factor: str) -> None:
    """∂L/∂W_l without the input factor: the sentence names the layer's input, x_k at the
    first layer and h_k (the activations below) above it."""
    key = solve(load_rubric(RUBRICS / "deep-softmax.yaml"))
    item = answer(key, answer_id, with_mistake(key, answer_id, no_input_factor=True))
    assert item.diagnoses == ("missing_input_factor",)
    assert f"δ_j·{factor} needs the input factor {factor} (1 for the bias column" in item.message
    other = "h_k" if factor == "x_k" else "x_k"
    assert other not in item.message


def test_a_slip_with_no_whole_explanation_costs_only_its_entry(hw_key: AnswerKey) -> None:
    """Near miss: a right ∂L/∂W with one entry 30 % off is explained by nothing as a whole,
    and keeps 8/9 of its points."""
    given = expected(hw_key, "q1c.dW.x2")
    given[2, 1] *= 1.3
    item = answer(hw_key, "q1c.dW.x2", given)
    assert item.diagnoses == ()
    assert item.score == pytest.approx(8 * 8 / 9)


# --- misordered -------------------------------------------------------------------


def test_examples_swapped_are_misordered(hw_key: AnswerKey) -> None:
    """∂L/∂ŷ with examples 1 and 2 swapped: misordered, named by example; example 3, in
    its place, keeps its credit."""
    given = expected(hw_key, "q1c.dL_dyhat")[[1, 0, 2]]
    item = answer(hw_key, "q1c.dL_dyhat", given)
    assert item.diagnoses == ("misordered",)
    assert item.score == pytest.approx(6 / 3)
    assert "example 1 and example 2 are swapped" in item.message
    assert "(example 1, example 2, example 3)" in item.message


def test_the_bias_column_last_is_misordered(hw_key: AnswerKey) -> None:
    """∂L/∂W with the w_j0 column written last: misordered, the order of a row given."""
    given = np.roll(expected(hw_key, "q1c.dW.x3"), -1, axis=1)
    item = answer(hw_key, "q1c.dW.x3", given)
    assert item.diagnoses == ("misordered",)
    assert "∂L/∂w_j0, is written last" in item.message
    assert "(∂L/∂w_j0, ∂L/∂w_j1, ∂L/∂w_j2)" in item.message


def test_a_reordering_with_another_error_is_not_misordered(hw_key: AnswerKey) -> None:
    """Near miss: examples swapped, and one of them 10 % off: not explained as a whole."""
    given = expected(hw_key, "q1c.dL_dyhat")[[1, 0, 2]]
    given[0] *= 1.1
    assert answer(hw_key, "q1c.dL_dyhat", given).diagnoses == ()


def test_a_reordering_of_nearly_equal_entries_is_simply_right(hw_key: AnswerKey) -> None:
    """ŷ of the three examples differ by under 1 %: swapped, they are still within 2 %, and
    a reordering that changes nothing beyond the tolerance is no mistake."""
    item = answer(hw_key, "q1.yhat", expected(hw_key, "q1.yhat")[[1, 0, 2]])
    assert (item.status, item.diagnoses) == ("correct", ())


# --- mean_for_sum, sum_for_mean ---------------------------------------------------


def test_the_batch_mean_for_the_sum_is_mean_for_sum(hw_key: AnswerKey) -> None:
    """Σ ∂L/∂v asked, the mean over the 3 examples given: mean_for_sum."""
    problem = hw_key.rubric.problems["net"]
    assert isinstance(problem, NetworkProblem)
    mean = with_mistake(hw_key, "q1d.dv") / len(problem.examples)
    item = answer(hw_key, "q1d.dv", mean)
    assert (item.diagnoses, item.score) == (("mean_for_sum",), 0)
    assert "mean over the 3 examples" in item.message


def test_the_sum_for_the_mean_is_sum_for_mean(wide_key: AnswerKey) -> None:
    """wide-sigmoid's mean ∂L/∂W asked, the sum over its 5 examples given: sum_for_mean."""
    item = answer(wide_key, "p1.dW.mean", 5 * expected(wide_key, "p1.dW.mean"))
    assert item.diagnoses == ("sum_for_mean",)
    assert "divide the sum by the number of examples, 5" in item.message


def test_the_mean_of_the_students_own_gradients_is_mean_for_sum(hw_key: AnswerKey) -> None:
    """Their ∂L/∂v of example 1 wrong (×1.5), and the mean of their own three given for
    the sum: mean_for_sum, from their answer."""
    x1 = 1.5 * expected(hw_key, "q1c.dv.x1")
    x2, x3 = expected(hw_key, "q1c.dv.x2"), expected(hw_key, "q1c.dv.x3")
    given = {"q1c.dv.x1": x1, "q1c.dv.x2": x2, "q1c.dv.x3": x3, "q1d.dv": (x1 + x2 + x3) / 3}
    item = grade(hw_key, given).item("q1d.dv")
    assert item.diagnoses == ("mean_for_sum",)
    assert "given your answer to q1c.dv.x1" in item.message


def test_nearly_the_mean_is_not_mean_for_sum(hw_key: AnswerKey) -> None:
    """Near miss: the sum divided by 3.3 is not the mean."""
    item = answer(hw_key, "q1d.dv", expected(hw_key, "q1d.dv") / 3.3)
    assert "mean_for_sum" not in item.diagnoses


# --- constant_multiple --------------------------------------------------------------


@pytest.mark.parametrize("eta", [0.1, 0.05, 0.3])
def test_the_weight_update_for_the_gradient_names_the_learning_rate(
    hw_key: AnswerKey, eta: float
) -> None:
    """−η·∂L/∂W given for ∂L/∂W: constant_multiple, and the message names η."""
    item = answer(hw_key, "q1d.dW", -eta * expected(hw_key, "q1d.dW"))
    assert (item.diagnoses, item.score) == (("constant_multiple",), 0)
    assert f"weight update −η·∇ with η = {eta:g}" in item.message


def test_any_far_constant_multiple_is_named_with_its_constant(hw_key: AnswerKey) -> None:
    """3.7 times the right Jacobian-free gradient: named with the constant 3.7."""
    item = answer(hw_key, "q1c.dv.x3", 3.7 * expected(hw_key, "q1c.dv.x3"))
    assert item.diagnoses == ("constant_multiple",)
    assert "is 3.7 times the right value" in item.message


@pytest.mark.parametrize("factor", [1.3, 0.45, -1.1, 10.5])
def test_multiples_near_one_or_a_named_constant_are_not_constant_multiple(
    hw_key: AnswerKey, factor: float
) -> None:
    """Near misses: 1.3 (an arithmetic slip as likely), near ½, near −1, near 10."""
    item = answer(hw_key, "q1c.dW.x2", factor * expected(hw_key, "q1c.dW.x2"))
    assert item.diagnoses == ()


def test_different_factors_per_entry_are_not_constant_multiple(hw_key: AnswerKey) -> None:
    """Near miss: −0.1 times in some entries, −0.13 in others."""
    given = -0.1 * expected(hw_key, "q1d.dW")
    given[1] *= 1.3
    assert answer(hw_key, "q1d.dW", given).diagnoses == ()


def test_a_scalar_is_never_a_constant_multiple(hw_key: AnswerKey) -> None:
    """Every wrong number is some multiple of the right one: a scalar is not named."""
    assert answer(hw_key, "q2d.yhat", 3.7 * float(hw_key["q2d.yhat"].expected)).diagnoses == ()


# --- missing_input_factor -----------------------------------------------------------


@pytest.mark.parametrize("answer_id", ["q1c.dW.x3", "q1d.dW", "q2d.dW"])
def test_delta_in_every_column_is_missing_input_factor(hw_key: AnswerKey, answer_id: str) -> None:
    """∂L/∂W with δ_j in every column (no x_k factor), per example and summed."""
    item = answer(hw_key, answer_id, with_mistake(hw_key, answer_id, no_input_factor=True))
    assert item.diagnoses == ("missing_input_factor",)
    assert "δ_j in every column" in item.message and "δ_j·x_k" in item.message


def test_nearly_delta_in_every_column_is_not_missing_input_factor(hw_key: AnswerKey) -> None:
    """Near miss: the same with one hidden unit's row 10 % off."""
    given = with_mistake(hw_key, "q1c.dW.x3", no_input_factor=True)
    given[1] *= 1.1
    assert "missing_input_factor" not in answer(hw_key, "q1c.dW.x3", given).diagnoses


# --- preactivation_for_activation ----------------------------------------------------


@pytest.mark.parametrize(
    ("answer_id", "mistake", "words"),
    [
        ("q1c.dv.x2", {"preactivation_below": True}, "pre-activations a_j"),
        ("q1d.dv", {"preactivation_below": True}, "pre-activations a_j"),
        ("q1c.dW.x1", {"hidden_prime": "preactivation"}, "σ′ as a_j(1 − a_j)"),
        ("q3.dE_dv", {"output_prime": "preactivation"}, "ŷ(1 − ŷ) as s(1 − s)"),
        ("q1.yhat", {"hidden_identity": True}, "from the forward pass on"),
        ("q2d.yhat", {"hidden_identity": True}, "from the forward pass on"),
    ],
)
def test_the_preactivation_for_the_activation_is_named(
    hw_key: AnswerKey, answer_id: str, mistake: dict[str, Any], words: str
) -> None:
    """a_j where z_j = σ(a_j) belongs in ∂L/∂v (and its batch sum), in σ′ of ∂L/∂W, s
    for ŷ = σ(s) in a sigmoid output's derivative, and a for σ(a) from the forward pass
    on (ŷ, and every gradient after it): preactivation_for_activation."""
    item = answer(hw_key, answer_id, with_mistake(hw_key, answer_id, **mistake))
    assert item.diagnoses == ("preactivation_for_activation",)
    assert words in item.message


def test_nearly_the_preactivation_is_not_named(hw_key: AnswerKey) -> None:
    """Near misses: ∂L/∂v with a_j for z_j, then 10 % off; ŷ without σ, 10 % off."""
    given = 1.1 * with_mistake(hw_key, "q1c.dv.x2", preactivation_below=True)
    assert answer(hw_key, "q1c.dv.x2", given).diagnoses == ()
    given = 1.1 * with_mistake(hw_key, "q1.yhat", hidden_identity=True)
    assert answer(hw_key, "q1.yhat", given).diagnoses == ()


# --- wrong_point, chain_order ------------------------------------------------------


def test_the_jacobian_at_another_answers_point_is_wrong_point(hw_key: AnswerKey) -> None:
    """DF(1, 2) asked, DF at G(2) = (2, 4) (part c's point) given: wrong_point; the
    entries DF has the same everywhere (2 and 3) stay right."""
    item = answer(hw_key, "q2b.DF", DF(2, 4))
    assert item.diagnoses == ("wrong_point",)
    assert "(2, 4) (the point of q2c.DfG) instead of at (1, 2)" in item.message
    assert item.score == pytest.approx(4 * 2 / 4)


def test_the_jacobian_at_the_swapped_point_is_wrong_point(hw_key: AnswerKey) -> None:
    """DF(2, 1) for DF(1, 2): wrong_point, the coordinates swapped."""
    item = answer(hw_key, "q2b.DF", DF(2, 1))
    assert item.diagnoses == ("wrong_point",)
    assert "coordinates swapped" in item.message


def test_the_outer_derivative_at_the_wrong_point_is_wrong_point(hw_key: AnswerKey) -> None:
    """D(F∘G)(2) with DF taken at part b's (1, 2) instead of G(2) = (2, 4)."""
    item = answer(hw_key, "q2c.DfG", (DF(1, 2) @ DG(2)).ravel())
    assert item.diagnoses == ("wrong_point",)
    assert "instead of at G(2) = (2, 4)" in item.message


def test_the_chain_rule_in_the_wrong_order_is_chain_order(hw_key: AnswerKey) -> None:
    """DGᵀ·DF for DF·DG: [16, 130], whose 130 was within 2 % of 131. chain_order, and no
    credit: hw.yaml grades these whole numbers to 2 decimals."""
    given = (DG(2).T @ DF(2, 4)).ravel()
    item = answer(hw_key, "q2c.DfG", given)
    assert (item.diagnoses, item.score) == (("chain_order",), 0)
    assert "DGᵀ·DF" in item.message and "DF(G(2))·DG(2)" in item.message


def test_nearly_a_wrong_point_or_order_is_not_named(hw_key: AnswerKey) -> None:
    """Near misses: DF(2, 4) with one entry off, [16, 131] (half the wrong order)."""
    near = DF(2, 4)
    near[1, 1] += 1
    assert answer(hw_key, "q2b.DF", near).diagnoses == ()
    assert answer(hw_key, "q2c.DfG", [16.0, 131.0]).diagnoses == ()


def test_whole_number_answers_are_graded_to_two_decimals(hw_key: AnswerKey) -> None:
    """DF(1, 2) and D(F∘G)(2) are whole numbers: 131.004 is right, 130 (within 2 %) not."""
    right = (DF(2, 4) @ DG(2)).ravel()
    assert answer(hw_key, "q2c.DfG", right + 0.004).status == "correct"
    assert answer(hw_key, "q2c.DfG", [right[0], right[1] - 1]).status == "partial"
    assert answer(hw_key, "q2b.DF", DF(1, 2) + np.array([[0, 0], [0, 0.3]])).status == "partial"


# --- other_answer with its own slips --------------------------------------------------


def test_another_answers_value_with_a_slipped_decimal_is_other_answer(hw_key: AnswerKey) -> None:
    """The seed's 1d: the batch ∂L/∂W given as example 1's, with two decimal points
    slipped: other_answer:q1c.dW.x1, the slips named."""
    given = expected(hw_key, "q1c.dW.x1")
    given[0, :2] *= 10
    item = answer(hw_key, "q1d.dW", given)
    assert (item.diagnoses, item.score) == (("other_answer:q1c.dW.x1",), 0)
    assert "decimal point slipped in ∂L/∂w₁₀ and ∂L/∂w₁₁" in item.message


def test_the_students_own_other_answer_copied_with_its_slip_is_other_answer(
    hw_key: AnswerKey,
) -> None:
    """Their ∂L/∂v of example 1 with one entry 30 % off, copied as the batch sum."""
    x1 = expected(hw_key, "q1c.dv.x1")
    x1[2] *= 1.3
    item = grade(hw_key, {"q1c.dv.x1": x1, "q1d.dv": x1}).item("q1d.dv")
    assert item.diagnoses == ("other_answer:q1c.dv.x1",)
    assert "your own answer to q1c.dv.x1" in item.message


def test_too_many_slips_or_a_wholly_wrong_copy_are_not_other_answer(hw_key: AnswerKey) -> None:
    """Near misses: example 1's ∂L/∂W with three slipped entries of nine; a batch sum equal
    to the student's own example-1 answer that is wrong in every entry."""
    given = expected(hw_key, "q1c.dW.x1")
    given[0] *= 10
    assert answer(hw_key, "q1d.dW", given).diagnoses == ()
    x1 = expected(hw_key, "q1c.dv.x1") * [1.3, 0.8, 1.2, 0.9]
    item = grade(hw_key, {"q1c.dv.x1": x1, "q1d.dv": x1}).item("q1d.dv")
    assert not any(code.startswith("other_answer") for code in item.diagnoses)


# --- the carried-forward rule -------------------------------------------------------


def recomputed(key: AnswerKey, answer_id: str, given: dict[str, np.ndarray]) -> np.ndarray:
    overrides = {key[other].node: value for other, value in given.items()}
    return np.array(key.graph.evaluate(key[answer_id].node, overrides), dtype=np.float64)


def test_two_thirds_of_the_changed_entries_consistent_earn_carried_forward(
    hw_key: AnswerKey,
) -> None:
    """ŷ wrong in all three examples; ∂L/∂ŷ consistent with it in 2 of 3 entries: those 2
    earn the carried-forward share (as 6 of 9 would in ∂L/∂W), the third nothing."""
    yhat = expected(hw_key, "q1.yhat") * 40
    dl = recomputed(hw_key, "q1c.dL_dyhat", {"q1.yhat": yhat})
    dl[2] *= 1.5
    item = grade(hw_key, {"q1.yhat": yhat, "q1c.dL_dyhat": dl}).item("q1c.dL_dyhat")
    assert item.diagnoses == ("ecf",)
    assert item.score == pytest.approx(6 * 2 / 3)


def test_fewer_than_two_thirds_consistent_earn_no_carried_forward(hw_key: AnswerKey) -> None:
    """Near miss: 1 of 3 consistent is chance, not a method: no credit."""
    yhat = expected(hw_key, "q1.yhat") * 40
    dl = recomputed(hw_key, "q1c.dL_dyhat", {"q1.yhat": yhat})
    dl[1:] *= 1.5
    item = grade(hw_key, {"q1.yhat": yhat, "q1c.dL_dyhat": dl}).item("q1c.dL_dyhat")
    assert (item.diagnoses, item.score) == ((), 0)


# --- feedback in the homework's notation --------------------------------------------


def test_entries_are_named_as_the_homework_names_them(hw_key: AnswerKey) -> None:
    """∂L/∂w₁₂ (row 1, column 3: w_12, column 1 the bias), ∂L/∂v₀, example 2, ∂F₂/∂y."""
    dW = expected(hw_key, "q1c.dW.x1")
    dW[0, 2] *= 1.3
    assert "off: ∂L/∂w₁₂ " in answer(hw_key, "q1c.dW.x1", dW).message
    dv = expected(hw_key, "q1c.dv.x1")
    dv[0] *= 1.3
    assert "off: ∂L/∂v₀ " in answer(hw_key, "q1c.dv.x1", dv).message
    dl = expected(hw_key, "q1c.dL_dyhat")
    dl[1] *= 1.3
    assert "off: example 2 " in answer(hw_key, "q1c.dL_dyhat", dl).message
    jac = DF(1, 2) + np.array([[0, 0], [0, 1]])
    assert "off: ∂F₂/∂y " in answer(hw_key, "q2b.DF", jac).message
    dE = expected(hw_key, "q3.dE_dv")
    dE[3] *= 1.3
    assert "off: ∂E/∂v₃ " in answer(hw_key, "q3.dE_dv", dE).message


def test_a_rubric_may_name_an_answers_entries(hw_key: AnswerKey) -> None:
    """An answer's ``entries`` names them in feedback; a count that does not fit the
    answer's shape refuses the rubric, naming the answer."""
    names = ["bias", "first unit", "second unit", "third unit"]
    key = with_answer_fields(hw_key, "q1c.dv.x1", entries=names)
    given = expected(key, "q1c.dv.x1")
    given[2] *= 1.3
    assert "off: second unit " in answer(key, "q1c.dv.x1", given).message
    with pytest.raises(RubricError, match=r"answers\[2\]\.entries: names 3 entries"):
        with_answer_fields(hw_key, "q1c.dv.x1", entries=names[:3])


def test_a_hint_is_shown_with_a_wrong_answer_only(hw_key: AnswerKey) -> None:
    """An answer's ``hint`` follows the message of a wrong or partly right answer, never
    of a right one."""
    hint = "Lecture 4, slide 12: the chain rule through σ."
    key = with_answer_fields(hw_key, "q1c.dW.x2", hint=hint)
    wrong = answer(key, "q1c.dW.x2", -expected(key, "q1c.dW.x2"))
    assert wrong.message.endswith(f"Hint: {hint}")
    assert "Hint" not in answer(key, "q1c.dW.x2", expected(key, "q1c.dW.x2")).message


def test_long_lists_of_wrong_entries_are_summarised(hw_key: AnswerKey) -> None:
    """Six wrong entries of nine: three named, then how many more; none right: said so."""
    given = expected(hw_key, "q1c.dW.x2")
    given[:2] *= [[1.3], [1.4]]
    item = answer(hw_key, "q1c.dW.x2", given)
    assert "off: ∂L/∂w₁₀, ∂L/∂w₁₁, ∂L/∂w₁₂ and 3 more " in item.message
    nothing = answer(hw_key, "q1c.dW.x2", expected(hw_key, "q1c.dW.x2") * 1.3)
    assert nothing.message.startswith("None of the 9 entries is right")


# --- the class summary counts the new codes ---------------------------------------------


def test_the_class_summary_counts_the_new_codes(hw_key: AnswerKey, tmp_path: Path) -> None:
    """`grade` on a class making the new mistakes: each code counted on its answer's line."""
    folder = tmp_path / "class"
    folder.mkdir()
    base = {aid: to_plain(hw_key[aid].expected) for aid in ("q1.yhat", "q1c.dL_dyhat")}
    made = {
        "a": {"q1c.dv.x1": np.roll(expected(hw_key, "q1c.dv.x1"), -1)},
        "b": {"q1d.dv": expected(hw_key, "q1d.dv") / 3},
        "c": {"q1d.dW": -0.1 * expected(hw_key, "q1d.dW")},
        "d": {"q1c.dW.x3": with_mistake(hw_key, "q1c.dW.x3", no_input_factor=True)},
        "e": {"q2c.DfG": (DG(2).T @ DF(2, 4)).ravel()},
        "f": {"q2b.DF": DF(2, 4)},
        "g": {"q1c.dv.x2": with_mistake(hw_key, "q1c.dv.x2", preactivation_below=True)},
    }
    for student, answers in made.items():
        plain = {**base, **{k: np.asarray(v).tolist() for k, v in answers.items()}}
        (folder / f"{student}.json").write_text(json.dumps({"answers": plain}), encoding="utf-8")
    run = CliRunner().invoke(
        app, ["grade", str(folder), "--rubric", str(RUBRICS / "hw.yaml"), "--out", str(tmp_path)]
    )
    assert run.exit_code == 0, run.output
    lines = {line.split()[0]: line for line in run.stdout.splitlines() if line.startswith("q")}
    assert "misordered ×1" in lines["q1c.dv.x1"]
    assert "mean_for_sum ×1" in lines["q1d.dv"]
    assert "constant_multiple ×1" in lines["q1d.dW"]
    assert "missing_input_factor ×1" in lines["q1c.dW.x3"]
    assert "chain_order ×1" in lines["q2c.DfG"]
    assert "wrong_point ×1" in lines["q2b.DF"]
    assert "preactivation_for_activation ×1" in lines["q1c.dv.x2"]
