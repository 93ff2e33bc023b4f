"""Safe, allowlisted expression parser, evaluator and symbolic differentiator.

Student text is untrusted: nothing here runs code (no eval/exec/compile/sympy). A
hand-written lazy tokenizer feeds an iterative (explicit-stack) parser that builds a tree
of frozen, hashable dataclasses; every tree walk (evaluate, simplify, diff, to_text,
hashing, ==) is iterative too, so no input can cause a RecursionError. Every problem
with an expression raises ``ExpressionError``.

Grammar (informally; ``[ ]`` group exactly like ``( )``)::

    sum     := term (("+" | "-") term)*
    term    := factor (("*" | "/" | <juxtaposition>) factor)*     left to right
    factor  := ("-" | "+")* power                                 -x^2 means -(x^2)
    power   := atom ("^" factor)?        right-associative; "**" = "^"; 2^-1 allowed
    atom    := number | variable | constant | function "(" sum ")" | "(" sum ")"

* numbers: ``2  0.5  .5  5.  1e-3  2.5E+4`` (at most 100 characters, finite value).
* variables: only the declared ones (identifiers ``[A-Za-z_][A-Za-z0-9_]*``). A word
  that is not itself a name is split into known names (variables, functions,
  constants), longest match first, backtracking if the rest cannot be split:
  with variables {x, y}, ``xy`` = x*y and ``xexp(y)`` = x*exp(y).
* functions (``FUNCTIONS``, one table: value, derivative, domain): exp, log (natural), ln
  (= log), sqrt, sigmoid (also ``σ``), sin, cos, tan, sinh, cosh, tanh, asin, acos, atan
  (also arcsin, arccos, arctan), abs; each followed by a bracketed argument. Constants
  ``e`` and ``pi``; a variable may not be named like a function or a constant.
* juxtaposition multiplies when the right side starts with a name or a bracket
  (``2x``, ``4(2x+3y)``, ``x y``, ``x(y+1)``, ``x[0]`` = x*0); a number right after
  an operand (``2 3``, ``x 2``, ``(x)2``) is an error. ``1/2x`` = (1/2)*x; a term
  ``a/b*c`` is stored as ``Div(Mul(a, c), b)`` (the same value up to rounding).
* Unicode: − – — are minus, × · ⋅ are times, ² ³ are ^2 ^3, Unicode spaces are spaces;
  any other character is rejected, naming it and its 1-based position.

Caps (keyword arguments of ``parse``, defaults those of ``grader.limits.Limits``; a
student's expression is parsed under the batch's ``Limits``): ``max_length`` characters
of text, ``max_depth`` levels of nesting (each open bracket, unary minus and ``^`` adds a
level while it is open), ``max_nodes`` tree nodes, numeric literals of at most
``max_number_length`` characters; derivatives (``diff``, of the key's functions) of at
most ``MAX_DIFF_NODES`` nodes.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, TypeAlias, TypeVar, cast

import numpy as np
import numpy.typing as npt

from grader.deadline import EVERY, checkpoint
from grader.errors import ExpressionError
from grader.limits import DEFAULT_LIMITS

__all__ = [
    "CONSTANTS", "FUNCTIONS", "MAX_DEPTH", "MAX_DIFF_NODES", "MAX_LENGTH", "MAX_NODES",
    "MAX_NUMBER_LENGTH",
    "Add", "Call", "Const", "Div", "Expr", "Mul", "Neg", "Num", "Pow", "Var",
    "diff", "evaluate", "evaluate_key", "evaluate_number", "free_variables", "parse",
    "rounding_bound", "simplify", "to_text", "undefined_at",
]  # fmt: skip

MAX_LENGTH = DEFAULT_LIMITS.max_expression_length
MAX_DEPTH = DEFAULT_LIMITS.max_expression_depth
MAX_NODES = DEFAULT_LIMITS.max_expression_nodes
MAX_NUMBER_LENGTH = DEFAULT_LIMITS.max_literal_length
MAX_DIFF_NODES = 200_000
CONSTANTS: Mapping[str, float] = {"e": math.e, "pi": math.pi}


# --------------------------------------------------------------------------- tree
_set = object.__setattr__
_HASH = operator.attrgetter("_h")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class _Node:
    """Base of the nodes: the hash and the children (``_k``, what every tree walk visits)
    are worked out once at construction, by each class for itself (a profile's hot spot:
    a long answer is thousands of nodes); ``==`` uses a loop."""

    _h: int = field(init=False, repr=False)
    _k: tuple[Expr, ...] = field(init=False, repr=False)

    def __eq__(self, other: object) -> bool:
        pairs: list[tuple[Any, Any]] = [(self, other)]
        while pairs:
            a, b = pairs.pop()
            if a is b:
                continue
            if type(a) is not type(b) or a._h != b._h:
                return False
            for name in a.__match_args__:
                x, y = getattr(a, name), getattr(b, name)
                if isinstance(x, _Node):
                    pairs.append((x, y))
                elif isinstance(x, tuple) and len(x) == len(y):
                    pairs.extend(zip(x, y, strict=True))
                elif x != y:
                    return False
        return True

    def __hash__(self) -> int:
        return self._h

    def __repr__(self) -> str:  # the dataclass repr, built without recursion
        def step(node: Expr, kids: list[str]) -> str:
            it, args = iter(kids), []
            for name in node.__match_args__:
                v = getattr(node, name)
                if isinstance(v, tuple):
                    text = "(" + ", ".join(next(it) for _ in v) + ("," if len(v) == 1 else "") + ")"
                else:
                    text = next(it) if isinstance(v, _Node) else repr(v)
                args.append(f"{name}={text}")
            return f"{type(node).__name__}({', '.join(args)})"

        return _fold(cast(Expr, self), step)


# Each hash is that of (class name, each field: a child's hash, a tuple of children's
# hashes, or the value itself).


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Num(_Node):  # a finite number; parsed literals are >= 0, simplify may negate them
    value: float

    def __init__(self, value: float) -> None:
        _set(self, "value", value)
        _set(self, "_h", hash(("Num", value)))
        _set(self, "_k", ())


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Var(_Node):  # a declared variable
    name: str

    def __init__(self, name: str) -> None:
        _set(self, "name", name)
        _set(self, "_h", hash(("Var", name)))
        _set(self, "_k", ())


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Const(_Node):  # "e" or "pi"
    name: str

    def __init__(self, name: str) -> None:
        _set(self, "name", name)
        _set(self, "_h", hash(("Const", name)))
        _set(self, "_k", ())


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Neg(_Node):  # unary minus
    arg: Expr

    def __init__(self, arg: Expr) -> None:
        _set(self, "arg", arg)
        _set(self, "_h", hash(("Neg", arg._h)))
        _set(self, "_k", (arg,))


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Add(_Node):  # two or more terms, added left to right
    terms: tuple[Expr, ...]

    def __init__(self, terms: tuple[Expr, ...]) -> None:
        _set(self, "terms", terms)
        _set(self, "_h", hash(("Add", tuple(map(_HASH, terms)))))
        _set(self, "_k", terms)


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Mul(_Node):  # two or more factors, multiplied left to right
    factors: tuple[Expr, ...]

    def __init__(self, factors: tuple[Expr, ...]) -> None:
        _set(self, "factors", factors)
        _set(self, "_h", hash(("Mul", tuple(map(_HASH, factors)))))
        _set(self, "_k", factors)


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Div(_Node):
    num: Expr
    den: Expr

    def __init__(self, num: Expr, den: Expr) -> None:
        _set(self, "num", num)
        _set(self, "den", den)
        _set(self, "_h", hash(("Div", num._h, den._h)))
        _set(self, "_k", (num, den))


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Pow(_Node):
    base: Expr
    exponent: Expr

    def __init__(self, base: Expr, exponent: Expr) -> None:
        _set(self, "base", base)
        _set(self, "exponent", exponent)
        _set(self, "_h", hash(("Pow", base._h, exponent._h)))
        _set(self, "_k", (base, exponent))


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Call(_Node):  # func is one of FUNCTIONS, as written ("ln" stays "ln"; σ is "sigmoid")
    func: str
    arg: Expr

    def __init__(self, func: str, arg: Expr) -> None:
        _set(self, "func", func)
        _set(self, "arg", arg)
        _set(self, "_h", hash(("Call", func, arg._h)))
        _set(self, "_k", (arg,))


Expr: TypeAlias = Num | Var | Const | Neg | Add | Mul | Div | Pow | Call
ZERO, ONE = Num(0.0), Num(1.0)
R = TypeVar("R")


# --------------------------------------------------------------------------- functions
def _sigmoid(u: Any) -> Any:
    return np.divide(1.0, np.add(1.0, np.exp(np.negative(u))))


def _one_minus_square(u: Expr) -> Expr:
    """(1 − u)(1 + u): 1 − u² without the cancellation near |u| = 1."""
    return Mul((Add((ONE, Neg(u))), Add((ONE, u))))


@dataclass(frozen=True, slots=True)
class Function:
    """One function of the grammar: adding a function is one entry of ``_TABLE``."""

    value: Callable[[Any], Any]
    """Its float64 value (a numpy ufunc or a composition of them)."""
    derivative: Callable[[Expr, Expr, Expr], Expr]
    """The chain rule ``(f(u), u, du) -> d f(u)``, as an expression (simplified later)."""
    slope: Callable[[Any, Any], Any]
    """``|f'(x)|`` from ``x`` and ``f(x)``: how an error in x grows (rounding bounds)."""
    domain: Callable[[Any], Any] | None = None
    """Where it is defined (None: everywhere); with ``needs``, the words for it."""
    needs: str = ""


