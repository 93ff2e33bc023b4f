"""Grading one submission: reading answers in every accepted form, scoring entry by entry
within tolerance, and keeping 'could not read' apart from 'wrong'."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from grader import AnswerKey, Submission, grade_submission
from grader.solver.key import to_plain

from .conftest import EXAMPLES


def submit(key: AnswerKey, answers: dict[str, Any]) -> Any:
    return grade_submission(Submission("s", "test", answers), key)


def perfect(key: AnswerKey) -> dict[str, Any]:
    """Every answer straight from the key (what a perfect student would write)."""
    return {entry.answer.id: to_plain(entry.expected) for entry in key}


def test_the_key_itself_scores_full_marks(hw_key: AnswerKey) -> None:
    """The key's own values, as a submission, earn every point."""
    result = submit(hw_key, perfect(hw_key))
    assert result.score == result.max_score == 100
    assert {item.status for item in result.items} == {"correct"}


def test_seed_answers_get_full_credit_where_the_seed_is_right(hw_key: AnswerKey) -> None:
    """The seed's hand answers (sigmoids rounded to 0.52) pass the 2 % tolerance; only the
    answers the seed gets wrong (1d computed per example, not summed) or leaves out lose points."""
    data = json.loads((EXAMPLES / "seed-transcribed.json").read_text())
    result = submit(hw_key, data["answers"])
    not_full = {item.id: item.status for item in result.items if item.status != "correct"}
    assert not_full == {"q1d.dv": "incorrect", "q1d.dW": "incorrect", "q3.dE_dv": "missing"}
    assert result.score == 80


def test_one_wrong_entry_costs_only_its_share(hw_key: AnswerKey) -> None:
    """Per-entry partial credit: one bad entry of a 3×3 matrix keeps 8/9 of the points."""
    answers = perfect(hw_key)
    matrix = np.array(answers["q1c.dW.x2"])
    matrix[1, 2] *= 10
    answers["q1c.dW.x2"] = matrix.tolist()
    item = submit(hw_key, answers).item("q1c.dW.x2")
    assert item.status == "partial"
    assert item.score == pytest.approx(8 * 8 / 9, abs=1e-6)
    assert item.wrong_entries == ((1, 2),)
    assert "∂L/∂w₂₂" in item.message  # row 2, column 3: w_22, the homework's name


def test_all_or_nothing_gives_zero_for_one_bad_entry(hw_key: AnswerKey) -> None:
    """With partial_credit: all_or_nothing, one bad entry costs the whole answer."""
    rubric = hw_key.rubric.model_copy(
        update={
            "defaults": hw_key.rubric.defaults.model_copy(
                update={"partial_credit": "all_or_nothing"}
            )
        }
    )
    from grader import solve

    key = solve(rubric)
    answers = perfect(key)
    answers["q1c.dv.x1"] = [*answers["q1c.dv.x1"][:3], 0.0]
    item = submit(key, answers).item("q1c.dv.x1")
    assert (item.status, item.score) == ("partial", 0.0)


@pytest.mark.parametrize(
    "form",
    [
        ["4(2x+3y)", "6(2x+3y)"],
        ["8x + 12y", "12x + 18y"],
        ["12y+8*x", "18*y + 12 x"],
        "[8x + 12y, 12x + 18y]",
        "4(2x+3y); 6(2x+3y)",
        ["2*2*(2x+3y)^1", "(2x+3y)*6"],
    ],
)
def test_gradient_expressions_in_any_equivalent_form_are_right(
    hw_key: AnswerKey, form: Any
) -> None:
    """q2a is graded as expressions: any algebraically equivalent form is right."""
    assert submit(hw_key, {"q2a.grad_f": form}).item("q2a.grad_f").status == "correct"


def test_a_wrong_gradient_component_is_partly_right(hw_key: AnswerKey) -> None:
    """One non-equivalent component of two earns half, and the message names it."""
    item = submit(hw_key, {"q2a.grad_f": ["4(2x+3y)", "6(2x+3)"]}).item("q2a.grad_f")
    assert (item.status, item.score) == ("partial", 3.0)
    assert "∂f/∂y" in item.message


@pytest.mark.parametrize(
    ("answer", "expected_form"),
    [
        ("[[2, 2], [3, 16]]", "json-style list in a string"),
        ("2 2; 3 16", "MATLAB-style"),
        ("[2, 2; 3, 16]", "MATLAB-style with brackets and commas"),
        ([["2", "2"], ["3", "16"]], "numbers as strings"),
        ([[2, 2], ["3", "4^2"]], "an arithmetic expression for a number"),
    ],
)
def test_matrix_answers_in_every_accepted_form(
    hw_key: AnswerKey, answer: Any, expected_form: str
) -> None:
    """A matrix may be written as a list, in MATLAB style, or with numbers as text."""
    assert submit(hw_key, {"q2b.DF": answer}).item("q2b.DF").status == "correct", expected_form


def test_arithmetic_in_a_number_is_evaluated_safely(hw_key: AnswerKey) -> None:
    """ŷ written as the arithmetic that computes it is read as its value."""
    answer = "0.01 + 0.02*sigmoid(0.09) + 0.03*sigmoid(0.08) + 0.04*exp(0.07)/(1+exp(0.07))"
    item = submit(hw_key, {"q2d.yhat": answer}).item("q2d.yhat")
    assert item.status == "correct"
    assert item.read == pytest.approx(float(hw_key["q2d.yhat"].expected), rel=1e-12)


