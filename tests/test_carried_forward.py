"""Error carried forward: an answer that is wrong, but right given the student's own
earlier wrong answers, earns the rubric's carried-forward share, entry by entry, and says
which earlier answer the error came from. Every submission here is the solver's values,
with earlier answers perturbed and later ones recomputed from them on the solver's graph."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader import AnswerKey, StudentResult, Submission, grade_submission, solve
from grader.render.feedback import render_feedback
from grader.solver.graph import Value
from grader.solver.key import to_plain


def grade(key: AnswerKey, answers: dict[str, Any]) -> StudentResult:
    plain = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in answers.items()}
    return grade_submission(Submission("s", "test", plain), key)


def right(key: AnswerKey, *answer_ids: str) -> dict[str, Any]:
    """The key's values for these answer ids."""
    return {answer_id: to_plain(key[answer_id].expected) for answer_id in answer_ids}


def recomputed(key: AnswerKey, answer_id: str, given: dict[str, Any]) -> np.ndarray:
    """The answer computed on the key's graph from the student's ``given`` answers."""
    overrides: dict[str, Value] = {
        key[other].node: np.array(value, dtype=np.float64) for other, value in given.items()
    }
    return np.array(key.graph.evaluate(key[answer_id].node, overrides), dtype=np.float64)


def perturbed(key: AnswerKey, answer_id: str, factor: float, index: Any = ...) -> np.ndarray:
    value = np.array(key[answer_id].expected, dtype=np.float64)
    value[index] = value[index] * factor
    return value


def with_grading(key: AnswerKey, **grading: Any) -> AnswerKey:
    rubric = key.rubric
    return solve(rubric.model_copy(update={"defaults": rubric.defaults.model_copy(update=grading)}))


# --- hw.yaml: full credit for a step right given an earlier wrong one --------------------


def test_dl_dyhat_from_a_wrong_yhat_earns_full_credit(hw_key: AnswerKey) -> None:
    """∂L/∂ŷ computed from a wrong ŷ (example 2's ŷ far off) is ecf: full credit in
    hw.yaml, and the message names q1.yhat."""
    yhat = perturbed(hw_key, "q1.yhat", 60.0, 1)
    dl = recomputed(hw_key, "q1c.dL_dyhat", {"q1.yhat": yhat})
    result = grade(hw_key, {"q1.yhat": yhat, "q1c.dL_dyhat": dl})
    assert result.item("q1.yhat").status == "partial"
    item = result.item("q1c.dL_dyhat")
    assert (item.status, item.score, item.diagnoses) == ("partial", 6.0, ("ecf",))
    assert item.carried_forward_from == ("q1.yhat",)
    assert "Right given your answer to q1.yhat, which was wrong: full credit" in item.message


def test_a_chain_of_steps_each_credits_from_the_nearest_wrong_answer(hw_key: AnswerKey) -> None:
    """∂L/∂ŷ wrong for example 1; ∂L/∂v, ∂L/∂W of example 1 and the batch sums computed
    from it: each is ecf, and names the nearest earlier answer (the sums name the
    per-example gradient, not ∂L/∂ŷ behind it)."""
    dl = perturbed(hw_key, "q1c.dL_dyhat", 1.5, 0)
    given: dict[str, Any] = {"q1c.dL_dyhat": dl}
    for answer_id in ("q1c.dv.x1", "q1c.dW.x1"):
        given[answer_id] = recomputed(hw_key, answer_id, {"q1c.dL_dyhat": dl})
    given |= right(hw_key, "q1c.dv.x2", "q1c.dv.x3", "q1c.dW.x2", "q1c.dW.x3")
    given["q1d.dv"] = recomputed(hw_key, "q1d.dv", {"q1c.dv.x1": given["q1c.dv.x1"]})
    given["q1d.dW"] = recomputed(hw_key, "q1d.dW", {"q1c.dW.x1": given["q1c.dW.x1"]})
    result = grade(hw_key, given)
    assert result.item("q1c.dL_dyhat").diagnoses == ()
    for answer_id, source in [
        ("q1c.dv.x1", "q1c.dL_dyhat"),
        ("q1c.dW.x1", "q1c.dL_dyhat"),
        ("q1d.dv", "q1c.dv.x1"),
        ("q1d.dW", "q1c.dW.x1"),
    ]:
        item = result.item(answer_id)
        assert item.diagnoses == ("ecf",), answer_id
        assert item.carried_forward_from == (source,), answer_id
        assert item.score == item.max_score
    assert result.item("q1c.dv.x2").status == "correct"