_TABLE: dict[str, Function] = {
    "exp": Function(np.exp, lambda f, u, du: Mul((f, du)), lambda x, y: np.abs(y)),
    "log": Function(
        np.log,
        lambda f, u, du: Div(du, u),
        lambda x, y: 1 / np.abs(x),
        lambda x: x > 0,
        "a number > 0",
    ),
    "sqrt": Function(
        np.sqrt,
        lambda f, u, du: Div(du, Mul((Num(2.0), f))),
        lambda x, y: 0.5 / y,
        lambda x: x >= 0,
        "a number ≥ 0",
    ),
    # σ'(u) = σ(u)·σ(−u): no 1 − σ(u), which loses every digit once σ(u) rounds to 1
    "sigmoid": Function(
        _sigmoid,
        lambda f, u, du: Mul((f, Call("sigmoid", Neg(u)), du)),
        lambda x, y: y * _sigmoid(-x),
    ),
    "sin": Function(np.sin, lambda f, u, du: Mul((Call("cos", u), du)), lambda x, y: np.cos(x)),
    "cos": Function(
        np.cos, lambda f, u, du: Neg(Mul((Call("sin", u), du))), lambda x, y: np.sin(x)
    ),
    "tan": Function(
        np.tan, lambda f, u, du: Div(du, Pow(Call("cos", u), Num(2.0))), lambda x, y: 1 + y * y
    ),
    "sinh": Function(np.sinh, lambda f, u, du: Mul((Call("cosh", u), du)), lambda x, y: np.cosh(x)),
    "cosh": Function(np.cosh, lambda f, u, du: Mul((Call("sinh", u), du)), lambda x, y: np.sinh(x)),
    # tanh'(u) = 1/cosh²(u): no 1 − tanh²(u), which loses every digit for large |u|
    "tanh": Function(
        np.tanh, lambda f, u, du: Div(du, Pow(Call("cosh", u), Num(2.0))), lambda x, y: 1 - y * y
    ),
    "asin": Function(
        np.arcsin,
        lambda f, u, du: Div(du, Call("sqrt", _one_minus_square(u))),
        lambda x, y: 1 / np.sqrt((1 - x) * (1 + x)),
        lambda x: np.abs(x) <= 1,
        "a number from −1 to 1",
    ),
    "acos": Function(
        np.arccos,
        lambda f, u, du: Neg(Div(du, Call("sqrt", _one_minus_square(u)))),
        lambda x, y: 1 / np.sqrt((1 - x) * (1 + x)),
        lambda x: np.abs(x) <= 1,
        "a number from −1 to 1",
    ),
    "atan": Function(
        np.arctan,
        lambda f, u, du: Div(du, Add((ONE, Pow(u, Num(2.0))))),
        lambda x, y: 1 / (1 + x * x),
    ),
    # |u|' = u/|u|: undefined at 0, where |u| has no derivative
    "abs": Function(np.abs, lambda f, u, du: Mul((Div(u, f), du)), lambda x, y: np.ones_like(y)),
}
_ALIASES = {"ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan"}
FUNCTIONS: frozenset[str] = frozenset(_TABLE) | frozenset(_ALIASES)
"""Every function name the grammar knows (``ln`` and the ``arc`` names are aliases)."""