def test_wrong_shape_is_unreadable_with_what_was_read_and_expected(hw_key: AnswerKey) -> None:
    """A vector of 3 where a 3×3 matrix is asked is 'unreadable', not 'wrong', and says why."""
    item = submit(hw_key, {"q1c.dW.x1": [1, 2, 3]}).item("q1c.dW.x1")
    assert item.status == "unreadable" and item.score == 0
    assert item.message == "read a vector of 3, expected a 3×3 matrix"


def test_an_unreadable_entry_names_the_entry(hw_key: AnswerKey) -> None:
    """A word inside a vector makes the item unreadable and points at the entry."""
    item = submit(hw_key, {"q1.yhat": [0.0567, "abc", 0.0572]}).item("q1.yhat")
    assert item.status == "unreadable"
    assert item.message.startswith("entry [1]:")


def test_nan_and_infinity_are_wrong_with_a_message(hw_key: AnswerKey) -> None:
    """Non-finite numbers are read but never right."""
    item = submit(hw_key, {"q2d.yhat": float("nan")}).item("q2d.yhat")
    assert (item.status, item.message) == ("incorrect", "Not a finite number.")
    vector = submit(hw_key, {"q1.yhat": [0.0567, float("inf"), 0.0572]}).item("q1.yhat")
    assert vector.status == "partial" and "not finite" in vector.message


@pytest.mark.parametrize("blank", [None, "", "   ", []])
def test_blank_answers_are_missing(hw_key: AnswerKey, blank: Any) -> None:
    """Nothing, an empty string or an empty list is 'missing', worth 0."""
    item = submit(hw_key, {"q2d.yhat": blank}).item("q2d.yhat")
    assert (item.status, item.score) == ("missing", 0)


def test_column_vector_is_accepted_for_a_vector(hw_key: AnswerKey) -> None:
    """A (4, 1) column is read as the (4,) vector it means."""
    column = [[value] for value in to_plain(hw_key["q1c.dv.x1"].expected)]
    assert submit(hw_key, {"q1c.dv.x1": column}).item("q1c.dv.x1").status == "correct"


def test_a_flat_list_for_a_matrix_is_refused_with_a_hint(hw_key: AnswerKey) -> None:
    """Nine numbers for a 3×3 matrix are ambiguous: the message shows the accepted forms."""
    flat = np.ravel(hw_key["q1c.dW.x1"].expected).tolist()
    item = submit(hw_key, {"q1c.dW.x1": flat}).item("q1c.dW.x1")
    assert item.status == "unreadable" and "row by row" in item.message


def test_sigfigs_rubric_grades_with_its_own_tolerance(wide_key: AnswerKey) -> None:
    """The second rubric (3 significant figures) accepts 3-figure rounding and refuses 2."""
    value = float(wide_key["p1.E"].expected)
    assert submit(wide_key, {"p1.E": float(f"{value:.3g}")}).item("p1.E").status == "correct"
    assert submit(wide_key, {"p1.E": float(f"{value:.2g}")}).item("p1.E").status == "incorrect"


def test_result_json_has_the_contract_fields(hw_key: AnswerKey) -> None:
    """results.jsonl records carry the keys README.md's "What `grade` writes" lists, for
    the student and each item."""
    data = submit(hw_key, {"q1.yhat": [0.0567, 0.0571, 0.0572]}).to_json()
    assert {"student_id", "source", "score", "max_score", "status", "error", "items"} <= set(data)
    assert {"id", "score", "max_score", "status", "message", "diagnoses"} <= set(data["items"][0])
    json.dumps(data, allow_nan=False)


def test_feedback_shows_a_student_id_as_text_not_markup(hw_key: AnswerKey) -> None:
    """A student id with Markdown in it is escaped in the feedback's heading."""
    from grader.render.feedback import render_feedback

    result = grade_submission(Submission("[x](http://evil) <b>", "t", {}), hw_key)
    heading = render_feedback(result, hw_key.rubric).splitlines()[0]
    assert heading.endswith(r"feedback for \[x\](http://evil) \<b\>")


def test_feedback_of_a_huge_answer_is_short(hw_key: AnswerKey) -> None:
    """A million-entry answer is shown clipped, not serialised whole."""
    from grader.render.feedback import inline

    assert len(inline(list(range(1_000_000)))) <= 300


def test_feedback_shows_expected_values_only_when_the_rubric_allows(hw_key: AnswerKey) -> None:
    """Expected values stay out of feedback unless feedback.show_expected is set."""
    from grader import solve
    from grader.render.feedback import render_feedback
    from grader.rubric.models import FeedbackOptions

    wrong = {"q2c.DfG": [10, 131]}
    hidden = render_feedback(submit(hw_key, wrong), hw_key.rubric)
    assert "Expected" not in hidden and "12" not in hidden.split("## `q2c.DfG`")[1]
    shown_rubric = hw_key.rubric.model_copy(
        update={"feedback": FeedbackOptions(show_expected=True)}
    )
    shown_key = solve(shown_rubric)
    shown = render_feedback(submit(shown_key, wrong), shown_rubric)
    assert "- Expected: `[12.0, 131.0]`" in shown
