"""A student's handout (``grader sheet``): the problems with their own numbers, laid out
like the homework, and the answers templates, JSON and CSV, with every answer id and
what it expects (pure: a key in, texts out).

The handout gives each network problem as the homework does (the rows W_1, W_2, ... of
the hidden weights with each entry labelled, then V, then the examples), each function
as written in the rubric, and then, per problem, a table of the answer ids to fill in:
what each asks for, its shape and its points.

The templates are answers files the grader reads like any other: every answer blank
(so a template handed in as it is grades ``missing`` everywhere), the student's own id
in the JSON's ``student_id`` and in the files' names, and what each answer expects in
an ``expects`` entry of the JSON and an ``expects`` column of the CSV, which the readers
skip.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

from grader.grading.compare import describe
from grader.intake.readers import EXPECTS_COLUMN
from grader.intake.values import shape_text
from grader.rubric.models import (
    Answer,
    CompositionAnswer,
    FunctionsProblem,
    GradientAnswer,
    JacobianAnswer,
    NetworkAnswer,
    NetworkProblem,
    Rubric,
    ValueAnswer,
)
from grader.rubric.quantities import QUANTITIES
from grader.solver.key import AnswerKey, KeyEntry

EXPECTS = EXPECTS_COLUMN
"""The JSON key and CSV column of a template that say what each answer expects."""


@dataclass(frozen=True)
class SheetFiles:
    """The names of one student's files, as the handout refers to them."""

    json_name: str
    csv_name: str | None
    """None when the student's id is not a safe file name (the CSV's name is its id)."""


def render_handout(key: AnswerKey, student: str, files: SheetFiles) -> str:
    """The handout of the student whose variant's key is ``key``."""
    rubric = key.rubric
    lines = [f"# {rubric.title}", "", f"**Student: `{student}`**", ""]
    lines += [
        "These are your own numbers: every student has different ones, and your answers "
        "are graded against the values computed from the numbers on this page.",
        "",
    ]
    numbers = _problem_numbers(rubric)
    shown: dict[str, str] = {}
    for name, number in numbers.items():
        problem = rubric.problems[name]
        lines += [f"## Problem {number} (`{name}`)", ""]
        if isinstance(problem, NetworkProblem):
            lines += _network(problem, shown, numbers)
            shown.setdefault(_network_identity(problem), name)
        else:
            lines += _functions(problem)
        lines += ["", "| answer id | give | as | points |", "|---|---|---|---:|"]
        for entry in key:
            if entry.answer.problem == name:
                lines.append(
                    f"| `{entry.answer.id}` | {_asked(entry.answer, rubric)} | "
                    f"{_shape(entry)} | {entry.answer.points:g} |"
                )
        lines.append("")
    lines += _hand_in(key, files)
    return "\n".join(lines).rstrip("\n") + "\n"


def _problem_numbers(rubric: Rubric) -> dict[str, int]:
    """Problems numbered in the order their first answer comes in the rubric."""
    order = list(dict.fromkeys(answer.problem for answer in rubric.answers))
    order += [name for name in rubric.problems if name not in order]
    return {name: number for number, name in enumerate(order, start=1)}


def _network_identity(problem: NetworkProblem) -> str:
    return repr((problem.inputs, problem.hidden, problem.W, problem.v, problem.layers))


def _number(value: float) -> str:
    return f"{value:g}"