def function(name: str) -> Function:
    """The table entry of a function name (an alias gives its function's entry)."""
    found = _TABLE.get(_ALIASES.get(name, name))
    if found is None:
        raise ExpressionError(f"unknown function {name!r}")
    return found


def _children(node: Expr) -> tuple[Expr, ...]:
    return node._k


def _fold(root: Expr, step: Callable[[Expr, list[R]], R]) -> R:
    """Bottom-up walk with an explicit stack; a shared subtree is computed once. Every
    ``deadline.EVERY`` nodes, a ``checkpoint`` (the time limit, ``grader.deadline``)."""
    done: dict[int, R] = {}
    stack: list[Expr] = [root]
    count = 0
    while stack:
        node = stack[-1]
        key = id(node)
        if key in done:
            stack.pop()
            continue
        kids = node._k
        if kids:
            waiting = []
            for kid in kids:
                if id(kid) not in done:
                    if kid._k:
                        waiting.append(kid)
                    else:  # a leaf: at once, without a turn on the stack
                        done[id(kid)] = step(kid, [])
            if waiting:
                stack.extend(waiting)
                continue
        stack.pop()
        done[key] = step(node, [done[id(kid)] for kid in kids])
        count += 1
        if not count % EVERY:
            checkpoint()
    return done[id(root)]


def _size(expr: Expr) -> int:
    """Number of nodes, counting a shared subtree once per use."""
    return _fold(expr, lambda _node, kids: 1 + sum(kids))


def free_variables(expr: Expr) -> frozenset[str]:
    """Names of the variables occurring in ``expr`` (not constants or functions)."""
    return _fold(
        expr,
        lambda n, kids: frozenset({n.name}) if isinstance(n, Var) else frozenset().union(*kids),
    )


# --------------------------------------------------------------------------- tokenizer
_Tok: TypeAlias = tuple[str, str, int, float]
"""A token: kind (num var const func op open close end), text, 1-based position, and
a number's value."""

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = {"+": "+", "-": "-", "−": "-", "–": "-", "—": "-", "*": "*", "×": "*", "·": "*"}
_OPS |= {"⋅": "*", "/": "/", "^": "^", "(": "(", "[": "[", ")": ")", "]": "]"}
_KIND = {"(": "open", "[": "open", ")": "close", "]": "close"}
_CLOSER = {"(": ")", "[": "]"}
_TOKEN = re.compile(
    r"(?P<space>\s++)"
    r"|(?P<num>(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*+)"
    r"|(?P<power>\*\*)"
    r"|(?P<op>[-+−–—*×·⋅/^()\[\]])"
    r"|(?P<square>[²³])"
    r"|(?P<sigma>σ)"
    r"|(?P<other>.)",
    re.DOTALL,
)
"""One token (or a run of spaces) at a time, in one left-to-right pass: each alternative
is possessive (no backtracking), so scanning is linear in the text, done in C."""


def _names_table(variables: Collection[str]) -> dict[str, str]:
    if isinstance(variables, str):
        raise ExpressionError("variables must be a collection of names, not one string")
    table = {f: "func" for f in FUNCTIONS} | {c: "const" for c in CONSTANTS}
    for v in variables:
        if not isinstance(v, str) or not _NAME_RE.fullmatch(v):
            raise ExpressionError(f"invalid variable name {v!r}")
        if v in FUNCTIONS or v in CONSTANTS:
            what = "function" if v in FUNCTIONS else "constant"
            raise ExpressionError(f"variable name {v!r} is the name of a {what}")
        table[v] = "var"
    return table


