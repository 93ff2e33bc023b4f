"""Rubric files: the repository's rubrics load, and every kind of mistake an instructor
can make gives one message naming the file, the key path and what was expected."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any, get_args

import pytest
import yaml
from typer.testing import CliRunner

from grader import AnswerKey, Rubric, RubricError, load_rubric, parse_rubric
from grader.cli import app
from grader.grading.display import entry_names
from grader.grading.review.sentences import label
from grader.render.handout import SheetFiles, render_handout
from grader.rubric.models import NetworkQuantity, RelativeTolerance, SigFigsTolerance
from grader.rubric.quantities import QUANTITIES, SHORTHAND_NAMES

from .conftest import RUBRICS

HW = (RUBRICS / "hw.yaml").read_text(encoding="utf-8")


def edited(change: Callable[[dict[str, Any]], None]) -> str:
    """hw.yaml with one change made, as YAML text."""
    data = copy.deepcopy(yaml.safe_load(HW))
    change(data)
    return yaml.safe_dump(data, sort_keys=False)


def test_hw_rubric_has_the_contract_answer_ids_and_totals_100(hw_rubric: Rubric) -> None:
    """hw.yaml names exactly the homework's answer ids (question and quantity), in order,
    worth 100 points."""
    assert [answer.id for answer in hw_rubric.answers] == [
        "q1.yhat", "q1c.dL_dyhat", "q1c.dv.x1", "q1c.dv.x2", "q1c.dv.x3",
        "q1c.dW.x1", "q1c.dW.x2", "q1c.dW.x3", "q1d.dv", "q1d.dW",
        "q2a.grad_f", "q2b.DF", "q2c.DfG", "q2d.yhat", "q2d.dv", "q2d.dW", "q3.dE_dv",
    ]  # fmt: skip
    assert hw_rubric.max_score == 100
    tolerance = hw_rubric.defaults.tolerance
    assert isinstance(tolerance, RelativeTolerance) and tolerance.rtol == 0.02


def test_answer_overrides_inherit_the_rest_of_the_defaults() -> None:
    """An answer's grading overrides replace only the fields they set."""
    rubric = load_rubric(RUBRICS / "wide-sigmoid.yaml")
    special = rubric.grading_for(rubric.answer("p2.DHK"))
    plain = rubric.grading_for(rubric.answer("p1.yhat"))
    assert special.tolerance.mode == "decimals"
    assert special.carried_forward == plain.carried_forward == 0.5
    assert isinstance(plain.tolerance, SigFigsTolerance)


def test_models_are_frozen(hw_rubric: Rubric) -> None:
    """A loaded rubric cannot be changed by accident."""
    with pytest.raises(Exception, match="frozen"):
        hw_rubric.title = "changed"  # type: ignore[misc]


