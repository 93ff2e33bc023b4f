"""Reading a rubric file: YAML (a ``yaml.SafeLoader`` that also refuses a key given twice in
one mapping), then the models, then the checks that span fields (shapes, references,
expressions).

Every failure is one ``RubricError`` naming the file, the key path (``problems.net.W``)
and what was expected; never a raw YAML or pydantic traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from grader.errors import ExpressionError, RubricError
from grader.rubric.activations import ACTIVATIONS, LOSSES
from grader.rubric.models import (
    Answer,
    CompositionAnswer,
    DecimalsTolerance,
    FunctionsProblem,
    GradientAnswer,
    HessianAnswer,
    JacobianAnswer,
    NetworkAnswer,
    NetworkProblem,
    NetworkQuantity,
    RelativeTolerance,
    Rubric,
    SigFigsTolerance,
    ValueAnswer,
)
from grader.rubric.quantities import QUANTITIES
from grader.rubric.variants import check_variants
from grader.solver import expr

# Values of discriminator fields, which pydantic puts into error locations.
_TAG_MODELS: dict[str, type[BaseModel]] = {
    "network": NetworkProblem,
    "functions": FunctionsProblem,
    "relative": RelativeTolerance,
    "sigfigs": SigFigsTolerance,
    "decimals": DecimalsTolerance,
    **{quantity: NetworkAnswer for quantity in get_args(NetworkQuantity)},
    "gradient": GradientAnswer,
    "jacobian": JacobianAnswer,
    "hessian": HessianAnswer,
    "value": ValueAnswer,
    "composition_derivative": CompositionAnswer,
}


def load_rubric(path: str | Path) -> Rubric:
    """Read and check a rubric file; raise ``RubricError`` with one clear message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RubricError("file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise RubricError(f"cannot be read: {error}", path=str(path)) from None
    return parse_rubric(text, source=str(path))


class _DuplicateKeyError(Exception):
    """A mapping of the YAML holds one key twice (raised out of the loader, then worded)."""

    def __init__(self, key: object, where: str, first: int, second: int) -> None:
        super().__init__(key)
        self.key, self.where, self.first, self.second = key, where, first, second


def _check_unique_keys(root: yaml.Node | None) -> None:
    """Refuse a mapping holding one key twice, which ``yaml.safe_load`` would silently
    resolve to the last value (a problem or a function defined twice, an answer's
    ``points`` written twice). Reads the composed node tree (no object is built but the
    scalar keys, by PyYAML's safe constructor)."""
    if root is None:
        return
    constructor = yaml.constructor.SafeConstructor()
    seen: set[int] = set()  # an anchored node is checked once, however often it is used
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            lines: dict[object, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # <<: *anchor
                    stack.append((value_node, where))
                    continue
                key = _key_of(constructor, key_node)
                line = key_node.start_mark.line + 1
                if key in lines:
                    raise _DuplicateKeyError(key, where, lines[key], line)
                lines[key] = line
                name = key if isinstance(key, str) else repr(key)
                stack.append((value_node, f"{where}.{name}" if where else str(name)))


def _key_of(constructor: yaml.constructor.SafeConstructor, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        key = constructor.construct_object(node)
        try:
            hash(key)
        except TypeError:
            return ("<unhashable>", id(node))
        return key
    return ("<collection>", id(node))  # a list or mapping as a key: never equal here


def parse_rubric(text: str, *, source: str = "<rubric>") -> Rubric:
    """Parse rubric YAML text; ``source`` names it in messages."""
    try:
        _check_unique_keys(yaml.compose(text, Loader=yaml.SafeLoader))
        data = yaml.safe_load(text)
    except _DuplicateKeyError as twice:
        raise RubricError(
            f"the key '{twice.key}' is given twice, at line {twice.first} and at line "
            f"{twice.second} (keep one)",
            path=source,
            key=twice.where or None,
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RubricError(f"{where}YAML does not parse: {problem}", path=source) from None
    if not isinstance(data, dict):
        got = type(data).__name__ if data is not None else "an empty file"
        raise RubricError(f"a rubric must be a mapping of keys, got {got}", path=source)
    return validate_rubric(data, source=source)


def validate_rubric(data: dict[str, Any], *, source: str = "<rubric>") -> Rubric:
    """Plain rubric data (as read from YAML) as a checked ``Rubric``; ``RubricError``."""
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as error:
        raise _rubric_error(error, source) from None
    check_rubric(rubric, source=source)
    return rubric


def _rubric_error(error: ValidationError, source: str) -> RubricError:
    errors = error.errors()
    first = errors[0]
    raw_loc = list(first["loc"])
    loc = [part for index, part in enumerate(raw_loc) if not _is_tag(raw_loc, index)]
    kind = first["type"]
    ctx = first.get("ctx", {})
    if kind == "extra_forbidden":
        message = f"unknown key '{loc[-1]}'" if loc else "unknown key"
        allowed = _allowed_keys(raw_loc[:-1])
        if allowed:
            message += f" (allowed here: {', '.join(allowed)})"
    elif kind == "missing":
        message = "is required but missing"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        field = str(ctx.get("discriminator", "kind")).strip("'")
        loc.append(field)
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        got = f"'{ctx['tag']}'" if "tag" in ctx else "nothing"
        message = f"expected one of: {expected}; got {got}"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        sign = {
            "greater_than_equal": "≥",
            "less_than_equal": "≤",
            "greater_than": ">",
            "less_than": "<",
        }[kind]
        bound = next(iter(ctx.values()), "")
        bound = f"{bound:g}" if isinstance(bound, int | float) else bound
        message = f"must be {sign} {bound}, got {_show(first.get('input'))}"
    elif kind == "too_short":
        least = ctx.get("min_length", 1)
        count = len(first.get("input") or ())
        got = "none" if count == 0 else str(count)
        message = f"must have at least {least} entr{'y' if least == 1 else 'ies'}, got {got}"
    else:
        message = f"{first['msg']}, got {_show(first.get('input'))}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return RubricError(message, path=source, key=_key_path(loc) or None)


def _is_tag(loc: Sequence[int | str], index: int) -> bool:
    """Is ``loc[index]`` the tag pydantic adds for a discriminated union, not a key?"""
    part = loc[index]
    if not isinstance(part, str) or part not in _TAG_MODELS:
        return False
    after_union = index == 2 and loc[0] in ("problems", "answers")
    return after_union or (index > 0 and loc[index - 1] == "tolerance")


def _allowed_keys(loc: Sequence[int | str]) -> list[str]:
    """The keys the model at ``loc`` (pydantic's location, tags included) accepts."""
    model: type[BaseModel] | None = Rubric
    pending: type[BaseModel] | None = None
    for index, part in enumerate(loc):
        if _is_tag(loc, index):
            part = str(part)
            model, pending = _TAG_MODELS[part], None
        elif pending is not None:
            model, pending = pending, None
        elif model is not None and isinstance(part, str) and part in model.model_fields:
            annotation = model.model_fields[part].annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
            else:
                inner = [m for m in _models_in(annotation)]
                model, pending = None, inner[0] if len(inner) == 1 else None
        else:
            model = None
    return sorted(model.model_fields) if model is not None else []


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    for arg in get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            yield arg
        else:
            yield from _models_in(arg)


def _key_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _show(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- checks that span fields --------------------------------------------------------


def check_rubric(rubric: Rubric, *, source: str = "<rubric>") -> None:
    """Raise ``RubricError`` for the first inconsistency between fields."""
    for name, problem in rubric.problems.items():
        for key, message in _problem_issues(name, problem):
            raise RubricError(message, path=source, key=key)
    seen: dict[str, int] = {}
    for index, answer in enumerate(rubric.answers):
        where = f"answers[{index}]"
        if answer.id in seen:
            raise RubricError(
                f"duplicate answer id '{answer.id}' (first at answers[{seen[answer.id]}])",
                path=source,
                key=f"{where}.id",
            )
        seen[answer.id] = index
        for key, message in _answer_issues(rubric, answer):
            raise RubricError(message, path=source, key=f"{where}.{key}")
    if rubric.max_score <= 0:
        raise RubricError("the answers' points must add up to more than 0", path=source)
    if rubric.variants is not None:
        for key, message in check_variants(rubric.variants, plain_data(rubric)):
            raise RubricError(message, path=source, key=key)


def plain_data(rubric: Rubric) -> dict[str, Any]:
    """The rubric as the plain data of its file (what was written, no defaults added),
    without its ``variants`` block: what a student's variant is drawn into."""
    data: dict[str, Any] = rubric.model_dump(
        mode="json", exclude_unset=True, exclude={"variants"}, by_alias=True
    )
    return data


def _problem_issues(name: str, problem: Any) -> Iterator[tuple[str, str]]:
    base = f"problems.{name}"
    if isinstance(problem, NetworkProblem):
        yield from _network_issues(base, problem)
    elif isinstance(problem, FunctionsProblem):
        for fname, function in problem.functions.items():
            fbase = f"{base}.functions.{fname}"
            for position, variable in enumerate(function.variables):
                if variable in expr.FUNCTIONS or variable in expr.CONSTANTS:
                    what = "function" if variable in expr.FUNCTIONS else "constant"
                    yield (
                        f"{fbase}.variables[{position}]",
                        f"'{variable}' cannot be a variable name: it is the name of a {what} "
                        f"(functions: {', '.join(sorted(expr.FUNCTIONS))}; constants: "
                        f"{', '.join(expr.CONSTANTS)})",
                    )
                elif not variable.isidentifier() or not variable.isascii():
                    yield (
                        f"{fbase}.variables[{position}]",
                        f"'{variable}' cannot be a variable name (a letter, then letters, "
                        "digits or _)",
                    )
            if len(set(function.variables)) != len(function.variables):
                yield f"{fbase}.variables", "a variable is declared twice"
            texts = [function.expr] if isinstance(function.expr, str) else function.expr
            for position, text in enumerate(texts):
                key = (
                    f"{fbase}.expr"
                    if isinstance(function.expr, str)
                    else f"{fbase}.expr[{position}]"
                )
                try:
                    expr.parse(text, function.variables)
                except ExpressionError as error:
                    yield key, f"expression {text!r}: {error}"


_SHORTHAND = ("hidden", "output", "W", "v")


def _network_issues(base: str, problem: NetworkProblem) -> Iterator[tuple[str, str]]:
    """Shapes, the two forms kept apart, the loss with its output, the targets."""
    if problem.layers is not None:
        given = [name for name in _SHORTHAND if name in problem.model_fields_set]
        if given:
            yield (
                f"{base}.{given[0]}",
                f"'{given[0]}' belongs to the one-hidden-layer shorthand; this network is "
                "given by 'layers' (give one form, not both)",
            )
            return
        units = [problem.inputs] + [layer.units for layer in problem.layers]
        for index, layer in enumerate(problem.layers):
            rows, cols = layer.units, units[index] + 1
            below = "inputs" if index == 0 else f"layer {index}'s units"
            if len(layer.W) != rows or any(len(row) != cols for row in layer.W):
                yield (
                    f"{base}.layers[{index}].W",
                    f"W has shape {_shape_text(layer.W)}, expected ({rows}, {cols}) = "
                    f"(units, {below} + 1): row j is (w_j0 bias, w_j1, ...)",
                )
            if ACTIVATIONS[layer.activation].output_only and index != len(problem.layers) - 1:
                yield (
                    f"{base}.layers[{index}].activation",
                    f"{layer.activation} is allowed on the output layer only",
                )
        output, outputs = problem.layers[-1].activation, problem.layers[-1].units
    else:
        for name in ("hidden", "W", "v"):
            if getattr(problem, name) is None:
                yield (
                    f"{base}.{name}",
                    "is required but missing (the one-hidden-layer shorthand needs hidden, "
                    "W and v; or give the network by 'layers')",
                )
                return
        hidden, W, v = problem.hidden or 0, problem.W or [], problem.v or []
        rows, cols = hidden, problem.inputs + 1
        if len(W) != rows or any(len(row) != cols for row in W):
            yield (
                f"{base}.W",
                f"W has shape {_shape_text(W)}, expected ({rows}, {cols}) = "
                f"(hidden, inputs + 1): row j is (w_j0 bias, w_j1, ..., w_j{problem.inputs})",
            )
        if len(v) != hidden + 1:
            yield (
                f"{base}.v",
                f"v has {len(v)} entries, expected {hidden + 1} = hidden + 1 (v0 bias first)",
            )
        output, outputs = problem.output or "linear", 1
    loss = LOSSES[problem.loss.kind]
    if loss.outputs and (output not in loss.outputs or (output != "softmax" and outputs != 1)):
        yield (
            f"{base}.loss.kind",
            f"{loss.name} needs a softmax output or one sigmoid output unit, but the output "
            f"is {outputs} {output} unit{'s' if outputs > 1 else ''}",
        )
    if loss.name != "squared" and problem.loss.half:
        yield f"{base}.loss.half", f"half is for the squared loss, not {loss.name}"
    for index, example in enumerate(problem.examples):
        if len(example.x) != problem.inputs:
            yield (
                f"{base}.examples[{index}].x",
                f"x has {len(example.x)} entries, expected {problem.inputs} (inputs)",
            )
        y = example.y
        if isinstance(y, list) and len(y) != outputs:
            yield (
                f"{base}.examples[{index}].y",
                f"y has {len(y)} entries, expected {outputs} (the output units), "
                f"or a class 1..{outputs}",
            )
        elif not isinstance(y, list) and outputs > 1 and (y != int(y) or not 1 <= y <= outputs):
            yield (
                f"{base}.examples[{index}].y",
                f"y = {y:g} is not a class 1..{outputs}; give a class or a vector of "
                f"{outputs} targets",
            )


def _network_answer_issues(
    name: str, problem: NetworkProblem, answer: NetworkAnswer
) -> Iterator[tuple[str, str]]:
    quantity = answer.quantity
    known = QUANTITIES[quantity]
    depth = 2 if problem.layers is None else len(problem.layers)
    if known.shorthand_only and problem.layers is not None:
        layer = 1 if known.shorthand_layer == 1 else depth
        yield (
            "quantity",
            f"'{quantity}' belongs to the one-hidden-layer shorthand; '{name}' is given by "
            f"layers: ask for {known.layered_as} with layer: {layer}",
        )
        return
    if answer.layer is not None:
        if not known.per_layer:
            yield "layer", f"'{quantity}' takes no layer"
            return
        if answer.layer > depth:
            yield (
                "layer",
                f"layer {answer.layer} does not exist (problem '{name}' has layers 1 to {depth})",
            )
            return
    elif known.per_layer and (problem.layers is not None or known.shorthand_layer is None):
        yield "layer", f"'{quantity}' needs a layer (1 to {depth})"
        return
    if known.after_step:
        if answer.example is not None:
            yield "example", f"'{quantity}' is the weights after training: it takes no example"
            return
    elif answer.example is None:
        yield "example", "is required but missing (a 1-based example number, all, sum or mean)"
        return
    if quantity.endswith("_after") and problem.training is None:
        yield (
            "quantity",
            f"'{quantity}' needs a training block in problem '{name}' "
            "(training: {learning_rate: ..., steps: 1, batch: sum})",
        )
        return
    count = len(problem.examples)
    if isinstance(answer.example, int) and not 1 <= answer.example <= count:
        yield (
            "example",
            f"example {answer.example} does not exist (problem '{name}' has examples 1 to {count})",
        )


def _shape_text(rows: list[list[float]]) -> str:
    lengths = sorted({len(row) for row in rows})
    cols = str(lengths[0]) if len(lengths) == 1 else "/".join(map(str, lengths))
    return f"({len(rows)}, {cols})"


def _answer_issues(rubric: Rubric, answer: Answer) -> Iterator[tuple[str, str]]:
    problem = rubric.problems.get(answer.problem)
    if problem is None:
        yield (
            "problem",
            (f"no problem named '{answer.problem}' (problems: {', '.join(rubric.problems)})"),
        )
        return
    if isinstance(answer, NetworkAnswer):
        if not isinstance(problem, NetworkProblem):
            yield (
                "quantity",
                f"'{answer.quantity}' is a network quantity, "
                f"but '{answer.problem}' is a {problem.kind} problem",
            )
            return
        yield from _network_answer_issues(answer.problem, problem, answer)
        return
    if not isinstance(problem, FunctionsProblem):
        yield (
            "quantity",
            f"'{answer.quantity}' is a quantity of functions, "
            f"but '{answer.problem}' is a {problem.kind} problem",
        )
        return
    names = (
        [answer.outer, answer.inner] if isinstance(answer, CompositionAnswer) else [answer.function]
    )
    keys = ["outer", "inner"] if isinstance(answer, CompositionAnswer) else ["function"]
    for key, name in zip(keys, names, strict=True):
        if name not in problem.functions:
            yield (
                key,
                f"no function named '{name}' in problem '{answer.problem}' "
                f"(functions: {', '.join(problem.functions)})",
            )
            return
    if isinstance(answer, GradientAnswer | HessianAnswer) and not isinstance(
        problem.functions[answer.function].expr, str
    ):
        yield (
            "function",
            f"the {answer.quantity} needs a scalar function; '{answer.function}' is "
            "vector-valued (ask for its jacobian)",
        )
    if isinstance(answer, JacobianAnswer | HessianAnswer | ValueAnswer):
        arity = len(problem.functions[answer.function].variables)
        if len(answer.at) != arity:
            yield (
                "at",
                f"the point has {len(answer.at)} coordinate(s), expected {arity} "
                f"(the variables of '{answer.function}')",
            )
    if isinstance(answer, CompositionAnswer):
        outer, inner = problem.functions[answer.outer], problem.functions[answer.inner]
        inner_out = 1 if isinstance(inner.expr, str) else len(inner.expr)
        if inner_out != len(outer.variables):
            yield (
                "inner",
                f"'{answer.inner}' has {inner_out} outputs "
                f"but '{answer.outer}' takes {len(outer.variables)} variables",
            )
        if len(answer.at) != len(inner.variables):
            yield (
                "at",
                f"the point has {len(answer.at)} coordinate(s), expected {len(inner.variables)} "
                f"(the variables of '{answer.inner}')",
            )
