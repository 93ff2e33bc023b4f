"""Per-student variants: the draw, its stability, degenerate draws, and the variant
rubric and key commands."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from grader.cli import app
from grader.errors import RubricError, UsageError
from grader.rubric.load import load_rubric, parse_rubric
from grader.rubric.variants import PathError, get_path, path_steps
from grader.solver.key import solve
from grader.variants.draw import pick, values_of
from grader.variants.identity import normalise_student_id
from grader.variants.keys import VariantKeys, answer_key, student_key
from grader.variants.variant import Template
from tests.conftest import RUBRICS
from tests.test_solver import close_to, mp_network

HW_VARIANTS = RUBRICS / "hw-variants.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def keys() -> VariantKeys:
    return VariantKeys(load_rubric(HW_VARIANTS), source=str(HW_VARIANTS))


# --- stability: a change to the draw must be a visible decision ---------------------

PINNED = {
    "alice": (
        0,
        {
            "W": [[0.03, -0.04, 0.03], [0, -0.03, -0.05], [0, -0.03, 0.03]],
            "v": [0.04, -0.02, 0.04, -0.04],
            "y1": 6,
            "y2": 11,
            "y3": 8,
        },
    ),
    "bob": (
        0,
        {
            "W": [[-0.01, -0.02, -0.05], [-0.01, -0.03, 0.02], [0.01, -0.02, -0.05]],
            "v": [-0.04, -0.05, -0.04, -0.04],
            "y1": 14,
            "y2": 8,
            "y3": 10,
        },
    ),
    "zoë": (
        0,
        {
            "W": [[-0.02, 0.02, 0.04], [0.04, -0.05, -0.03], [-0.02, 0.03, 0.03]],
            "v": [-0.03, -0.05, 0.02, -0.04],
            "y1": 14,
            "y2": 7,
            "y3": 5,
        },
    ),
    # its first draw had v3 = 0, so row 3 of ∂L/∂W was zero: drawn again
    "s000": (
        1,
        {
            "W": [[-0.05, 0.02, -0.01], [-0.02, -0.03, 0.05], [-0.01, 0, -0.05]],
            "v": [-0.04, -0.01, -0.03, 0.05],
            "y1": 8,
            "y2": 8,
            "y3": 6,
        },
    ),
}


@pytest.mark.parametrize("student", sorted(PINNED))
def test_pinned_students_draw_pinned_parameters(keys: VariantKeys, student: str) -> None:
    """A few students' drawn parameters (and redraw counts) are pinned here."""
    variant = keys.variant(student)
    assert (variant.attempt, variant.drawn) == PINNED[student]


def test_the_stream_is_sha256_of_its_parts() -> None:
    """The draw's stream is SHA-256 of the named parts (checked by an independent hash)."""
    import hashlib

    text = "\x1f".join(["grader-variants/1", "seed", "alice", "0", "W", "3", "0"])
    number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    assert pick(11, "seed", "alice", "0", "W", "3") == number % 11


def test_draws_are_the_same_in_another_process_with_another_hash_seed() -> None:
    """A variant is a pure function of the seed and the id: another interpreter with
    another PYTHONHASHSEED prints the same rubric."""
    command = [sys.executable, "-m", "grader", "variant", "--rubric", str(HW_VARIANTS)]
    outs = [
        subprocess.run(
            [*command, "--student", "alice"],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2")
    ]
    assert outs[0] == outs[1]
    assert yaml.safe_load(outs[0])["problems"]["net"]["v"] == PINNED["alice"][1]["v"]


def test_grid_values_are_exact_decimals() -> None:
    """-0.05 ... 0.05 step 0.01 gives the numbers as written, 0 as an integer."""
    rubric = load_rubric(HW_VARIANTS)
    assert rubric.variants is not None
    values = values_of(rubric.variants.draws[0])
    assert values == [-0.05, -0.04, -0.03, -0.02, -0.01, 0, 0.01, 0.02, 0.03, 0.04, 0.05]
    assert values_of(rubric.variants.draws[2]) == list(range(5, 16))


def test_every_value_of_a_grid_is_drawn_about_equally(keys: VariantKeys) -> None:
    """Over 2,000 picks of 11 values, each value's count is within 4 standard deviations."""
    counts = [0] * 11
    for number in range(2000):
        counts[pick(11, "s", f"student{number}", "0", "W", "0")] += 1
    expected, sd = 2000 / 11, (2000 * (1 / 11) * (10 / 11)) ** 0.5
    assert all(abs(count - expected) < 4 * sd for count in counts)


# --- student ids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        (" Alice ", "alice"),
        ("ALICE@Uni.EDU", "alice"),
        ("alice@uni.edu", "alice"),
        ("a.b@x@y.org", "a.b@x"),
        ("@handle", "@handle"),
        ("Zoe\u0308", "zoë"),
    ],
)
def test_student_ids_are_normalised_by_the_documented_rule(raw: str, normal: str) -> None:
    """Case, surrounding spaces, Unicode form and an @domain suffix do not change the id."""
    assert normalise_student_id(raw) == normal


