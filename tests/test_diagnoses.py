"""Named mistakes (README.md, "Credit for errors carried forward, and mistakes
named"): for every code, an answer that shows it is diagnosed and a near miss is not;
the feedback explains it without revealing the expected value; the class view counts the
codes. Answers are the solver's values, changed as students do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from grader import AnswerKey, ItemResult, StudentResult, Submission, grade_submission, solve
from grader.cli import app
from grader.render.feedback import render_feedback
from grader.solver.key import build_graph, to_plain
from grader.solver.network import NetworkVariant

from .conftest import RUBRICS

DATA = Path(__file__).resolve().parent / "data" / "diagnoses"


def grade(key: AnswerKey, answers: dict[str, Any]) -> StudentResult:
    return grade_submission(Submission("s", "test", answers), key)


def answer(key: AnswerKey, answer_id: str, value: Any) -> ItemResult:
    """The grading of one answer given alone."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return grade(key, {answer_id: value}).item(answer_id)


def expected(key: AnswerKey, answer_id: str) -> np.ndarray:
    return np.array(key[answer_id].expected, dtype=np.float64)


def with_mistake(key: AnswerKey, answer_id: str, **mistake: Any) -> np.ndarray:
    """The answer as the solver computes it with a mistake of method made."""
    entry = key[answer_id]
    graph, _ = build_graph(key.rubric, {entry.answer.problem: NetworkVariant(**mistake)})
    return np.array(graph.evaluate(entry.node), dtype=np.float64)


def round_sig(values: np.ndarray, digits: int) -> np.ndarray:
    return np.asarray(
        np.vectorize(lambda x: float(f"{x:.{digits - 1}e}"))(values), dtype=np.float64
    )


def with_grading(key: AnswerKey, **grading: Any) -> AnswerKey:
    """The key of the same rubric with other default grading."""
    rubric = key.rubric
    defaults = rubric.defaults.model_copy(update=grading)
    return solve(rubric.model_copy(update={"defaults": defaults}))


# --- sign_flip ----------------------------------------------------------------------


def test_a_gradient_with_every_sign_flipped_is_sign_flip(hw_key: AnswerKey) -> None:
    """−∂L/∂v (y − ŷ for ŷ − y) is diagnosed sign_flip, and the message says what to check."""
    item = answer(hw_key, "q1c.dv.x2", -expected(hw_key, "q1c.dv.x2"))
    assert item.diagnoses == ("sign_flip",)
    assert "wrong sign" in item.message and "y − ŷ" in item.message
    assert item.score == 0


def test_one_flipped_entry_is_named_and_the_rest_keep_their_credit(hw_key: AnswerKey) -> None:
    """A sign slip in one matrix entry names that entry; the right entries keep credit."""
    matrix = expected(hw_key, "q1c.dW.x3")
    matrix[2, 1] *= -1
    item = answer(hw_key, "q1c.dW.x3", matrix)
    assert item.diagnoses == ("sign_flip",)
    assert "∂L/∂w₃₁ has the right size but the wrong sign" in item.message
    assert item.score == pytest.approx(8 * 8 / 9)


def test_a_flipped_sign_that_is_also_off_in_size_is_not_sign_flip(hw_key: AnswerKey) -> None:
    """−1.1 × the answer is not 'the right size with the wrong sign'."""
    item = answer(hw_key, "q1c.dv.x2", -1.1 * expected(hw_key, "q1c.dv.x2"))
    assert item.status == "incorrect" and item.diagnoses == ()


# --- power_of_ten -------------------------------------------------------------------


def test_the_seeds_decimal_slip_is_power_of_ten_on_those_entries_only(hw_key: AnswerKey) -> None:
    """The seed's Δw_1 = [-0.792, -0.792, -0.1584], as q2d.dW's first row: power_of_ten on
    the two slipped entries (row 1, cols 1-2); every other entry is right."""
    data = json.loads((DATA / "seed-part2d-with-1d-slip.json").read_text(encoding="utf-8"))
    item = grade(hw_key, data["answers"]).item("q2d.dW")
    assert item.diagnoses == ("power_of_ten",)
    assert item.wrong_entries == ((0, 0), (0, 1))
    assert "∂L/∂w₁₀ (10 times too large)" in item.message
    assert "∂L/∂w₁₁ (10 times too large)" in item.message
    assert "∂L/∂w₁₂" not in item.message
    assert item.score == pytest.approx(4 * 7 / 9)