def _split(word: str, names: Mapping[str, str]) -> list[str] | None:
    """Split ``word`` into known names, preferring the longest name at each step."""
    n, lengths = len(word), sorted({len(k) for k in names}, reverse=True)
    step = [0] * n + [-1]  # step[i]: length of the name chosen at i (0: no split)
    for i in range(n - 1, -1, -1):
        fits = (k for k in lengths if i + k <= n and step[i + k] and word[i : i + k] in names)
        step[i] = next(fits, 0)
    if step[0] == 0:
        return None
    pieces, i = [], 0
    while i < n:
        pieces.append(word[i : i + step[i]])
        i += step[i]
    return pieces


def _tokens(text: str, names: Mapping[str, str], max_number_length: int) -> Iterator[_Tok]:
    """Yield the tokens lazily (so caps stop the work early, and a problem is reported
    where the parser meets it), then an 'end' token. Every ``deadline.EVERY`` tokens, a
    ``checkpoint`` (the time limit, ``grader.deadline``)."""
    count = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "space":
            continue
        count += 1
        if not count % EVERY:
            checkpoint()
        word, pos = match.group(), match.start() + 1
        if kind == "num":
            if len(word) > max_number_length:
                raise ExpressionError(
                    f"number at position {pos} has {len(word)} characters; "
                    f"the limit is {max_number_length}"
                )
            if not math.isfinite(value := float(word)):
                raise ExpressionError(f"number too large at position {pos}: {word[:20]}")
            yield ("num", word, pos, value)
        elif kind == "op":
            op = _OPS[word]
            yield (_KIND.get(op, "op"), op, pos, 0.0)
        elif kind == "name":
            named = names.get(word)
            if named is not None:
                yield (named, word, pos, 0.0)
                continue
            pieces = _split(word, names)
            if pieces is None:
                kinds = {
                    k: ", ".join(sorted(n for n in names if names[n] == k)) or "(none)"
                    for k in ("var", "func", "const")
                }
                raise ExpressionError(
                    f"unknown name {word!r} at position {pos}; allowed variables: "
                    f"{kinds['var']}; functions: {kinds['func']}; constants: {kinds['const']}"
                )
            for piece in pieces:
                yield (names[piece], piece, pos, 0.0)
                pos += len(piece)
        elif kind == "power":
            yield ("op", "^", pos, 0.0)
        elif kind == "square":
            yield ("op", "^", pos, 0.0)
            yield ("num", word, pos, 2.0 if word == "²" else 3.0)
        elif kind == "sigma":
            yield ("func", "sigmoid", pos, 0.0)
        else:
            raise ExpressionError(
                f"character {word!r} (U+{ord(word):04X}) at position {pos} is not allowed"
            )
    yield ("end", "", len(text) + 1, 0.0)


# --------------------------------------------------------------------------- parser
_COUNTED = frozenset({"num", "var", "const", "func"})
"""Tokens that make a node of their own (so do a '-' and a '^')."""


@dataclass(slots=True)
class _Frame:
    """The state of one bracket level (the top level has opener '')."""

    opener: str
    pos: int
    func: str | None
    base: int  # nesting depth of this level
    level: int  # base + the unary minus and '^' still open in the current factor
    terms: list[Expr] = field(default_factory=list)
    sign: int = 1
    num: list[Expr] = field(default_factory=list)
    den: list[Expr] = field(default_factory=list)
    to_den: bool = False
    chain: list[tuple[int, Expr]] = field(default_factory=list)  # (minus signs, operand)
    negs: int = 0
    made: int = 0  # the nodes of this level's tree (each atom adds its own)

    def end_factor(self) -> None:
        value: Expr = self.chain[-1][1]
        for k, (negs, operand) in enumerate(reversed(self.chain)):
            value = Pow(operand, value) if k else operand
            for _ in range(negs):
                value = Neg(value)
            self.made += negs + (k > 0)
        (self.den if self.to_den else self.num).append(value)
        self.chain, self.to_den, self.level = [], False, self.base

    def end_term(self) -> None:
        num, den = self.num, self.den
        term = num[0] if len(num) == 1 else Mul(tuple(num))
        if den:
            term = Div(term, den[0] if len(den) == 1 else Mul(tuple(den)))
        self.terms.append(Neg(term) if self.sign < 0 else term)
        self.made += (len(num) > 1) + (len(den) > 1) + bool(den) + (self.sign < 0)
        self.num, self.den = [], []

    def result(self) -> Expr:
        self.end_term()
        self.made += len(self.terms) > 1
        return self.terms[0] if len(self.terms) == 1 else Add(tuple(self.terms))