def test_ids_that_normalise_alike_share_a_variant(keys: VariantKeys) -> None:
    """' ALICE@uni.edu' grades against alice's key."""
    assert keys(" ALICE@uni.edu").to_json() == keys("alice").to_json()
    assert keys("alice").to_json() != keys("bob").to_json()


def test_strip_domain_false_keeps_the_domain() -> None:
    """With strip_domain: false, alice@a.org and alice@b.org are two students."""
    text = HW_VARIANTS.read_text(encoding="utf-8").replace(
        'seed: "hw1-2026"', 'seed: "hw1-2026"\n  strip_domain: false'
    )
    template = Template(parse_rubric(text))
    assert template.variant("alice@a.org").drawn != template.variant("alice@b.org").drawn


# --- the key of every variant, checked independently ---------------------------------


def _run(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "grader", *args], capture_output=True, text=True, check=True
    )
    return out.stdout


@pytest.mark.parametrize("student", ["alice", "bob", "s000"])
def test_each_variant_key_agrees_with_high_precision(tmp_path: Any, student: str) -> None:
    """`grader variant` writes a plain rubric; its key (`grader key`, and `grader key
    --student` on the template) matches a 50-digit computation from its own numbers."""
    text = _run("variant", "--rubric", str(HW_VARIANTS), "--student", student)
    path = tmp_path / "variant.yaml"
    path.write_text(text, encoding="utf-8")
    data = yaml.safe_load(text)
    assert "variants" not in data
    key = json.loads(_run("key", "--rubric", str(path), "--format", "json"))
    assert key == json.loads(
        _run("key", "--rubric", str(HW_VARIANTS), "--student", student, "--format", "json")
    )
    net = data["problems"]["net"]
    W, v = net["W"], net["v"]
    examples = [(e["x"], e["y"]) for e in net["examples"]]
    assert PINNED[student][1]["W"] == W
    per = [mp_network(W, v, x, y, False, False) for x, y in examples]
    assert close_to(key["q1.yhat"], [p["yhat"] for p in per])
    assert close_to(key["q1c.dL_dyhat"], [p["dL"] for p in per])
    for i, p in enumerate(per, start=1):
        assert close_to(key[f"q1c.dv.x{i}"], p["dv"])
        assert close_to(key[f"q1c.dW.x{i}"], p["dW"])
    assert close_to(key["q1d.dv"], [sum(p["dv"][k] for p in per) for k in range(4)])
    assert close_to(
        key["q1d.dW"], [[sum(p["dW"][j][k] for p in per) for k in range(3)] for j in range(3)]
    )
    assert close_to(key["q2d.yhat"], per[0]["yhat"])
    assert close_to(key["q2d.dW"], per[0]["dW"])
    sig = [mp_network(W, v, x, y, True, True) for x, y in examples]
    assert close_to(key["q3.dE_dv"], [sum(p["dv"][k] for p in sig) for k in range(4)])


def test_hw_yaml_has_no_variants_and_its_key_is_unchanged(tmp_path: Any) -> None:
    """hw.yaml is a plain rubric: `grader key` needs no student and refuses one."""
    plain = load_rubric(RUBRICS / "hw.yaml")
    assert plain.variants is None
    assert answer_key(plain).per_student is None
    with pytest.raises(UsageError, match="no variants block"):
        student_key(plain, "alice")
    with pytest.raises(UsageError, match="give --student"):
        student_key(load_rubric(HW_VARIANTS), None)


def test_the_template_numbers_are_hw_yaml_s() -> None:
    """hw-variants.yaml is hw.yaml with a variants block: its template key is hw.yaml's."""
    template = answer_key(load_rubric(HW_VARIANTS))
    assert template.to_json() == solve(load_rubric(RUBRICS / "hw.yaml")).to_json()


def test_variant_command_prints_a_plain_rubric_and_refuses_a_plain_one() -> None:
    """`grader variant` exits 2 with a message for a rubric without variants."""
    result = runner.invoke(
        app, ["variant", "--rubric", str(RUBRICS / "hw.yaml"), "--student", "alice"]
    )
    assert result.exit_code == 2
    assert "no variants block" in result.output


# --- degenerate draws ------------------------------------------------------------------


def test_every_drawn_variant_of_a_class_is_not_degenerate(keys: VariantKeys) -> None:
    """For 200 students: no key entry near zero, hidden units unsaturated, examples and
    same-shape answers distinct; some needed a redraw, all within the attempts."""
    attempts = []
    for number in range(200):
        variant = keys.variant(f"student{number}")
        attempts.append(variant.attempt)
        for entry in variant.key:
            flat = entry.flat_expected
            if flat:
                biggest = max(abs(x) for x in flat)
                assert all(abs(x) >= 0.01 * biggest for x in flat), (number, entry.answer.id)
        for i in (1, 2, 3):
            z = variant.key.graph.evaluate(f"net.hidden[{i}]")
            assert all(0.02 <= float(each) <= 0.98 for each in z)
    assert 0 < sum(a > 0 for a in attempts) < 200