def test_one_slipped_decimal_point_names_only_that_entry(hw_key: AnswerKey) -> None:
    """The slip in entry (0, 0) alone: power_of_ten on ∂L/∂w₁₀ and nothing else."""
    matrix = expected(hw_key, "q2d.dW")
    matrix[0, 0] *= 10
    item = answer(hw_key, "q2d.dW", matrix)
    assert (item.diagnoses, item.wrong_entries) == (("power_of_ten",), ((0, 0),))
    assert "∂L/∂w₁₀" in item.message and "∂L/∂w₁₁" not in item.message


@pytest.mark.parametrize("k", [-3, -1, 2])
def test_a_scalar_off_by_a_power_of_ten_is_power_of_ten(hw_key: AnswerKey, k: int) -> None:
    """ŷ × 10^k (k = −3, −1, 2) is power_of_ten, in the right direction."""
    item = answer(hw_key, "q2d.yhat", float(expected(hw_key, "q2d.yhat")) * 10.0**k)
    assert item.diagnoses == ("power_of_ten",)
    assert ("too large" if k > 0 else "too small") in item.message


@pytest.mark.parametrize("factor", [10.5, 1e4])
def test_near_powers_of_ten_are_not_power_of_ten(hw_key: AnswerKey, factor: float) -> None:
    """×10.5 is not a moved decimal point, and ×10⁴ is beyond the slips recognised."""
    item = answer(hw_key, "q2d.yhat", float(expected(hw_key, "q2d.yhat")) * factor)
    assert item.diagnoses == ()


# --- transposed ---------------------------------------------------------------------


def test_a_square_matrix_given_transposed_is_transposed(hw_key: AnswerKey) -> None:
    """∂L/∂W with rows and columns swapped is transposed (its diagonal is still right)."""
    item = answer(hw_key, "q1c.dW.x2", expected(hw_key, "q1c.dW.x2").T)
    assert item.diagnoses == ("transposed",)
    assert "row j holds hidden unit j" in item.message


def test_a_transposed_matrix_with_another_error_is_not_transposed(hw_key: AnswerKey) -> None:
    """Transposed, but with an off-diagonal entry also 10 % off: not explained as a whole."""
    matrix = expected(hw_key, "q1c.dW.x2").T.copy()
    matrix[0, 2] *= 1.1
    assert answer(hw_key, "q1c.dW.x2", matrix).diagnoses == ()


def test_a_non_square_matrix_given_transposed_is_read_again(wide_key: AnswerKey) -> None:
    """A 3×2 Jacobian given as 2×3 is read in that shape and diagnosed transposed."""
    item = answer(wide_key, "p2.DH", expected(wide_key, "p2.DH").T)
    assert (item.status, item.diagnoses) == ("incorrect", ("transposed",))
    assert np.allclose(item.read, expected(wide_key, "p2.DH").T)
    assert "Jacobian" in item.message


def test_a_wrong_matrix_of_the_transposed_shape_stays_unreadable(wide_key: AnswerKey) -> None:
    """A 2×3 answer that is not the transpose is still unreadable for its shape."""
    item = answer(wide_key, "p2.DH", 1.3 * expected(wide_key, "p2.DH").T)
    assert (item.status, item.diagnoses) == ("unreadable", ())


# --- factor_two ---------------------------------------------------------------------


def test_the_half_added_to_the_loss_is_factor_two(hw_key: AnswerKey) -> None:
    """∂L/∂ŷ computed as if L = ½(ŷ − y)² (the 2 dropped) is factor_two."""
    item = answer(hw_key, "q1c.dL_dyhat", with_mistake(hw_key, "q1c.dL_dyhat", flip_half=True))
    assert item.diagnoses == ("factor_two",)
    assert "half the right value" in item.message and "2(ŷ − y)" in item.message