def _parse_tokens(tokens: Iterator[_Tok], max_depth: int, max_nodes: int) -> tuple[Expr, int]:
    """The tree and its number of nodes (no subtree is shared: each is counted once)."""

    def deeper(level: int) -> int:
        if level >= max_depth:
            raise ExpressionError(
                f"expression is nested more than max_depth={max_depth} levels deep "
                "(each bracket, unary minus and '^' adds a level)"
            )
        return level + 1

    frame, stack = _Frame("", 0, None, 0, 0), []
    expect_operand, nodes = True, 0  # nodes: a lower bound of the final node count
    tok = next(tokens)
    if tok[0] == "end":
        raise ExpressionError("empty expression")
    while True:
        kind, word, pos, value = tok
        advance = True
        if kind in _COUNTED or word in ("-", "^"):
            nodes += 1
            if nodes > max_nodes:
                raise ExpressionError(f"expression has more than max_nodes={max_nodes} nodes")
        if expect_operand:
            if kind == "op" and word in "+-":
                if word == "-":
                    frame.negs += 1
                    frame.level = deeper(frame.level)
            elif kind in ("func", "open"):
                opener = next(tokens) if kind == "func" else tok
                if opener[0] != "open":
                    raise ExpressionError(
                        f"function {word!r} at position {pos} must be followed "
                        f"by a bracketed argument, e.g. {word}(x)"
                    )
                level = deeper(frame.level)
                stack.append(frame)
                func = word if kind == "func" else None
                frame = _Frame(opener[1], opener[2], func, level, level)
            elif kind in ("num", "var", "const"):
                atom = Num(value) if kind == "num" else (Var if kind == "var" else Const)(word)
                frame.chain.append((frame.negs, atom))
                frame.negs, expect_operand = 0, False
                frame.made += 1
            elif kind == "end":
                raise ExpressionError(
                    "expression is incomplete: it ends where a number, variable, "
                    "function or '(' is expected"
                )
            else:
                raise ExpressionError(
                    f"unexpected {word!r} at position {pos}: expected a number, "
                    "variable, function or '('"
                )
        elif kind == "op" and word == "^":
            frame.level = deeper(frame.level)
            expect_operand = True
        elif kind == "num":
            raise ExpressionError(f"missing operator before the number {word!r} at position {pos}")
        else:
            frame.end_factor()
            if kind == "op":
                if word in "+-":
                    frame.end_term()
                    frame.sign = 1 if word == "+" else -1
                frame.to_den = word == "/"
                expect_operand = True
            elif kind in ("var", "const", "func", "open"):  # implicit multiplication:
                expect_operand, advance = True, False  # read tok again as an operand
            elif kind == "close":
                if not stack:
                    raise ExpressionError(f"unmatched {word!r} at position {pos}")
                if _CLOSER[frame.opener] != word:
                    raise ExpressionError(
                        f"{word!r} at position {pos} does not match "
                        f"{frame.opener!r} at position {frame.pos}"
                    )
                inner = frame.result()
                made = frame.made + (frame.func is not None)
                inner = inner if frame.func is None else Call(frame.func, inner)
                frame = stack.pop()
                frame.chain.append((frame.negs, inner))
                frame.negs = 0
                frame.made += made
            elif stack:  # end
                raise ExpressionError(f"{frame.opener!r} at position {frame.pos} is never closed")
            else:
                return frame.result(), frame.made
        if advance:
            tok = next(tokens)


