"""Each diagnosis in one sentence a student can act on.

Sentences say what the answer shows and what to check, in the homework's notation; they
name entries and other answer ids, never an expected value (the feedback shows those
only if the rubric allows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from grader.grading.compare import describe
from grader.grading.display import entry_name, summarised
from grader.grading.review.diagnosis import Alternative, indices
from grader.rubric.activations import ACTIVATIONS
from grader.rubric.models import (
    CompositionAnswer,
    JacobianAnswer,
    NetworkAnswer,
    NetworkProblem,
    Rubric,
    ValueAnswer,
)
from grader.rubric.quantities import QUANTITIES, input_symbol
from grader.solver.key import KeyEntry


@dataclass(frozen=True)
class Finding:
    """An alternative that explains some entries of a wrong answer."""

    alternative: Alternative
    claimed: NDArray[np.bool_]
    """The entries it explains."""
    share: float
    """The share of an entry's points each explained entry earns."""
    all_entries: bool
    """True when, with the entries already right, it accounts for the whole answer."""
    exponents: NDArray[np.int64] | None = None
    """For ``power_of_ten``: each entry's k in ×10^k."""
    figures: int = 0
    """For ``too_coarse``: the fewest significant figures the tolerance accepts."""

    @property
    def code(self) -> str:
        return self.alternative.code


def label(entry: KeyEntry) -> str:
    """The answer as the homework names it: its rubric title, else ∂L/∂v, ŷ, DF(1, 2),
    D(F∘G)(2), ... or 'answer'."""
    answer = entry.answer
    if answer.title:  # the instructor's own name for it (problem 3's ∂E/∂v, say)
        return answer.title
    if isinstance(answer, NetworkAnswer):
        return QUANTITIES[answer.quantity].words
    if isinstance(answer, JacobianAnswer):
        return f"D{answer.function}{point_text(answer.at)}"
    if isinstance(answer, CompositionAnswer):
        return f"D({answer.outer}∘{answer.inner}){point_text(answer.at)}"
    if isinstance(answer, ValueAnswer):
        return f"{answer.function}{point_text(answer.at)}"
    return "answer"


def point_text(point: Sequence[float]) -> str:
    """(1, 2) for [1.0, 2.0]: numbers as written, no trailing .0."""
    return "(" + ", ".join(number(c) for c in point) + ")"


def number(value: float) -> str:
    """A number as a student writes it: 2, 0.1, −0.25 (a true minus sign)."""
    text = f"{value:.6g}"
    return text.replace("-", "−")


