"""Reading a number the way a person typed it.

Accepted: plain and scientific notation (``1.5e-3``), the Unicode minus and dashes,
``×``/``·`` and ``10^k`` (``1.5×10^-3``), a leading ``≈`` or ``~``, spaces and no-break
spaces around, fractions and arithmetic (``1/2``, ``exp(0.09)/(1+exp(0.09))``, through
the safe expression parser), and a decimal comma where it cannot be read another way
(``0,52``, ``-1,5``). ``1,234`` is refused: a decimal comma or a thousands separator?
"""

from __future__ import annotations

import math
import re

from grader import expr
from grader.errors import ExpressionError

MAX_NUMBER_TEXT = 1_000
"""Longest text read as one number (an expression longer than this is refused)."""

_DASHES = dict.fromkeys(map(ord, "\u2212\u2012\u2013\u2014\u2010\u2011\ufe63\uff0d"), "-")
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_PLAIN = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"([+-]?)(\d+),(\d+)")
_THOUSANDS_LIKE = re.compile(r"[+-]?\d{1,3}(,\d{3})+")


class NumberError(ValueError):
    """Internal: a text that is not a number; the message says why."""


def normalise(text: str) -> str:
    """Unicode dashes to ``-``, spaces folded, a leading ``≈``/``~``/``=`` dropped."""
    text = text.translate(_DASHES)
    text = _SPACES.sub(" ", text).strip()
    text = text.lstrip("≈~").strip() if text[:1] in "≈~" else text
    return text


def read_number(text: str) -> float:
    """The number a person meant by ``text``; raise ``NumberError`` saying why not."""
    if len(text) > MAX_NUMBER_TEXT:
        raise NumberError(f"{len(text)} characters is too long for a number (at most {MAX_NUMBER_TEXT})")
    cleaned = normalise(text)
    if not cleaned:
        raise NumberError("empty")
    if _PLAIN.fullmatch(cleaned):
        return float(cleaned)
    if "," in cleaned:
        return _with_comma(cleaned)
    try:
        return expr.evaluate_number(cleaned, max_length=MAX_NUMBER_TEXT)
    except ExpressionError as error:
        raise NumberError(f"not a number: {error}") from None


def _with_comma(text: str) -> float:
    if _THOUSANDS_LIKE.fullmatch(text) and not text.lstrip("+-").startswith("0"):
        raise NumberError(
            f"'{text}' is ambiguous: a decimal comma or a thousands separator? "
            "Write it with a decimal point (e.g. 1.234 or 1234)"
        )
    match = _DECIMAL_COMMA.fullmatch(text)
    if match:
        sign, whole, fraction = match.groups()
        return float(f"{sign}{whole}.{fraction}")
    raise NumberError(f"'{text}' is not a number (a comma only as a decimal comma, as in 0,52)")


def is_finite(value: float) -> bool:
    return math.isfinite(value)