def parse(
    text: str,
    variables: Collection[str] = (),
    *,
    max_length: int = MAX_LENGTH,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    max_number_length: int = MAX_NUMBER_LENGTH,
) -> Expr:
    """Parse ``text`` over the declared ``variables``; raise ExpressionError if invalid."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > max_length:
        raise ExpressionError(
            f"expression has {len(text)} characters; the limit is max_length={max_length}"
        )
    tokens = _tokens(text, _names_table(variables), max_number_length)
    expr, size = _parse_tokens(tokens, max_depth, max_nodes)
    if size > max_nodes:
        raise ExpressionError(f"expression has more than max_nodes={max_nodes} nodes")
    return expr


# --------------------------------------------------------------------------- evaluation
_OPERATORS: dict[type, Callable[..., Any]] = {
    Neg: np.negative, Div: np.divide, Pow: np.power,
    Add: lambda *terms: reduce(np.add, terms), Mul: lambda *fs: reduce(np.multiply, fs),
}  # fmt: skip


def evaluate(
    expr: Expr, env: Mapping[str, float | npt.NDArray[Any]]
) -> float | npt.NDArray[np.float64]:
    """Evaluate in float64 (arrays broadcast); overflow gives inf and invalid operations nan."""
    values: dict[str, Any] = {}

    def variable(name: str) -> Any:
        found = values.get(name)
        if found is None:
            if name not in env:
                _check_env(expr, env)  # raises the error of the first problem, in words
            try:
                found = values[name] = _real(name, env[name])
            except ExpressionError:
                _check_env(expr, env)  # (as the missing variables are said first)
                raise
        return found

    def step(node: Expr, kids: list[Any]) -> Any:
        kind = type(node)
        if kind is Add:
            return reduce(operator.add, kids)  # as np.add, left to right
        if kind is Mul:
            return reduce(operator.mul, kids)
        if kind is Num:
            return np.float64(cast(Num, node).value)
        if kind is Var:
            return variable(cast(Var, node).name)
        if kind is Call:
            return function(cast(Call, node).func).value(kids[0])
        if kind is Const:
            return np.float64(CONSTANTS[cast(Const, node).name])
        return _OPERATORS[kind](*kids)

    with np.errstate(all="ignore"):
        try:
            result = _fold(expr, step)
        except (ValueError, TypeError, ArithmeticError, LookupError) as exc:
            raise ExpressionError(f"cannot evaluate expression: {exc!r}") from None
    if isinstance(result, np.ndarray) and result.ndim > 0:
        return result.astype(np.float64, copy=False)
    return float(result)


def _real(name: str, given: Any) -> Any:
    """A variable's value as float64; ``ExpressionError`` if it is not a real number or
    array."""
    try:
        arr = np.asarray(given)
        if arr.dtype.kind not in "biuf" and not (
            arr.dtype.kind == "O" and all(isinstance(v, numbers.Real) for v in arr.flat)
        ):
            raise TypeError(f"got {type(given).__name__} of dtype {arr.dtype}")
        return arr.astype(np.float64)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ExpressionError(f"value of {name!r} is not a real number or array: {exc}") from None


def _check_env(expr: Expr, env: Mapping[str, float | npt.NDArray[Any]]) -> None:
    """Raise the ``ExpressionError`` of the variables of ``expr`` that ``env`` gives no
    value for, or the first of them (in ``free_variables`` order) whose value is not
    real."""
    names = free_variables(expr)
    if missing := names - set(env):
        raise ExpressionError(
            f"no value for variable(s) {', '.join(sorted(missing))}; "
            f"values were given for: {', '.join(sorted(env)) or '(none)'}"
        )
    for name in names:
        _real(name, env[name])


_UNIT = 2.0**-53
"""The unit roundoff of float64: one rounding changes a value by at most this, relatively."""


def _input_error(value: Any) -> Any:
    """A number read from decimal text is off by at most one rounding; an integer is exact."""
    v = np.asarray(value, dtype=np.float64)
    return np.where(v == np.round(v), 0.0, _UNIT * np.abs(v))


def _scaled(slope: Any, error: Any) -> Any:
    return np.where(error == 0, 0.0, np.abs(slope) * error)  # no inf·0 at an exact input


def _bound_step(node: Expr, kids: list[tuple[Any, Any]], values: Mapping[str, Any]) -> Any:
    """(value, bound of its absolute error) of ``node`` from its children's: first-order
    propagation of the inputs' errors plus one rounding per operation."""
    vals = [k[0] for k in kids]
    errs = [k[1] for k in kids]
    match node:
        case Num(value=v):
            return np.float64(v), _input_error(v)
        case Var(name=name):
            return values[name], _input_error(values[name])
        case Const(name=name):
            return np.float64(CONSTANTS[name]), _UNIT * CONSTANTS[name]
        case Neg():
            return np.negative(vals[0]), errs[0]
        case Add():
            total = reduce(np.add, vals)
            spread = reduce(np.add, [np.abs(v) for v in vals])
            return total, reduce(np.add, errs) + (len(vals) - 1) * _UNIT * spread
        case Mul():
            product = reduce(np.multiply, vals)
            error = (len(vals) - 1) * _UNIT * np.abs(product)
            for i, e in enumerate(errs):
                others = reduce(np.multiply, [np.abs(v) for j, v in enumerate(vals) if j != i], 1.0)
                error = error + _scaled(others, e)
            return product, error
        case Div():
            (a, b), (ea, eb) = vals, errs
            q = np.divide(a, b)
            return q, _scaled(1 / b, ea) + _scaled(q / b, eb) + _UNIT * np.abs(q)
        case Pow():
            (b, x), (eb, ex) = vals, errs
            p = np.power(b, x)
            d_base = _scaled(x * np.power(b, x - 1), eb)
            d_exp = _scaled(p * np.log(np.abs(b)), ex)
            return p, d_base + d_exp + 2 * _UNIT * np.abs(p)
        case Call(func=func):
            entry = function(func)
            y = entry.value(vals[0])
            return y, _scaled(entry.slope(vals[0], y), errs[0]) + 2 * _UNIT * np.abs(y)
    raise ExpressionError(f"not an expression: {node!r}")  # unreachable: every node above


def rounding_bound(
    expr: Expr, env: Mapping[str, float | npt.NDArray[Any]]
) -> tuple[float | npt.NDArray[np.float64], float | npt.NDArray[np.float64]]:
    """The float64 value of ``expr`` and a bound of its rounding error (first order): each
    decimal input and constant off by one rounding, each operation adding one (two for a
    function or a power)."""
    values = {name: np.asarray(env[name], dtype=np.float64) for name in free_variables(expr)}
    with np.errstate(all="ignore"):
        value, bound = _fold(expr, lambda node, kids: _bound_step(node, kids, values))
    if np.ndim(value) > 0:
        return np.asarray(value, dtype=np.float64), np.asarray(bound, dtype=np.float64)
    return float(value), float(bound)


def evaluate_key(
    expr: Expr, env: Mapping[str, float | npt.NDArray[Any]]
) -> float | npt.NDArray[np.float64]:
    """``evaluate``, with a value no larger than its own rounding-error bound returned as
    an exact 0: the answer key's zeros are zeros (``0.1 + 0.2 - 0.3``, ``sin(pi)``,
    ``2x - 0.6`` at x = 0.3), not 1e-17 left over from rounding."""
    value = evaluate(expr, env)
    _, bound = rounding_bound(expr, env)
    with np.errstate(invalid="ignore"):
        snapped = np.where(np.abs(value) <= bound, 0.0, value)
    return float(snapped) if np.ndim(snapped) == 0 else np.asarray(snapped, dtype=np.float64)