def _network(problem: NetworkProblem, shown: dict[str, str], numbers: dict[str, int]) -> list[str]:
    if problem.layers is not None:
        return _layers(problem)
    hidden, W, v = problem.hidden or 0, problem.W or [], problem.v or []
    inputs = " + ".join(f"w_{{j{k}}} x_{k}" for k in range(1, problem.inputs + 1))
    output_sum = "v_0 + " + " + ".join(f"v_{j} z_{j}" for j in range(1, hidden + 1))
    output = f"\\sigma({output_sum})" if problem.output == "sigmoid" else output_sum
    loss = r"\tfrac{1}{2}(\hat{y} - y)^2" if problem.loss.half else r"(\hat{y} - y)^2"
    lines = [
        f"A network with {problem.inputs} inputs, {hidden} hidden sigmoid units and "
        f"a {problem.output or 'linear'} output. Hidden unit j = 1..{hidden}: "
        f"$z_j = \\sigma(w_{{j0}} + {inputs})$, σ the logistic sigmoid; output "
        f"$\\hat{{y}} = {output}$. Loss per example $L = {loss}$.",
        "",
    ]
    earlier = shown.get(_network_identity(problem))
    if earlier is not None:
        lines += [f"The weights are those of Problem {numbers[earlier]}:", ""]
    for j, row in enumerate(W, start=1):
        cells = ", ".join(
            f"\\overset{{w_{{{j}{k}}}}}{{{_number(value)}}}" for k, value in enumerate(row)
        )
        lines += [f"$$W_{j} = ({cells})$$", ""]
    cells = ", ".join(f"\\overset{{v_{k}}}{{{_number(value)}}}" for k, value in enumerate(v))
    lines += [f"$$V = ({cells})$$", ""]
    lines += _examples(problem)
    return lines[:-1]


def _target(y: float | list[float]) -> str:
    return "(" + ", ".join(map(_number, y)) + ")" if isinstance(y, list) else _number(y)


def _examples(problem: NetworkProblem) -> list[str]:
    lines = []
    for i, example in enumerate(problem.examples, start=1):
        x = ", ".join(_number(value) for value in example.x)
        lines += [f"$$x_{i}, y_{i} = [({x}), {_target(example.y)}]$$", ""]
    return lines


def _layers(problem: NetworkProblem) -> list[str]:
    """A network given layer by layer: each layer's activation and weight rows."""
    layers = problem.layers or []
    loss = problem.loss.kind.replace("_", "-")
    if problem.loss.kind == "squared":
        loss = (
            r"$\tfrac{1}{2}\sum_k(\hat{y}_k - y_k)^2$"
            if problem.loss.half
            else (r"$\sum_k(\hat{y}_k - y_k)^2$")
        )
    lines = [
        f"A network with {problem.inputs} inputs and {len(layers)} layers: layer l computes "
        "$a_l = W_l [1; h_{l-1}]$ and $h_l = f_l(a_l)$, with $h_0 = x$ and $\\hat{y} = h_L$; "
        f"row j of $W_l$ is $(w_{{j0}}, w_{{j1}}, …)$, the bias first. Loss per example: {loss}.",
        "",
    ]
    for number, layer in enumerate(layers, start=1):
        lines += [f"Layer {number}: {layer.units} {layer.activation} units.", ""]
        for j, row in enumerate(layer.W, start=1):
            lines += [f"$$W_{{{number}}}[{j}] = ({', '.join(map(_number, row))})$$", ""]
    if problem.training is not None:
        training = problem.training
        lines += [
            f"Training: {training.steps} step(s) of gradient descent on the {training.batch} "
            f"of the per-example gradients, learning rate η = {_number(training.learning_rate)}.",
            "",
        ]
    return lines + _examples(problem)


def _functions(problem: FunctionsProblem) -> list[str]:
    lines = []
    for name, function in problem.functions.items():
        variables = ", ".join(function.variables)
        expr = function.expr if isinstance(function.expr, str) else ", ".join(function.expr)
        value = expr if isinstance(function.expr, str) else f"({expr})"
        lines.append(f"- `{name}({variables}) = {value}`")
    return lines


