"""Reading a number the way a person typed it.

Accepted: plain and scientific notation (``1.5e-3``), the Unicode minus and dashes,
``×``/``·`` and ``10^k`` (``1.5×10^-3``, ``1.5 x 10^-3``, ``1.5·10⁻³``), a leading ``≈``,
``~`` or ``=``, spaces and no-break spaces around, fractions and arithmetic (``1/2``,
``exp(0.09)/(1+exp(0.09))``, through the safe expression parser ``grader.solver.expr``).

Commas (the rules of ``docs/untrusted-input.md``):

* by default a comma is a decimal comma only where it cannot be read another way: one
  comma between digits (``0,52``, ``-15,89``, ``0,520``); ``1,234`` (a decimal comma or a
  thousands separator?) is refused with a message that says so;
* with ``decimal_comma=True`` (a cell of a ``;``- or tab-delimited spreadsheet, as
  European Excel writes them) a comma between two digits is the decimal comma, so
  ``1,234`` is 1.234;
* in both, a number with several commas (``1,234,567``), or with a comma and a decimal
  point (``1,234.5``, ``1.234,5``), is refused: thousands separators are never read.

A value that is not finite (``NaN``, ``inf``, ``∞``, ``1e400``, ``9**9**9**9``, ``1/0``)
is read as such, and grading marks it wrong ("Not a finite number."). Every refusal is an
``AnswerError`` whose message says why.
"""

from __future__ import annotations

import re

from grader.errors import AnswerError, ExpressionError
from grader.limits import DEFAULT_LIMITS, Limits
from grader.solver import expr

_DASHES = dict.fromkeys(map(ord, "\u2212\u2012\u2013\u2014\u2010\u2011\ufe63\uff0d"), "-")
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_LEADING = "≈~∼≃="
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_POWER = re.compile(r"[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_TIMES_X = re.compile(r"(?<=[0-9.])\s*+[xX]\s*+(?=10\s*+(\^|\*\*|[⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹]))")
# Linear-time patterns only (see grader.intake.values): possessive quantifiers, and a
# look-behind where a match may only start at the beginning of a run of digits.
_PLAIN = re.compile(r"[+-]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+")
_COMMA_NUMBER = re.compile(r"(?<![0-9])[0-9]++(?:,[0-9]++)++")
_THOUSANDS_LIKE = re.compile(r"[1-9][0-9]{0,2},[0-9]{3}")
_SPACED_EXPONENT = re.compile(
    r"([+-]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++))\s*+([eE])\s*+([+-]?+)\s*+([0-9]++)"
)
_NON_FINITE = re.compile(r"([+-]?)(nan|inf|infinity|∞)", re.IGNORECASE)


def normalise(text: str) -> str:
    """Unicode dashes to ``-``, spaces folded, a leading ``≈``/``~``/``=`` dropped,
    superscript powers and ``x 10^`` written as the expression parser reads them."""
    text = text.translate(_DASHES)
    text = _SPACES.sub(" ", text).strip()
    text = text.lstrip(_LEADING).strip()
    text = _TIMES_X.sub("*", text)
    return _POWER.sub(lambda match: "^(" + match.group().translate(_SUPERSCRIPT) + ")", text)


def read_number(
    text: str, *, decimal_comma: bool = False, limits: Limits = DEFAULT_LIMITS
) -> float:
    """The number a person meant by ``text``; raise ``AnswerError`` saying why not.

    ``decimal_comma``: a comma between two digits is the decimal comma (see the module
    docstring). ``limits``: the caps (``max_number_text`` characters at most; an
    arithmetic expression also under the expression caps).
    """
    limit = limits.max_number_text
    if len(text) > limit:
        raise AnswerError(f"{len(text):,} characters is too long for a number (at most {limit:,})")
    cleaned = normalise(text)
    if not cleaned:
        raise AnswerError("empty: expected a number")
    non_finite = _NON_FINITE.fullmatch(cleaned)
    if non_finite:
        sign, word = non_finite.groups()
        return float(sign + ("nan" if word.lower() == "nan" else "inf"))
    if "," in cleaned:
        cleaned = _commas_to_points(cleaned, decimal_comma)
    if _PLAIN.fullmatch(cleaned):
        return float(cleaned)
    spaced = _SPACED_EXPONENT.fullmatch(cleaned)
    if spaced:  # '5.67 e-2' is scientific notation, not 5.67·e − 2
        return float("".join(spaced.groups()))
    try:
        return expr.evaluate_number(
            cleaned,
            max_length=limit,
            max_depth=limits.max_expression_depth,
            max_nodes=limits.max_expression_nodes,
            max_number_length=limits.max_literal_length,
        )
    except ExpressionError as error:
        raise AnswerError(f"not a number: {error}") from None


def _commas_to_points(text: str, decimal_comma: bool) -> str:
    """``text`` with its decimal commas made points; refuse what is ambiguous."""
    groups = list(_COMMA_NUMBER.finditer(text))
    if text.count(",") != sum(match.group().count(",") for match in groups):
        raise AnswerError(
            f"'{text}' is not one number: a comma here can only be a decimal comma "
            "between digits, as in 0,52"
        )
    for match in groups:
        number = match.group()
        if "." in (text[match.start() - 1 : match.start()], text[match.end() : match.end() + 1]):
            raise AnswerError(
                f"'{text}' has both a comma and a decimal point: thousands separators are not "
                "read; write the number with one decimal point (e.g. 1234.5)"
            )
        if number.count(",") > 1:
            tail = (
                ", and a vector's entries are separated by spaces or '; '" if decimal_comma else ""
            )
            raise AnswerError(
                f"'{number}' has several commas: thousands separators are not read "
                f"(write {number.replace(',', '')}){tail}"
            )
        if not decimal_comma and _THOUSANDS_LIKE.fullmatch(number):
            raise AnswerError(
                f"'{number}' is ambiguous: a decimal comma or a thousands separator? "
                f"Write it with a decimal point (e.g. {number.replace(',', '.')} or "
                f"{number.replace(',', '')})"
            )
    return text.replace(",", ".")