def _clip(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _undefined_step(node: Expr, kids: list[Any], values: Mapping[str, float]) -> Any:
    """(value, what is undefined or None): the first node to leave the real numbers."""
    for _, problem in kids:
        if problem is not None:
            return math.nan, problem
    args = [float(v) for v, _ in kids]
    match node:
        case Num(value=v):
            return v, None
        case Var(name=name):
            return values[name], None
        case Const(name=name):
            return CONSTANTS[name], None
    value = float(_OPERATORS[type(node)](*args)) if not isinstance(node, Call) else math.nan
    text = _clip(to_text(node))
    if isinstance(node, Call):
        entry = function(node.func)
        arg = args[0]
        if entry.domain is not None and not bool(entry.domain(arg)):
            return (
                math.nan,
                f"{text} is {node.func} of {arg:.17g} ({node.func} needs {entry.needs})",
            )
        value = float(entry.value(arg))
    if math.isfinite(value):
        return value, None
    if isinstance(node, Div) and args[1] == 0:
        return value, f"{text} divides by zero"
    if isinstance(node, Pow) and args[0] == 0 and args[1] < 0:
        return value, f"{text} is 0 to a negative power (a division by zero)"
    if isinstance(node, Pow) and args[0] < 0 and not float(args[1]).is_integer():
        return value, f"{text} is a negative number to a power that is not a whole number"
    return value, f"{text} is {value} (beyond float64)"


def undefined_at(expr: Expr, env: Mapping[str, float]) -> str | None:
    """None where ``expr`` is a finite real number at the point ``env``; else the first part
    that is undefined there, in words: ``log(x - 3) is log of -2 (log needs a number > 0)``,
    ``1/x divides by zero``, ``exp(x) is inf (beyond float64)``."""
    values = {name: float(env[name]) for name in free_variables(expr)}
    with np.errstate(all="ignore"):
        _, problem = _fold(expr, lambda node, kids: _undefined_step(node, kids, values))
    return cast(str | None, problem)


def evaluate_number(
    text: str,
    *,
    max_length: int = MAX_LENGTH,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    max_number_length: int = MAX_NUMBER_LENGTH,
) -> float:
    """Parse arithmetic without variables and return its float value (may be inf or nan)."""
    tree = parse(
        text,
        (),
        max_length=max_length,
        max_depth=max_depth,
        max_nodes=max_nodes,
        max_number_length=max_number_length,
    )
    return float(evaluate(tree, {}))


# --------------------------------------------------------------------------- simplify
def _num(value: float) -> Num:
    return Num(float(value) + 0.0)  # + 0.0 turns -0.0 into 0.0


def _is(node: Expr, value: float) -> bool:
    return isinstance(node, Num) and node.value == value


def _s_neg(a: Expr) -> Expr:
    if isinstance(a, Num):
        return _num(-a.value)
    if isinstance(a, Neg):
        return a.arg
    if isinstance(a, Mul) and isinstance(a.factors[0], Num):
        return _s_mul((_num(-a.factors[0].value), *a.factors[1:]))
    return Neg(a)


def _s_add(terms: tuple[Expr, ...]) -> Expr:
    const, spread, count, at = 0.0, 0.0, 0, -1
    rest, work = list[Expr](), list(reversed(terms))
    while work:
        t = work.pop()
        if isinstance(t, Add):
            work.extend(reversed(t.terms))
        elif isinstance(t, Num):
            const, at = const + t.value, len(rest) if at < 0 else at
            spread, count = spread + abs(t.value), count + 1
        else:
            rest.append(t)
    if not math.isfinite(const):  # overflow: leave the numbers unfolded
        return Add(terms)
    if abs(const) <= 2 * count * _UNIT * spread:  # 0.1 + 0.2 - 0.3 is 0, not 5.6e-17
        const = 0.0
    if const != 0:
        rest.insert(at, _num(const))  # the constant goes where the first number was
    return ZERO if not rest else rest[0] if len(rest) == 1 else Add(tuple(rest))


def _s_mul(factors: tuple[Expr, ...]) -> Expr:
    coef, rest, work = 1.0, list[Expr](), list(reversed(factors))
    while work:
        f = work.pop()
        if isinstance(f, Neg):
            coef = -coef
            work.append(f.arg)
        elif isinstance(f, Mul):
            work.extend(reversed(f.factors))
        elif isinstance(f, Num):
            coef *= f.value
        else:
            rest.append(f)
    if not math.isfinite(coef):  # overflow: leave the numbers unfolded
        return Mul(factors)
    if coef == 0 or not rest:
        return _num(coef)
    body = rest[0] if len(rest) == 1 else Mul(tuple(rest))
    return body if coef == 1 else Neg(body) if coef == -1 else Mul((_num(coef), *rest))


def _s_div(a: Expr, b: Expr) -> Expr:
    if isinstance(b, Num):
        if b.value in (1, -1):
            return a if b.value == 1 else _s_neg(a)
        if isinstance(a, Num) and b.value != 0 and math.isfinite(a.value / b.value):
            return _num(a.value / b.value)
    if _is(a, 0) and not _is(b, 0):
        return ZERO
    if isinstance(a, Neg):
        return _s_neg(_s_div(a.arg, b))
    return _s_neg(_s_div(a, b.arg)) if isinstance(b, Neg) else Div(a, b)


def _s_pow(b: Expr, x: Expr) -> Expr:
    if isinstance(x, Num):
        if x.value in (0, 1):
            return ONE if x.value == 0 else b
        if isinstance(b, Num):
            with np.errstate(all="ignore"):
                value = float(np.power(np.float64(b.value), np.float64(x.value)))
            if math.isfinite(value):
                return _num(value)
    return ONE if _is(b, 1) else Pow(b, x)


_IDENTITIES: dict[tuple[str, Expr], Expr] = {
    ("exp", ZERO): ONE, ("log", ONE): ZERO, ("ln", ONE): ZERO, ("log", Const("e")): ONE,
    ("ln", Const("e")): ONE, ("sqrt", ZERO): ZERO, ("sqrt", ONE): ONE,
    ("sigmoid", ZERO): Num(0.5), ("sin", ZERO): ZERO, ("cos", ZERO): ONE, ("tan", ZERO): ZERO,
    ("sinh", ZERO): ZERO, ("cosh", ZERO): ONE, ("tanh", ZERO): ZERO, ("asin", ZERO): ZERO,
    ("arcsin", ZERO): ZERO, ("acos", ONE): ZERO, ("arccos", ONE): ZERO, ("atan", ZERO): ZERO,
    ("arctan", ZERO): ZERO, ("abs", ZERO): ZERO,
}  # fmt: skip


def _simplify_step(node: Expr, kids: list[Expr]) -> Expr:
    match node:
        case Neg():
            return _s_neg(kids[0])
        case Add():
            return _s_add(tuple(kids))
        case Mul():
            return _s_mul(tuple(kids))
        case Div():
            return _s_div(kids[0], kids[1])
        case Pow():
            return _s_pow(kids[0], kids[1])
        case Call(func=func):
            return _IDENTITIES.get((func, kids[0]), Call(func, kids[0]))
    return node


def simplify(expr: Expr) -> Expr:
    """Fold constants, apply 0/1 identities, flatten sums and products, gather coefficients."""
    return _fold(expr, _simplify_step)


# --------------------------------------------------------------------------- diff
def diff(expr: Expr, var: str, *, max_nodes: int = MAX_DIFF_NODES) -> Expr:
    """Exact derivative of ``expr`` with respect to ``var``, simplified."""

    def step(node: Expr, d: list[Expr | None]) -> Expr | None:
        if isinstance(node, Var):
            return ONE if node.name == var else None
        if all(k is None for k in d):
            return None  # None: the derivative is 0
        match node:
            case Neg():
                return Neg(cast(Expr, d[0]))
            case Add():
                parts = [k for k in d if k is not None]
                return parts[0] if len(parts) == 1 else Add(tuple(parts))
            case Mul(factors=fs):
                hits = [(i, k) for i, k in enumerate(d) if k is not None]
                if len(hits) * len(fs) > max_nodes:
                    raise ExpressionError(f"derivative too large (limit {max_nodes} nodes)")
                prods = [Mul((*fs[:i], k, *fs[i + 1 :])) for i, k in hits]
                return prods[0] if len(prods) == 1 else Add(tuple(prods))
            case Div(num=u, den=v):
                du, dv = d
                if dv is None:
                    return Div(cast(Expr, du), v)
                quot = Div(Mul((u, dv)), Pow(v, Num(2.0)))
                return Neg(quot) if du is None else Add((Div(du, v), Neg(quot)))
            case Pow(base=f, exponent=g):
                df, dg = d
                if dg is None:  # constant exponent
                    return Mul((g, Pow(f, Add((g, Num(-1.0)))), cast(Expr, df)))
                if df is None:  # constant base
                    return Mul((node, dg)) if f == Const("e") else Mul((node, Call("log", f), dg))
                return Mul((node, Add((Mul((dg, Call("log", f))), Div(Mul((g, df)), f)))))
            case Call(func=func, arg=u):
                return function(func).derivative(node, u, cast(Expr, d[0]))
        return None

    result = simplify(_fold(expr, step) or ZERO)
    if _size(result) > max_nodes:
        raise ExpressionError(f"derivative too large (limit {max_nodes} nodes)")
    return result


# --------------------------------------------------------------------------- to_text
_Txt: TypeAlias = tuple[str, str, str | None]
"""A node's text, its form (atom pow neg mul div sum: what the text re-parses as), and
its magnitude (set when the text is "-" + magnitude and that is a valid term)."""

_ATOM = frozenset({"atom"})
_FIRST = frozenset({"atom", "pow", "neg", "mul"})  # bare as first factor or numerator
_TIGHT = frozenset({"atom", "pow"})  # bare as later factor, denominator or exponent


def _wrap(t: _Txt, allowed: frozenset[str]) -> str:
    return t[0] if t[1] in allowed else f"({t[0]})"


def _fmt(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def _text_step(node: Expr, kids: list[_Txt]) -> _Txt:
    kind = type(node)
    if kind is Num:
        s = _fmt(cast(Num, node).value)
        return (s, "neg", s[1:]) if s.startswith("-") else (s, "atom", None)
    if kind is Var or kind is Const:
        return (cast(Var | Const, node).name, "atom", None)
    if kind is Mul or kind is Div:
        first, op = _wrap(kids[0], _FIRST), "*" if kind is Mul else "/"
        s = op.join([first] + [_wrap(k, _TIGHT) for k in kids[1:]])
        mag = s[1:] if first is kids[0][0] and kids[0][2] is not None else None
        return (s, "mul" if op == "*" else "div", mag)
    if kind is Add:
        out = [kids[0][0]]
        for text, form, magnitude in kids[1:]:
            if magnitude is not None:
                out.append(f" - {magnitude}")
            else:
                out.append(f" + {text}" if form != "sum" else f" + ({text})")
        return ("".join(out), "sum", None)
    if kind is Call:
        return (f"{cast(Call, node).func}({kids[0][0]})", "atom", None)
    if kind is Pow:
        return (f"{_wrap(kids[0], _ATOM)}^{_wrap(kids[1], _TIGHT)}", "pow", None)
    if kind is Neg:
        text, form, _ = kids[0]
        bare = form != "sum" and not text.startswith("-")
        inner = text if bare else f"({text})"
        return ("-" + inner, form if bare and form in ("mul", "div") else "neg", inner)
    raise ExpressionError(f"not an expression: {node!r}")


def to_text(expr: Expr) -> str:
    """Readable text that ``parse`` reads back to an expression of the same value."""
    return _fold(expr, _text_step)[0]