def _asked(answer: Answer, rubric: Rubric) -> str:
    """What an answer asks for, in words."""
    if isinstance(answer, NetworkAnswer):
        problem = rubric.problems[answer.problem]
        hidden = problem.hidden or 0 if isinstance(problem, NetworkProblem) else 0
        inputs = problem.inputs if isinstance(problem, NetworkProblem) else 0
        known = QUANTITIES[answer.quantity]
        text = known.asked.replace("{h}", str(hidden)).replace("{n}", str(inputs))
        if answer.layer is not None and known.asked_by_layer:
            text = known.asked_by_layer
        text = text.replace("{l}", str(answer.layer or 1))
        selector = answer.example
        if selector is None:
            pass
        elif selector == "all":
            text += ", one per example (examples 1, 2, … in order)"
        elif selector == "sum":
            text += ", summed over the examples"
        elif selector == "mean":
            text += ", averaged over the examples"
        else:
            text += f" for example {selector}"
    elif isinstance(answer, GradientAnswer):
        text = f"∇{answer.function} as expressions in its variables (e.g. `4(2x+3y)`)"
    elif isinstance(answer, JacobianAnswer):
        text = f"the Jacobian D{answer.function}({_point(answer.at)})"
    elif isinstance(answer, ValueAnswer):
        text = f"{answer.function}({_point(answer.at)})"
    elif isinstance(answer, CompositionAnswer):
        text = f"D({answer.outer}∘{answer.inner})({_point(answer.at)})"
    else:  # pragma: no cover - the models list every kind of answer
        text = answer.id
    return f"{answer.title}: {text}" if answer.title else text


def _point(at: Sequence[float]) -> str:
    return ", ".join(_number(value) for value in at)


def _shape(entry: KeyEntry) -> str:
    if entry.flat_expected == () and entry.shape:
        return f"{entry.shape[0]} expressions"
    return shape_text(entry.shape)


def _example(entry: KeyEntry) -> str:
    """How such an answer is written, with letters for the numbers."""
    shape = entry.shape
    if entry.flat_expected == () and shape:
        return "[" + ", ".join(f'"expression {k + 1}"' for k in range(shape[0])) + "]"
    if not shape:
        return "1.234"
    if len(shape) == 1:
        return "[" + ", ".join(f"a{k + 1}" for k in range(shape[0])) + "]"
    rows = (
        "[" + ", ".join(f"a{r + 1}{c + 1}" for c in range(shape[-1])) + "]"
        for r in range(shape[-2])
    )
    matrix = "[" + ", ".join(rows) + "]"
    if len(shape) == 3:  # one matrix per example
        return "[" + ", ".join([matrix] * min(shape[0], 2)) + (", …]" if shape[0] > 2 else "]")
    return matrix


def expects(entry: KeyEntry, rubric: Rubric) -> str:
    """What an answer expects, as the templates say it."""
    return f"{_shape(entry)}: {_asked(entry.answer, rubric)}; write it as {_example(entry)}"


def _hand_in(key: AnswerKey, files: SheetFiles) -> list[str]:
    rubric = key.rubric
    tolerance = describe(rubric.defaults.tolerance)
    lines = ["## Handing in", ""]
    if files.csv_name is not None:
        lines.append(
            f"Fill in **`{files.json_name}`** or **`{files.csv_name}`** (one of them) and hand "
            "it in as your course says, keeping its name."
        )
    else:
        lines.append(
            f"Fill in **`{files.json_name}`** and hand it in as your course says; keep its "
            '`"student_id"` as it is: it says whose numbers you worked with.'
        )
    lines += [
        "Each answer's `expects` says its shape; a vector is written `[a1, a2, a3]`, a "
        "matrix row by row `[[a11, a12], [a21, a22]]` (or `a11 a12; a21 a22` in the CSV), "
        "expressions in quotes. Leave an answer blank rather than guess its shape.",
        "",
        f"Numbers are accepted {tolerance}: give at least four significant figures.",
    ]
    return lines


def template_json(key: AnswerKey, student: str) -> str:
    """The JSON answers template: ``student_id``, every answer blank, and ``expects``."""
    data = {
        "student_id": student,
        "answers": {entry.answer.id: "" for entry in key},
        EXPECTS: {entry.answer.id: expects(entry, key.rubric) for entry in key},
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def template_csv(key: AnswerKey) -> str:
    """The CSV answers template: ``question,answer,expects``, every answer blank."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["question", "answer", EXPECTS])
    writer.writerows([entry.answer.id, "", expects(entry, key.rubric)] for entry in key)
    return buffer.getvalue()