def sentence(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    """The diagnosis in words, with what it earns when the rubric credits it."""
    code = finding.code.split(":", 1)[0]
    text = _SENTENCES[code](finding, entry, rubric)
    if code != "ecf" and finding.share > 0:
        text += f" This rubric gives {credit_words(finding.share)} for it."
    return text


def credit_words(share: float) -> str:
    if share >= 1:
        return "full credit"
    if share == 0.5:
        return "half credit"
    if share <= 0:
        return "no credit"
    return f"{share:.0%} of the credit"


def _subject(finding: Finding, entry: KeyEntry, rubric: Rubric, verb: str) -> str:
    """'Your ∂L/∂v has' for the whole answer, '∂L/∂v₁ and ∂L/∂v₃ have' for some entries."""
    if finding.all_entries:
        return f"Your {label(entry)} {verb}"
    places = [entry_name(entry, rubric, index) for index in indices(finding.claimed)]
    plural_verb = {"has": "have", "is": "are", "leaves": "leave", "uses": "use"}.get(verb, verb)
    if len(places) == 1:
        return f"{_capital(places[0])} {verb}"
    return f"{_capital(summarised(places))} {plural_verb}"


def _given(finding: Finding) -> str:
    sources = finding.alternative.sources
    return f" (given your answer to {join(sources)})" if sources else ""


def _ecf(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    sources = finding.alternative.sources
    which = "which was" if len(sources) == 1 else "which were"
    where = f"answer to {sources[0]}" if len(sources) == 1 else f"answers to {join(sources)}"
    credit = credit_words(finding.share)
    if credit == "no credit":
        credit = "no credit under this rubric"
    if finding.all_entries:
        return f"Right given your {where}, {which} wrong: {credit} for this step."
    return (
        f"{_subject(finding, entry, rubric, 'is')} right given your {where}, {which} wrong: "
        f"{credit}."
    )


def _sign_flip(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    answer = entry.answer
    gradient = isinstance(answer, NetworkAnswer) and QUANTITIES[answer.quantity].gradient
    if gradient and finding.all_entries:
        hint = "check whether you used ŷ − y or y − ŷ"
    else:
        hint = "check the signs in your working"
    subject = _subject(finding, entry, rubric, "has")
    return f"{subject} the right size but the wrong sign: {hint}."


def _power_of_ten(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    exponents = finding.exponents
    places = []
    for index in indices(finding.claimed):
        k = int(exponents[index]) if exponents is not None else 1
        size = f"{10 ** abs(k)} times too {'large' if k > 0 else 'small'}"
        places.append(f"{entry_name(entry, rubric, index)} ({size})" if entry.shape else size)
    where = f"in {summarised(places)}" if entry.shape else f"({places[0]})"
    return (
        f"The decimal point is misplaced {where}: the digits are right, check where the point goes."
    )


def _transposed(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    del finding, rubric
    answer = entry.answer
    if isinstance(answer, NetworkAnswer) and answer.quantity == "dW":
        hint = "row j holds hidden unit j's derivatives (∂L/∂w_j0, ∂L/∂w_j1, …)"
    elif answer.quantity in ("jacobian", "composition_derivative"):
        hint = "in a Jacobian, row i is output i and column j is variable j"
    else:
        hint = "check which index runs down the rows"
    return f"Your {label(entry)} is transposed (rows and columns swapped): {hint}."


def _factor_two(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    problem = rubric.problems.get(entry.answer.problem)
    half = isinstance(problem, NetworkProblem) and problem.loss.half
    subject = _subject(finding, entry, rubric, "is")
    size = "twice" if half else "half"
    loss = isinstance(entry.answer, NetworkAnswer) and entry.answer.quantity == "loss"
    if loss:
        rule = "keep the ½ of ½(ŷ − y)²" if half else "this loss is (ŷ − y)², with no ½"
    elif half:
        rule = "the ½ in ½(ŷ − y)² cancels the 2 of the square, so ∂L/∂ŷ = ŷ − y"
    else:
        rule = "this loss is (ŷ − y)² with no ½, so ∂L/∂ŷ = 2(ŷ − y)"
    return f"{subject} {size} the right value{_given(finding)}: {rule}."


def _missing_bias(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    del rubric
    mistake = finding.alternative.mistake
    if mistake is not None and mistake.name == "bias_entries":
        return (
            f"Your {label(entry)} leaves out the bias entries{_given(finding)} (∂L/∂v0 in "
            "∂L/∂v, the ∂L/∂w_j0 column in ∂L/∂W): give one entry per weight, biases included."
        )
    return (
        f"Your {label(entry)} leaves out the bias{_given(finding)}: v0 and each w_j0 multiply "
        "an input fixed at 1, so they belong in the forward pass and in the gradient."
    )


def _wrong_derivative(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    mistake = finding.alternative.mistake
    what = _derivative_words(mistake.name if mistake else "", entry, rubric)
    return f"Your {label(entry)} {what}{_given(finding)}."


def _activations(problem: object) -> tuple[list[str], str]:
    """The hidden layers' activations and the output's of a network problem."""
    if not isinstance(problem, NetworkProblem):
        return [], "linear"
    if problem.layers is None:
        return ["sigmoid"], problem.output or "linear"
    return [layer.activation for layer in problem.layers[:-1]], problem.layers[-1].activation


def _derivative_words(name: str, entry: KeyEntry, rubric: Rubric) -> str:
    """What the wrong derivative is, in the table's symbols for this problem."""
    hidden, output = _activations(rubric.problems.get(entry.answer.problem))
    kind, _, detail = name.partition(":")
    if kind == "hidden_wrong":
        act = ACTIVATIONS[detail]
        return (
            f"uses {act.wrong_text} where the hidden units' derivative "
            f"{act.derivative_text} belongs"
        )
    if kind == "hidden_one":
        kinds = [ACTIVATIONS[each] for each in dict.fromkeys(hidden) if each != "linear"]
        words = " and ".join(act.derivative_text for act in kinds) or "f′"
        return f"leaves out the hidden units' derivative {words} in the chain rule"
    act = ACTIVATIONS[output]
    if kind == "output_wrong":
        return (
            f"uses {act.wrong_text} where the {act.name} output's derivative "
            f"{act.output_derivative_text} belongs"
        )
    if kind == "output_one":
        return (
            f"leaves out the {act.name} output's derivative {act.output_derivative_text} "
            "in the chain rule"
        )
    if kind == "dyhat_dz":
        return "uses z_j for ∂ŷ/∂z_j, which is the weight v_j"
    return "uses a wrong derivative in one step"


def _weights_transposed(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    del rubric
    mistake = finding.alternative.mistake
    layer = mistake.detail if mistake else "?"
    h = input_symbol(int(layer)) if layer.isdigit() else "h"
    return (
        f"Your {label(entry)} is what layer {layer}'s weights give used transposed"
        f"{_given(finding)}: row j of W holds unit j's weights (w_j0 bias, w_j1, …), "
        f"so a_j = w_j0 + Σ_k w_jk·{h}_k."
    )


def _step_uphill(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    del rubric
    return (
        f"Your {label(entry)} steps uphill{_given(finding)}: gradient descent subtracts "
        "the gradient, W − η·∂L/∂W, not W + η·∂L/∂W."
    )


def _no_step(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    del rubric
    return (
        f"Your {label(entry)} is the weights before the step{_given(finding)}: apply "
        "W − η·∂L/∂W to every weight."
    )


def _step_mean_for_sum(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    problem = rubric.problems.get(entry.answer.problem)
    training = problem.training if isinstance(problem, NetworkProblem) else None
    asked = training.batch if training else "sum"
    used = "mean" if asked == "sum" else "sum"
    return (
        f"Your {label(entry)} steps along the {used} of the per-example gradients"
        f"{_given(finding)}; this training step uses their {asked}."
    )


def _learning_rate(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    problem = rubric.problems.get(entry.answer.problem)
    training = problem.training if isinstance(problem, NetworkProblem) else None
    eta = f" η = {training.learning_rate:g}" if training else ""
    return (
        f"Your {label(entry)} is a step along the right gradient with another step "
        f"size{_given(finding)}: use the learning rate{eta}."
    )


def _other_answer(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    other = finding.code.split(":", 1)[1]
    title = next((a.title for a in rubric.answers if a.id == other and a.title), None)
    named = f"{other} ({title})" if title else other
    if finding.alternative.sources:  # the student's own answer to it, slips and all
        return (
            f"This is your own answer to {named}, copied with its slips; that value belongs "
            f"to {other}, not to {entry.answer.id}: check which part is asked here."
        )
    detail = finding.alternative.detail
    if detail and detail[0] == "slips":
        _, where, exponents = detail
        signs = [entry_name(entry, rubric, i) for i in indices(where & (exponents == 0))]
        points = [entry_name(entry, rubric, i) for i in indices(where & (exponents != 0))]
        slips = []
        if points:
            slips.append(f"the decimal point slipped in {summarised(points)}")
        if signs:
            slips.append(f"the sign flipped in {summarised(signs)}")
        return (
            f"This is the value that belongs to {named}, not to {entry.answer.id}, with "
            f"{' and '.join(slips)}: check which part is asked here."
        )
    return (
        f"This is the value that belongs to {named}, not to {entry.answer.id}: "
        "check which part is asked here."
    )


def _too_coarse(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    rule = describe(entry.grading.tolerance)
    return (
        f"{_subject(finding, entry, rubric, 'is')} rounded more coarsely than the tolerance "
        f"({rule}) allows: give at least {finding.figures} significant figures."
    )


def _misordered(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    detail = finding.alternative.detail
    kind, axis = str(detail[0]), int(detail[1])
    items = _along(entry, rubric, axis)
    stacked = isinstance(entry.answer, NetworkAnswer) and entry.answer.example == "all"
    if stacked and axis == 0:
        what = "examples"
    elif len(entry.shape) == 1:
        what = "entries"
    else:
        what = "columns" if axis == len(entry.shape) - 1 else "rows"
    if kind == "first_last":
        how = f"the first of the {what}, {items[0]}, is written last"
    elif kind == "last_first":
        how = f"the last of the {what}, {items[-1]}, is written first"
    elif kind == "reversed":
        how = f"the {what} are in reverse order"
    elif kind == "swapped":
        how = f"{items[int(detail[2])]} and {items[int(detail[3])]} are swapped"
    else:
        how = "the entries are filled in column by column, where rows come first"
    order = ", ".join(items)
    return (
        f"Your {label(entry)} has the right values in another order: {how}. "
        f"The order asked is ({order})."
    )


def _along(entry: KeyEntry, rubric: Rubric, axis: int) -> list[str]:
    """What lies along one axis of the answer, named: its entries for a vector, example i
    for the examples of an answer over all of them, ∂L/∂w_j0 … for the columns of ∂L/∂W."""
    shape = entry.shape
    stacked = isinstance(entry.answer, NetworkAnswer) and entry.answer.example == "all"
    if stacked and axis == 0:
        return [f"example {i + 1}" for i in range(shape[0])]
    if len(shape) == 1:
        return [entry_name(entry, rubric, (i,)) for i in range(shape[0])]
    answer = entry.answer
    if axis == len(shape) - 1 and isinstance(answer, NetworkAnswer) and answer.quantity == "dW":
        loss = entry_name(entry, rubric, (0,) * len(shape)).split("/")[0]
        return [f"{loss}/∂w_j{k}" for k in range(shape[axis])]
    if axis == len(shape) - 1:
        return [f"column {k + 1}" for k in range(shape[axis])]
    return [f"row {k + 1}" for k in range(shape[axis])]


def _mean_for_sum(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    if finding.alternative.mistake is not None:  # the training step on the other batch
        return _step_mean_for_sum(finding, entry, rubric)
    count = int(finding.alternative.detail[0]) if finding.alternative.detail else 0
    n = f"the {count} examples" if count else "the examples"
    return (
        f"Your {label(entry)} is the mean over {n}{_given(finding)}, not their sum: the "
        f"batch quantity asked is the sum Σ over the examples (yours is divided by {count})."
    )


def _sum_for_mean(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    if finding.alternative.mistake is not None:  # the training step on the other batch
        return _step_mean_for_sum(finding, entry, rubric)
    count = int(finding.alternative.detail[0]) if finding.alternative.detail else 0
    n = f"the {count} examples" if count else "the examples"
    return (
        f"Your {label(entry)} is the sum over {n}{_given(finding)}, not their mean: "
        f"divide the sum by the number of examples, {count}."
    )


def _constant_multiple(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    del rubric
    c = float(finding.alternative.detail[0])
    answer = entry.answer
    gradient = isinstance(answer, NetworkAnswer) and QUANTITIES[answer.quantity].gradient
    lead = f"Every entry of your {label(entry)} is {number(c)} times the right value"
    if gradient and -1 < c < 0:
        return (
            f"{lead}: this is the weight update −η·∇ with η = {number(-c)}, not the "
            "gradient itself; give the gradient."
        )
    if gradient and 0 < c < 1:
        return f"{lead}: this is the step η·∇ with η = {number(c)}, not the gradient; give ∇."
    return f"{lead}: look for one constant factor too many (or too few) in your working."


def _missing_input_factor(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    del rubric
    loss = "E" if label(entry).startswith("∂E") else "L"
    answer = entry.answer
    layer = answer.layer or 1 if isinstance(answer, NetworkAnswer) else 1
    h = input_symbol(layer)  # the layer's input: x at the first layer, h above it
    return (
        f"Your {label(entry)} has δ_j in every column{_given(finding)}: ∂{loss}/∂w_jk = "
        f"δ_j·{h}_k needs the input factor {h}_k (1 for the bias column w_j0)."
    )


_PREACTIVATION = {
    "preactivation_forward": "is computed with the hidden pre-activations a_j = w_j·[1, x] "
    "where the activations z_j = f(a_j) belong, from the forward pass on (apply the "
    "activation to each hidden unit)",
    "preactivation_below": "uses the pre-activations a_j = w_j·[1, x] of the layer below "
    "where its activations z_j = f(a_j) belong (∂ŷ/∂v_j = z_j)",
    "preactivation_hidden": "computes the hidden units' derivative with the pre-activation "
    "a_j put for z_j = f(a_j) (σ′ as a_j(1 − a_j)): σ′(a_j) = z_j(1 − z_j)",
    "preactivation_output": "computes the output's derivative with its pre-activation s "
    "put for ŷ = f(s) (ŷ(1 − ŷ) as s(1 − s))",
}


def _preactivation(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    del rubric
    mistake = finding.alternative.mistake
    what = _PREACTIVATION.get(
        mistake.name if mistake else "", "uses a pre-activation where its σ belongs"
    )
    return f"Your {label(entry)} {what}{_given(finding)}."


def _wrong_point(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    del rubric
    point, whose, own = finding.alternative.detail
    answer = entry.answer
    if whose == "reversed":
        why = "the point with its coordinates swapped"
    elif whose == "t":
        why = "t itself"
    else:
        why = f"the point of {whose}"
    at = f"{point_text(point)} ({why})"
    if isinstance(answer, CompositionAnswer):
        inner = f"{answer.inner}{point_text(answer.at)}"
        return (
            f"Your {label(entry)} takes D{answer.outer} at {at} instead of at {inner} = "
            f"{point_text(own)}: the chain rule takes the outer derivative at the inner "
            "function's value."
        )
    return (
        f"Your {label(entry)} is evaluated at {at} instead of at {point_text(own)}: "
        "put this answer's own point into the derivative."
    )


def _chain_order(finding: Finding, entry: KeyEntry, rubric: Rubric) -> str:
    del finding, rubric
    answer = entry.answer
    if isinstance(answer, CompositionAnswer):
        f, g, t = answer.outer, answer.inner, point_text(answer.at)
        rule = f"D({f}∘{g}){t} = D{f}({g}{t})·D{g}{t}, the outer Jacobian on the left"
    else:
        rule = "the outer function's Jacobian comes first, on the left"
    product = (
        f"D{answer.inner}ᵀ·D{answer.outer}" if isinstance(answer, CompositionAnswer) else "DGᵀ·DF"
    )
    return (
        f"Your {label(entry)} multiplies the chain rule in the wrong order (the transposed "
        f"product {product}): {rule}."
    )


_SENTENCES = {
    "ecf": _ecf,
    "sign_flip": _sign_flip,
    "power_of_ten": _power_of_ten,
    "transposed": _transposed,
    "factor_two": _factor_two,
    "missing_bias": _missing_bias,
    "wrong_derivative": _wrong_derivative,
    "other_answer": _other_answer,
    "too_coarse": _too_coarse,
    "weights_transposed": _weights_transposed,
    "step_uphill": _step_uphill,
    "no_step": _no_step,
    "learning_rate": _learning_rate,
    "misordered": _misordered,
    "mean_for_sum": _mean_for_sum,
    "sum_for_mean": _sum_for_mean,
    "constant_multiple": _constant_multiple,
    "missing_input_factor": _missing_input_factor,
    "preactivation_for_activation": _preactivation,
    "wrong_point": _wrong_point,
    "chain_order": _chain_order,
}


def join(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