NAMES = (
    "functions: abs, acos, arccos, arcsin, arctan, asin, atan, cos, cosh, exp, ln, log, "
    "sigmoid, sin, sinh, sqrt, tan, tanh; constants: e, pi"
)
BAD = {
    "unknown-key": (
        edited(lambda d: d["problems"]["net"].update(halff=True)),
        "hw.yaml: problems.net.halff: unknown key 'halff' (allowed here: W, examples, hidden, "
        "inputs, kind, layers, loss, output, training, v)",
    ),
    "W-does-not-fit-sizes": (
        edited(lambda d: d["problems"]["net"].update(W=[[0.1, 0.2]] * 3)),
        "hw.yaml: problems.net.W: W has shape (3, 2), expected (3, 3) = (hidden, inputs + 1): "
        "row j is (w_j0 bias, w_j1, ..., w_j2)",
    ),
    "v-does-not-fit-sizes": (
        edited(lambda d: d["problems"]["net"].update(v=[0.1, 0.2])),
        "hw.yaml: problems.net.v: v has 2 entries, expected 4 = hidden + 1 (v0 bias first)",
    ),
    "unknown-function": (
        edited(
            lambda d: d["problems"]["calc"]["functions"]["f"].update(expr="(2x + 3y)^2 + sec(x)")
        ),
        "hw.yaml: problems.calc.functions.f.expr: expression '(2x + 3y)^2 + sec(x)': unknown name "
        f"'sec' at position 15; allowed variables: x, y; {NAMES}",
    ),
    "unknown-variable": (
        edited(lambda d: d["problems"]["calc"]["functions"]["F"].update(expr=["x^2 + 2z", "3x"])),
        "hw.yaml: problems.calc.functions.F.expr[0]: expression 'x^2 + 2z': unknown name 'z' at "
        f"position 8; allowed variables: x, y; {NAMES}",
    ),
    "duplicate-answer-id": (
        edited(lambda d: d["answers"][3].update(id="q1c.dv.x1")),
        "hw.yaml: answers[3].id: duplicate answer id 'q1c.dv.x1' (first at answers[2])",
    ),
    "answer-names-missing-problem": (
        edited(lambda d: d["answers"][0].update(problem="nett")),
        "hw.yaml: answers[0].problem: no problem named 'nett' (problems: net, calc, vecgraph, "
        "net_sigmoid)",
    ),
    "answer-names-missing-quantity": (
        edited(lambda d: d["answers"][0].update(quantity="yhatt")),
        "hw.yaml: answers[0].quantity: expected one of: yhat, dL_dyhat, loss, hidden, dv, dW, "
        "preactivation, activation, delta, W_after, v_after, loss_after, "
        "gradient, jacobian, hessian, value, composition_derivative; got 'yhatt'",
    ),
    "answer-names-missing-function": (
        edited(lambda d: d["answers"][11].update(function="H")),
        "hw.yaml: answers[11].function: no function named 'H' in problem 'calc' "
        "(functions: f, F, G)",
    ),
    "example-out-of-range": (
        edited(lambda d: d["answers"][2].update(example=4)),
        "hw.yaml: answers[2].example: example 4 does not exist (problem 'net' has examples 1 to 3)",
    ),
    "negative-points": (
        edited(lambda d: d["answers"][0].update(points=-1)),
        "hw.yaml: answers[0].points: must be ≥ 0, got -1",
    ),
    "negative-tolerance": (
        edited(lambda d: d["defaults"]["tolerance"].update(rtol=-0.1)),
        "hw.yaml: defaults.tolerance.rtol: must be ≥ 0, got -0.1",
    ),
    "yaml-does-not-parse": (
        HW.replace("    kind: network\n", "    kind: network\n   bad: [1, 2\n", 1),
        "hw.yaml: line 19, column 4: YAML does not parse: expected <block end>, but found "
        "'<block mapping start>'",
    ),
    "no-answers": (
        edited(lambda d: d.update(answers=[])),
        "hw.yaml: answers: must have at least 1 entry, got none",
    ),
    "not-a-mapping": (
        "- just\n- a list\n",
        "hw.yaml: a rubric must be a mapping of keys, got list",
    ),
    "missing-schema-version": (
        HW.replace("schema_version: 1\n", ""),
        "hw.yaml: schema_version: is required but missing",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_invalid_rubric_gives_one_line_message(case: str) -> None:
    """Each invalid rubric raises RubricError with exactly the pinned one-line message."""
    text, message = BAD[case]
    with pytest.raises(RubricError) as caught:
        parse_rubric(text, source="hw.yaml")
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_invalid_rubric_exits_2_with_the_message_and_no_traceback(tmp_path: Any) -> None:
    """`grader key` on a bad rubric prints the message on stderr and exits 2."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD["negative-points"][0], encoding="utf-8")
    result = CliRunner().invoke(app, ["key", "--rubric", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: answers[0].points: must be ≥ 0, got -1" in result.stderr
    assert "Traceback" not in result.output


def test_missing_rubric_file_is_a_rubric_error(tmp_path: Any) -> None:
    """A rubric path that does not exist is named in the error."""
    with pytest.raises(RubricError, match="file not found"):
        load_rubric(tmp_path / "nope.yaml")


def test_schema_command_prints_the_rubric_json_schema() -> None:
    """`grader schema` prints a JSON Schema with the rubric's top-level keys."""
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert set(schema["required"]) >= {"schema_version", "title", "problems", "answers"}
    assert schema["properties"]["schema_version"]["const"] == 1


# --------------------------------------------------------------------------- duplicate keys
def _twice(after: str, line: str) -> str:
    """hw.yaml with ``line`` inserted after the first line that starts with ``after``."""
    lines = HW.splitlines(keepends=True)
    at = next(i for i, text in enumerate(lines) if text.startswith(after)) + 1
    return "".join([*lines[:at], line, *lines[at:]])


def _line_of(text: str, start: str, nth: int = 0) -> int:
    return [i for i, t in enumerate(text.splitlines(), 1) if t.startswith(start)][nth]


@pytest.mark.parametrize(
    ("after", "extra", "key_path", "key"),
    [
        # a function defined twice
        ('      f: {variables: [x, y], expr: "(2x + 3y)^2"}', '      f: {variables: [x], '
         'expr: "x"}\n', "problems.calc.functions", "f"),
        # a problem defined twice
        ("  calc:", "", "problems", "calc"),
        # a top-level key given twice
        ("title:", 'title: "again"\n', "", "title"),
        # a tolerance key given twice inside a flow mapping's block parent
        ("  tolerance:", "  partial_credit: all_or_nothing\n", "defaults", "partial_credit"),
    ],
)  # fmt: skip
def test_a_key_given_twice_refuses_the_rubric_naming_the_key_and_both_lines(
    after: str, extra: str, key_path: str, key: str
) -> None:
    """YAML would keep the last value silently; the rubric is refused instead."""
    if after == "  calc:":  # the whole problem again, under the same name
        text = HW.replace(
            "\n  # Problem 2d",
            "\n  calc:\n    kind: functions\n    functions:\n"
            '      g: {variables: [x], expr: "x"}\n\n  # Problem 2d',
            1,
        )
    else:
        text = _twice(after, extra)
    prefix = extra.split(":")[0] + ":" if extra else after
    first, second = _line_of(text, prefix), _line_of(text, prefix, 1)
    with pytest.raises(RubricError) as caught:
        parse_rubric(text, source="hw.yaml")
    where = f"{key_path}: " if key_path else ""
    assert str(caught.value) == (
        f"hw.yaml: {where}the key '{key}' is given twice, at line {first} and at line "
        f"{second} (keep one)"
    )


def test_a_key_twice_inside_a_flow_mapping_is_refused() -> None:
    """{id: a, points: 1, points: 2} in one answer is refused too."""
    text = HW.replace("example: 1, points: 6}", "example: 1, points: 6, points: 60}", 1)
    with pytest.raises(RubricError, match=r"answers\[2\]: the key 'points' is given twice, at "):
        parse_rubric(text, source="hw.yaml")


def test_merge_keys_are_not_duplicates_and_only_plain_data_is_built() -> None:
    """`<<: *net` and overriding a merged key are fine (hw.yaml uses both); a Python tag is
    still refused as by yaml.safe_load."""
    rubric = parse_rubric(HW)
    assert rubric.problems["net_sigmoid"].output == "sigmoid"  # type: ignore[union-attr]
    with pytest.raises(RubricError, match="YAML does not parse"):
        parse_rubric("title: !!python/object/apply:os.system ['true']\n")


def test_the_quantity_table_lists_every_network_quantity_in_the_rubric_s_order() -> None:
    """rubric.quantities has one row per quantity a rubric may ask of a network."""
    assert list(QUANTITIES) == list(get_args(NetworkQuantity))
    assert SHORTHAND_NAMES[("dW", 2)] == "dv" and SHORTHAND_NAMES[("activation", 1)] == "hidden"


def test_sentences_entry_names_and_handouts_read_the_one_quantity_table(
    hw_key: AnswerKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quantity's words, entry symbol and handout text changed in the table change the
    feedback's name for the answer, its entries' names and the handout alike."""
    entry = hw_key["q1c.dv.x1"]
    before = (label(entry), entry_names(entry, hw_key.rubric))
    assert before == ("∂L/∂v", ("∂L/∂v₀", "∂L/∂v₁", "∂L/∂v₂", "∂L/∂v₃"))
    changed = replace(QUANTITIES["dv"], words="∂L/∂(v)", entry="∂L/∂u", asked="the v gradient")
    monkeypatch.setitem(QUANTITIES, "dv", changed)
    assert label(entry) == "∂L/∂(v)"
    assert entry_names(entry, hw_key.rubric) == ("∂L/∂u₀", "∂L/∂u₁", "∂L/∂u₂", "∂L/∂u₃")
    handout = render_handout(hw_key, "ada", SheetFiles("ada.json", "ada.csv"))
    assert "the v gradient for example 1" in handout