def test_part_2d_carries_forward_from_its_own_yhat_not_problem_1s(hw_key: AnswerKey) -> None:
    """q2d.* are computed from q2d.yhat (problem vecgraph), so a wrong q1.yhat is no excuse
    for them, and a wrong q2d.yhat is."""
    yhat = float(hw_key["q2d.yhat"].expected) + 3.0
    dv = recomputed(hw_key, "q2d.dv", {"q2d.yhat": yhat})
    dW = recomputed(hw_key, "q2d.dW", {"q2d.yhat": yhat})
    own = grade(hw_key, {"q2d.yhat": yhat, "q2d.dv": dv, "q2d.dW": dW})
    for answer_id in ("q2d.dv", "q2d.dW"):
        item = own.item(answer_id)
        assert (item.diagnoses, item.carried_forward_from) == (("ecf",), ("q2d.yhat",))
        assert item.score == item.max_score
    q1 = perturbed(hw_key, "q1.yhat", 1.0)
    q1[0] = yhat
    borrowed = grade(hw_key, {"q1.yhat": q1, **right(hw_key, "q2d.yhat"), "q2d.dv": dv})
    assert (borrowed.item("q2d.dv").score, borrowed.item("q2d.dv").diagnoses) == (0, ())


def test_carried_forward_credit_is_entry_by_entry(hw_key: AnswerKey) -> None:
    """ŷ wrong for example 2 only: ∂L/∂ŷ with entry 2 carried forward and entry 3 a new
    slip earns entry 1 (right) and entry 2 (ecf), not entry 3."""
    yhat = perturbed(hw_key, "q1.yhat", 60.0, 1)
    dl = recomputed(hw_key, "q1c.dL_dyhat", {"q1.yhat": yhat})
    dl[2] *= 1.5
    item = grade(hw_key, {"q1.yhat": yhat, "q1c.dL_dyhat": dl}).item("q1c.dL_dyhat")
    assert item.diagnoses == ("ecf",)
    assert item.score == pytest.approx(6 * 2 / 3)
    assert "Example 2 is right given your answer to q1.yhat" in item.message
    assert "off: example 2 and example 3" in item.message


def test_one_slip_among_carried_forward_entries_costs_only_that_entry(hw_key: AnswerKey) -> None:
    """∂L/∂W from a wrong ∂L/∂ŷ with one entry also miscopied: 8 of 9 entries earn ecf."""
    dl = perturbed(hw_key, "q1c.dL_dyhat", 2.5, 2)
    dW = recomputed(hw_key, "q1c.dW.x3", {"q1c.dL_dyhat": dl})
    dW[1, 1] *= 1.3
    item = grade(hw_key, {"q1c.dL_dyhat": dl, "q1c.dW.x3": dW}).item("q1c.dW.x3")
    assert item.diagnoses == ("ecf",)
    assert item.score == pytest.approx(8 * 8 / 9)


# --- near misses --------------------------------------------------------------------


def test_a_step_wrong_even_given_the_earlier_answer_is_not_ecf(hw_key: AnswerKey) -> None:
    """∂L/∂v computed from the wrong ∂L/∂ŷ, then 10 % off: no credit, no ecf."""
    dl = perturbed(hw_key, "q1c.dL_dyhat", 1.5, 0)
    dv = 1.1 * recomputed(hw_key, "q1c.dv.x1", {"q1c.dL_dyhat": dl})
    item = grade(hw_key, {"q1c.dL_dyhat": dl, "q1c.dv.x1": dv}).item("q1c.dv.x1")
    assert (item.score, item.diagnoses) == (0, ())


def test_a_step_computed_from_another_wrong_value_is_not_ecf(hw_key: AnswerKey) -> None:
    """∂L/∂v computed from a wrong ∂L/∂ŷ other than the one the student wrote: no ecf."""
    written = perturbed(hw_key, "q1c.dL_dyhat", 1.5, 0)
    used = perturbed(hw_key, "q1c.dL_dyhat", 1.7, 0)
    dv = recomputed(hw_key, "q1c.dv.x1", {"q1c.dL_dyhat": used})
    item = grade(hw_key, {"q1c.dL_dyhat": written, "q1c.dv.x1": dv}).item("q1c.dv.x1")
    assert item.diagnoses == ()


def test_without_the_earlier_answer_there_is_nothing_to_carry(hw_key: AnswerKey) -> None:
    """∂L/∂v computed from a wrong ∂L/∂ŷ the student did not submit: no ecf."""
    dl = perturbed(hw_key, "q1c.dL_dyhat", 1.5, 0)
    dv = recomputed(hw_key, "q1c.dv.x1", {"q1c.dL_dyhat": dl})
    assert grade(hw_key, {"q1c.dv.x1": dv}).item("q1c.dv.x1").diagnoses == ()


def test_an_earlier_error_too_small_to_tell_apart_is_no_excuse(hw_key: AnswerKey) -> None:
    """An earlier answer 3 % off changes the later one by less than separates it clearly
    from the right value: the later one is graded as it stands."""
    dl = perturbed(hw_key, "q1c.dL_dyhat", 1.03, 0)
    dv = recomputed(hw_key, "q1c.dv.x1", {"q1c.dL_dyhat": dl})
    item = grade(hw_key, {"q1c.dL_dyhat": dl, "q1c.dv.x1": dv}).item("q1c.dv.x1")
    assert item.diagnoses == () and item.status == "incorrect"