def test_the_half_dropped_from_the_loss_is_factor_two(hw_key: AnswerKey) -> None:
    """Problem 3's E = ½Σ(ŷ − y)² taken without its ½ doubles ∂E/∂v: factor_two."""
    item = answer(hw_key, "q3.dE_dv", with_mistake(hw_key, "q3.dE_dv", flip_half=True))
    assert item.diagnoses == ("factor_two",)
    assert "twice the right value" in item.message


def test_a_loss_without_its_half_is_factor_two(wide_key: AnswerKey) -> None:
    """E = ½Σ(ŷ − y)² computed without the ½ is factor_two, said of the loss itself."""
    item = answer(wide_key, "p1.E", with_mistake(wide_key, "p1.E", flip_half=True))
    assert item.diagnoses == ("factor_two",)
    assert "Your loss is twice the right value" in item.message


def test_nearly_half_is_not_factor_two(hw_key: AnswerKey) -> None:
    """0.45 × the answer is not half of it."""
    item = answer(hw_key, "q1c.dL_dyhat", 0.45 * expected(hw_key, "q1c.dL_dyhat"))
    assert item.diagnoses == ()


# --- missing_bias -------------------------------------------------------------------


def test_yhat_without_the_biases_is_missing_bias(hw_key: AnswerKey) -> None:
    """ŷ computed without v0 and the w_j0 is missing_bias."""
    item = answer(hw_key, "q2d.yhat", with_mistake(hw_key, "q2d.yhat", no_bias=True))
    assert item.diagnoses == ("missing_bias",)
    assert "bias" in item.message


@pytest.mark.parametrize(
    ("answer_id", "drop"),
    [("q1c.dv.x1", (slice(1, None),)), ("q1c.dW.x2", (slice(None), slice(1, None)))],
)
def test_a_gradient_without_its_bias_entries_is_read_again_as_missing_bias(
    hw_key: AnswerKey, answer_id: str, drop: tuple[slice, ...]
) -> None:
    """∂L/∂v without ∂L/∂v0 (3 entries for 4), ∂L/∂W without the w_j0 column (3×2): read
    in that shape, diagnosed missing_bias, no credit by default."""
    item = answer(hw_key, answer_id, expected(hw_key, answer_id)[drop])
    assert (item.status, item.diagnoses, item.score) == ("incorrect", ("missing_bias",), 0)
    assert "bias entries" in item.message


def test_a_short_gradient_that_is_not_the_rest_stays_unreadable(hw_key: AnswerKey) -> None:
    """Three entries that are not ∂L/∂v's last three (×1.1) stay unreadable."""
    item = answer(hw_key, "q1c.dv.x1", 1.1 * expected(hw_key, "q1c.dv.x1")[1:])
    assert (item.status, item.diagnoses) == ("unreadable", ())


def test_yhat_nearly_without_biases_is_not_missing_bias(hw_key: AnswerKey) -> None:
    """ŷ without biases, then 10 % off: no diagnosis."""
    item = answer(hw_key, "q2d.yhat", 1.1 * with_mistake(hw_key, "q2d.yhat", no_bias=True))
    assert item.diagnoses == ()


# --- wrong_derivative ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        ({"hidden_prime": "wrong"}, "uses σ where"),
        ({"hidden_prime": "one"}, "leaves out the hidden units' derivative"),
        ({"dyhat_dz": "z"}, "uses z_j for ∂ŷ/∂z_j"),
    ],
)
def test_a_wrong_derivative_in_the_hidden_layer_is_wrong_derivative(
    hw_key: AnswerKey, mistake: dict[str, str], words: str
) -> None:
    """σ for σ′, σ′ left out, z_j for ∂ŷ/∂z_j: each is wrong_derivative, in its own words."""
    item = answer(hw_key, "q1c.dW.x1", with_mistake(hw_key, "q1c.dW.x1", **mistake))
    assert item.diagnoses == ("wrong_derivative",)
    assert words in item.message