def test_a_draw_that_is_always_degenerate_is_refused_by_name() -> None:
    """v drawn only from 0: every attempt has zero gradients; the rubric is refused."""
    text = HW_VARIANTS.read_text(encoding="utf-8").replace(
        "    - name: v\n      grid: {low: -0.05, high: 0.05, step: 0.01}",
        "    - name: v\n      choices: [0]",
    )
    with pytest.raises(RubricError, match=r"no acceptable variant for student 'alice'.*near zero"):
        Template(parse_rubric(text)).variant("alice")


# --- the block and its paths -----------------------------------------------------------


def test_paths_parse_and_address_items_by_id() -> None:
    """Dotted paths, list indices and answer ids in brackets."""
    assert path_steps("problems.net.examples[0].y") == ["problems", "net", "examples", 0, "y"]
    assert path_steps("answers[q2b.DF].at") == ["answers", "q2b.DF", "at"]
    data = {"answers": [{"id": "q2b.DF", "at": [1, 2]}]}
    assert get_path(data, "answers[q2b.DF].at") == [1, 2]
    for bad in ("problems..net", "a[]", "a.", "a]"):
        with pytest.raises(PathError):
            path_steps(bad)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("problems.net.W, problems.vecgraph.W, problems.net_sigmoid.W]", None),
        ("problems.net.Q]", "variants.draws[0].at[0]: path 'problems.net.Q': no key 'Q'"),
        ("problems.net.W, problems.net.v]", "variants.draws[0].at: the paths hold values of"),
        ("problems.calc.functions.f.expr]", "holds a text, not a number"),
    ],
)
def test_a_bad_variants_block_names_the_key_path(change: str, message: str | None) -> None:
    """A path that leads nowhere, or to values of different shapes, refuses the rubric."""
    text = HW_VARIANTS.read_text(encoding="utf-8").replace(
        "problems.net.W, problems.vecgraph.W, problems.net_sigmoid.W]", change
    )
    if message is None:
        parse_rubric(text)
        return
    with pytest.raises(RubricError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_rubric(text, source="hw-variants.yaml")


FUNCTIONS = """
schema_version: 1
title: Functions with drawn coefficients
problems:
  calc:
    kind: functions
    functions:
      f: {variables: [x, y], expr: "(2x + 3y)^2"}
answers:
  - {id: grad, problem: calc, quantity: gradient, function: f, points: 1}
  - {id: at, problem: calc, quantity: jacobian, function: f, at: [1, 2], points: 1}
variants:
  seed: 7
  draws:
    - {name: a, grid: {low: -4, high: 4, step: 1}}
    - {name: b, choices: [2, 3, 5]}
    - {name: point, grid: {low: 1, high: 3, step: 1}, at: ["answers[at].at"]}
  texts:
    - {at: problems.calc.functions.f.expr, template: "({a}x + {b}y)^2"}
"""


def test_function_coefficients_and_the_evaluation_point_are_drawn() -> None:
    """Coefficients go into the expression (a negative one in parentheses) and the point
    into the answer; the variant's Jacobian is 2(ax + by)·(a, b) at its own point."""
    template = Template(parse_rubric(FUNCTIONS))
    seen = set()
    for student in ("alice", "bob", "carol", "dave"):
        variant = template.variant(student)
        a, b, (px, py) = variant.drawn["a"], variant.drawn["b"], variant.drawn["point"]
        expr = variant.data["problems"]["calc"]["functions"]["f"]["expr"]
        assert expr == f"({a if a >= 0 else f'({a})'}x + {b}y)^2"
        inner = a * px + b * py
        assert variant.key["at"].flat_expected == (2 * inner * a, 2 * inner * b)
        seen.add((a, b, px, py))
    assert len(seen) > 1


def test_a_placeholder_must_name_a_number_draw() -> None:
    """{W} (a matrix) or {c} (no such draw) in a template refuses the rubric."""
    with pytest.raises(RubricError, match=r"\{c\} is not the name of a draw"):
        parse_rubric(FUNCTIONS.replace("{b}y", "{c}y"))


def test_a_draw_outside_a_functions_domain_is_drawn_again() -> None:
    """log(x − c) at a drawn point: attempts that put the point at or left of c are
    degenerate and drawn again, so every student's key is a number."""
    text = """
schema_version: 1
title: A drawn point near the edge of log's domain
problems:
  calc:
    kind: functions
    functions:
      f: {variables: [x], expr: "log(x - 2)"}
answers:
  - {id: v, problem: calc, quantity: value, function: f, at: [3], points: 1}
variants:
  seed: 11
  draws:
    - {name: point, grid: {low: 0, high: 4, step: 1}, at: ["answers[v].at"]}
"""
    template = Template(parse_rubric(text))
    redrawn = 0
    for student in [f"s{index}" for index in range(12)]:
        variant = template.variant(student)
        (x,) = variant.drawn["point"]
        assert x > 2 and float(variant.key["v"].expected) == pytest.approx(math.log(x - 2))
        redrawn += variant.attempt > 0
    assert redrawn > 0  # three of the five grid points are outside the domain