# --- other rubrics and grading rules ------------------------------------------------


def test_wide_sigmoid_gives_half_credit_for_carried_forward(wide_key: AnswerKey) -> None:
    """wide-sigmoid.yaml: carried_forward 0.5. ∂L/∂ŷ and ∂L/∂v of example 4 from a wrong
    ŷ, the batch ∂L/∂v from a wrong example-4 ∂L/∂v, E from the wrong ŷ: half credit each."""
    yhat = perturbed(wide_key, "p1.yhat", 1.3)
    given: dict[str, Any] = {"p1.yhat": yhat}
    for answer_id in ("p1.dL_dyhat", "p1.dv.x4", "p1.E"):
        given[answer_id] = recomputed(wide_key, answer_id, {"p1.yhat": yhat})
    result = grade(wide_key, given)
    for answer_id in ("p1.dL_dyhat", "p1.dv.x4", "p1.E"):
        item = result.item(answer_id)
        assert (item.diagnoses, item.carried_forward_from) == (("ecf",), ("p1.yhat",))
        assert item.score == pytest.approx(item.max_score / 2), answer_id
        assert "half credit" in item.message
    dv4 = perturbed(wide_key, "p1.dv.x4", 1.5)
    batch = recomputed(wide_key, "p1.dv.batch", {"p1.dv.x4": dv4})
    item = grade(wide_key, {"p1.dv.x4": dv4, "p1.dv.batch": batch}).item("p1.dv.batch")
    assert (item.diagnoses, item.carried_forward_from) == (("ecf",), ("p1.dv.x4",))
    assert item.score == pytest.approx(item.max_score / 2)


def test_wide_sigmoid_mean_gradient_carries_forward_from_the_hidden_activations(
    wide_key: AnswerKey,
) -> None:
    """The mean ∂L/∂W depends on example 2's hidden activations: computed from a wrong
    p1.hidden.x2, it is ecf and names it."""
    hidden = perturbed(wide_key, "p1.hidden.x2", 0.5)
    mean = recomputed(wide_key, "p1.dW.mean", {"p1.hidden.x2": hidden})
    item = grade(wide_key, {"p1.hidden.x2": hidden, "p1.dW.mean": mean}).item("p1.dW.mean")
    assert (item.diagnoses, item.carried_forward_from) == (("ecf",), ("p1.hidden.x2",))


def test_without_carried_forward_credit_ecf_is_named_but_earns_nothing(
    hw_key: AnswerKey,
) -> None:
    """carried_forward: 0 (the schema default): the item still says ecf, scores nothing."""
    key = with_grading(hw_key, carried_forward=0.0)
    dl = perturbed(key, "q1c.dL_dyhat", 1.5, 0)
    dv = recomputed(key, "q1c.dv.x1", {"q1c.dL_dyhat": dl})
    item = grade(key, {"q1c.dL_dyhat": dl, "q1c.dv.x1": dv}).item("q1c.dv.x1")
    assert (item.status, item.score, item.diagnoses) == ("incorrect", 0, ("ecf",))
    assert "no credit" in item.message


def test_all_or_nothing_credits_a_whole_answer_carried_forward(hw_key: AnswerKey) -> None:
    """all_or_nothing with carried_forward 0.5: an answer right throughout given the
    earlier one earns half its points; one with a further slip earns nothing."""
    key = with_grading(hw_key, partial_credit="all_or_nothing", carried_forward=0.5)
    dl = perturbed(key, "q1c.dL_dyhat", 1.5, 0)
    dv = recomputed(key, "q1c.dv.x1", {"q1c.dL_dyhat": dl})
    assert grade(key, {"q1c.dL_dyhat": dl, "q1c.dv.x1": dv}).item("q1c.dv.x1").score == 3.0
    dv[3] *= 1.3
    assert grade(key, {"q1c.dL_dyhat": dl, "q1c.dv.x1": dv}).item("q1c.dv.x1").score == 0


def test_feedback_marks_a_carried_forward_answer(hw_key: AnswerKey) -> None:
    """The feedback shows an ecf answer as right given the earlier answers, with the
    sentence naming the earlier answer."""
    dl = perturbed(hw_key, "q1c.dL_dyhat", 1.5, 0)
    dv = recomputed(hw_key, "q1c.dv.x1", {"q1c.dL_dyhat": dl})
    text = render_feedback(grade(hw_key, {"q1c.dL_dyhat": dl, "q1c.dv.x1": dv}), hw_key.rubric)
    assert "| `q1c.dv.x1` | 🔁 right given your earlier answers | 6 / 6 |" in text
    assert "Right given your answer to q1c.dL_dyhat" in text