def test_sigma_for_the_output_derivative_is_wrong_derivative(wide_key: AnswerKey) -> None:
    """At a sigmoid output, ŷ used for ŷ(1 − ŷ) in ∂L/∂v is wrong_derivative."""
    value = with_mistake(wide_key, "p1.dv.x4", output_prime="wrong")
    item = answer(wide_key, "p1.dv.x4", value)
    assert item.diagnoses == ("wrong_derivative",)
    assert "sigmoid output" in item.message


def test_nearly_a_wrong_derivative_is_not_wrong_derivative(hw_key: AnswerKey) -> None:
    """The σ-for-σ′ value 10 % off is not diagnosed."""
    value = 1.1 * with_mistake(hw_key, "q1c.dW.x1", hidden_prime="wrong")
    assert answer(hw_key, "q1c.dW.x1", value).diagnoses == ()


# --- other_answer -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "given"),
    [("q1c.dv.x1", "q1c.dv.x2"), ("q1c.dv.x3", "q1d.dv"), ("q1d.dW", "q1c.dW.x3")],
)
def test_another_answers_value_is_other_answer(hw_key: AnswerKey, asked: str, given: str) -> None:
    """Example 2's ∂L/∂v where example 1's is asked, the batch sum where one example's is,
    one example's where the sum is: other_answer:<that id>."""
    item = answer(hw_key, asked, expected(hw_key, given))
    assert item.diagnoses == (f"other_answer:{given}",)
    assert given in item.message


def test_nearly_another_answers_value_is_not_other_answer(hw_key: AnswerKey) -> None:
    """Example 2's ∂L/∂v, 10 % off, where example 1's is asked: no diagnosis."""
    item = answer(hw_key, "q1c.dv.x1", 1.1 * expected(hw_key, "q1c.dv.x2"))
    assert item.diagnoses == ()


def test_an_answer_equal_to_another_ids_is_simply_right(hw_key: AnswerKey) -> None:
    """q2d.dv has q1c.dv.x1's value (the same example): right, not other_answer."""
    item = answer(hw_key, "q2d.dv", expected(hw_key, "q1c.dv.x1"))
    assert (item.status, item.diagnoses) == ("correct", ())


# --- too_coarse ---------------------------------------------------------------------


def test_rounding_to_one_figure_is_too_coarse(hw_key: AnswerKey) -> None:
    """∂L/∂W rounded to 1 significant figure: the entries 2 % rejects are too_coarse, and
    the message says how many figures the tolerance needs."""
    item = answer(hw_key, "q1c.dW.x1", round_sig(expected(hw_key, "q1c.dW.x1"), 1))
    assert item.status == "partial" and item.diagnoses == ("too_coarse",)
    assert "at least 2 significant figures" in item.message


def test_two_figures_where_three_are_asked_is_too_coarse(wide_key: AnswerKey) -> None:
    """Under a 3-significant-figure tolerance, ŷ to 2 figures is too_coarse."""
    item = answer(wide_key, "p1.yhat", round_sig(expected(wide_key, "p1.yhat"), 2))
    assert item.diagnoses == ("too_coarse",)
    assert "at least 3 significant figures" in item.message


def test_a_short_number_that_is_not_the_rounding_is_not_too_coarse(hw_key: AnswerKey) -> None:
    """One entry one unit off its 1-figure rounding (e.g. 0.09 for 0.08): no diagnosis."""
    matrix = round_sig(expected(hw_key, "q1c.dW.x1"), 1)
    matrix[0, 0] += np.sign(matrix[0, 0]) * 10.0 ** np.floor(np.log10(abs(matrix[0, 0])))
    assert answer(hw_key, "q1c.dW.x1", matrix).diagnoses == ()


# --- credit, feedback, results ------------------------------------------------------


def test_a_named_mistake_earns_only_the_credit_the_rubric_gives(hw_key: AnswerKey) -> None:
    """By default a diagnosis earns nothing; with diagnosis_credit it earns that share."""
    flipped = -expected(hw_key, "q1c.dv.x1")
    assert answer(hw_key, "q1c.dv.x1", flipped).score == 0
    generous = with_grading(hw_key, diagnosis_credit={"sign_flip": 0.5})
    item = answer(generous, "q1c.dv.x1", flipped)
    assert (item.status, item.score) == ("partial", 3.0)
    assert "half credit" in item.message


def test_feedback_explains_without_revealing_the_expected_value(hw_key: AnswerKey) -> None:
    """Diagnosed answers' feedback names the mistake but shows no expected value
    (show_expected is false in hw.yaml)."""
    answers = {
        "q1c.dv.x1": (-expected(hw_key, "q1c.dv.x1")).tolist(),
        "q2d.yhat": float(expected(hw_key, "q2d.yhat")) * 10,
        "q1c.dW.x2": expected(hw_key, "q1c.dW.x2").T.tolist(),
    }
    text = render_feedback(grade(hw_key, answers), hw_key.rubric)
    assert "wrong sign" in text and "decimal point" in text and "transposed" in text
    assert "Expected:" not in text
    told = "\n".join(
        line for line in text.splitlines() if not line.startswith(("- You wrote", "- Read as"))
    )
    for answer_id in answers:
        for value in np.atleast_1d(expected(hw_key, answer_id)).ravel():
            for shown in {f"{value:.3g}", f"{value:.4g}", f"{abs(value):.3g}"}:
                assert shown not in told, (answer_id, shown)


def test_diagnoses_survive_the_results_file_round_trip(hw_key: AnswerKey) -> None:
    """results.jsonl carries the codes; reading it back gives the same items."""
    result = grade(hw_key, {"q1c.dv.x1": (-expected(hw_key, "q1c.dv.x1")).tolist()})
    again = StudentResult.from_json(json.loads(json.dumps(result.to_json())))
    assert again.item("q1c.dv.x1").diagnoses == ("sign_flip",)
    assert json.loads(json.dumps(result.to_json()))["items"][2]["diagnoses"] == ["sign_flip"]


def test_right_answers_are_never_diagnosed(hw_key: AnswerKey, wide_key: AnswerKey) -> None:
    """The key's own values earn full marks and no diagnosis."""
    for key in (hw_key, wide_key):
        result = grade(key, {entry.answer.id: to_plain(entry.expected) for entry in key})
        assert {item.diagnoses for item in result.items} == {()}
        assert result.score == result.max_score


def test_grade_prints_per_answer_how_many_showed_each_diagnosis(
    hw_key: AnswerKey, tmp_path: Path
) -> None:
    """`grade` on a class: the summary counts each code per answer id, and results.jsonl
    carries them (three students flip the sign of ∂L/∂ŷ, one drops the 2)."""
    folder = tmp_path / "class"
    folder.mkdir()
    right = expected(hw_key, "q1c.dL_dyhat")
    mistakes = {"a": -right, "b": -right, "c": -right, "d": right / 2, "e": right}
    for student, value in mistakes.items():
        answers = {"q1.yhat": to_plain(hw_key["q1.yhat"].expected), "q1c.dL_dyhat": value.tolist()}
        (folder / f"{student}.json").write_text(json.dumps({"answers": answers}), encoding="utf-8")
    out = tmp_path / "grades"
    run = CliRunner().invoke(
        app, ["grade", str(folder), "--rubric", str(RUBRICS / "hw.yaml"), "--out", str(out)]
    )
    assert run.exit_code == 0, run.output
    (line,) = [row for row in run.stdout.splitlines() if row.startswith("q1c.dL_dyhat")]
    assert "sign_flip ×3" in line and "factor_two ×1" in line
    records = [json.loads(row) for row in (out / "results.jsonl").read_text().splitlines()]
    codes = sorted(
        code
        for record in records
        for item in record["items"]
        if item["id"] == "q1c.dL_dyhat"
        for code in item["diagnoses"]
    )
    assert codes == ["factor_two", "sign_flip", "sign_flip", "sign_flip"]
