"""Student ids: the one rule that turns a text from a file, a file name or a folder name
into a student id, or refuses it.

``canonical_id`` is that rule (docs/untrusted-input.md, "Student ids"):

* the text is put in Unicode normal form NFC (``Zoe`` + U+0308 and ``Zoë`` are one id,
  as they are one name on screen), and spaces around it are dropped;
* it is refused, never cleaned, when it holds a character that cannot be seen or that
  does not stand for itself: control characters (newlines, tabs, NUL), formatting and
  other default-ignorable characters (zero-width spaces and joiners, bidi overrides,
  soft hyphens, variation selectors, Hangul fillers), spaces other than U+0020,
  unassigned and private-use code points, and lone surrogates (a file name of bytes
  that are not UTF-8);
* it is refused when empty, longer than ``Limits.max_id_length`` characters (200), or
  when it begins with ``?`` (the mark of the rows of refused ids, ``fallback_id``).

Nothing else is changed: case, inner spaces and look-alike letters are kept, so two
different texts give two different ids (``Alice`` and ``alice`` are two students;
``grader.run.output.FileNames`` still gives them two feedback files). Every part of the
grader that needs a student's id (a variant drawn per student, a roster match) uses the
id this gives.

``looks_like_placeholder`` recognises the id of a template that nobody filled in
(``YOUR_ID_HERE``, ``<student id>``, ``TODO``).
"""

from __future__ import annotations

import re
import unicodedata

from grader.errors import SubmissionError
from grader.limits import DEFAULT_LIMITS

# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties) and the blank letters
# that render as nothing: an id holding one looks like another id.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_REFUSED_CATEGORIES = frozenset(["Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"])

_PLACEHOLDERS = frozenset(
    [
        "id",
        "name",
        "student",
        "studentid",
        "studentname",
        "studentnumber",
        "username",
        "login",
        "todo",
        "tbd",
        "fixme",
        "changeme",
        "placeholder",
        "example",
        "none",
        "null",
        "unknown",
        "anonymous",
        "firstlast",
        "firstnamelastname",
        "lastnamefirstname",
        "abc123",
    ]
)


def canonical_id(
    text: str,
    *,
    source: str | None = None,
    what: str = "student id",
    max_length: int = DEFAULT_LIMITS.max_id_length,
) -> str:
    """The student id ``text`` stands for (see the module's rule), or a
    ``SubmissionError`` naming ``source`` and saying which character is refused."""
    text = text[: 4 * max_length + 1]  # far beyond the cap: cut, to bound the work
    if not (text.isascii() and text.isprintable()):
        text = unicodedata.normalize("NFC", text)
    text = text.strip(" ")
    if not text:
        raise SubmissionError(f"the {what} is empty", source=source)
    bad = refused_character(text)
    if bad is not None:
        raise SubmissionError(
            f"the {what} {shown(text)} holds {describe(bad)}, which cannot be seen or does "
            "not stand for itself: write the id without it",
            source=source,
        )
    if len(text) > max_length:
        raise SubmissionError(f"the {what} is longer than {max_length} characters", source=source)
    if text.startswith(REFUSED_MARK):
        raise SubmissionError(
            f"the {what} {shown(text)} begins with {REFUSED_MARK!r}, which marks the rows of "
            "ids that could not be read",
            source=source,
        )
    return text


def refused_character(text: str) -> str | None:
    """The first character of ``text`` that no student id may hold, if any."""
    if text.isascii():
        for char in text:
            if not char.isprintable():
                return char
        return None
    for char in text:
        if char == " ":
            continue
        if unicodedata.category(char) in _REFUSED_CATEGORIES or _invisible(ord(char)):
            return char
    return None


def _invisible(code: int) -> bool:
    return any(low <= code <= high for low, high in _INVISIBLE_RANGES)


def describe(char: str) -> str:
    """``U+200B (ZERO WIDTH SPACE)``; a lone surrogate from a file name is a byte."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
        return f"the byte 0x{code - 0xDC00:02X}, which is not UTF-8 (rename the file)"
    name = unicodedata.name(char, "")
    return f"U+{code:04X}" + (f" ({name})" if name else "")


def shown(text: str, limit: int = 60) -> str:
    """``text`` quoted on one line, every invisible or control character written as an
    escape (``'ali\\u200bce'``), cut to ``limit`` characters: safe to print or log."""
    cut = text if len(text) <= limit else text[: limit - 3] + "..."
    return "'" + visible(cut) + "'"


def visible(text: str) -> str:
    """``text`` with every character ``refused_character`` refuses (and backslashes)
    written as a Python escape, so that it is one line and shows what it holds."""
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text
    parts = []
    for char in text:
        if char == "\\":
            parts.append("\\\\")
        elif char != " " and (
            not char.isprintable()
            or unicodedata.category(char) in _REFUSED_CATEGORIES
            or _invisible(ord(char))
        ):
            code = ord(char)
            if 0xDC80 <= code <= 0xDCFF:
                parts.append(f"\\x{code - 0xDC00:02x}")
            elif code <= 0xFF:
                parts.append(f"\\x{code:02x}")
            elif code <= 0xFFFF:
                parts.append(f"\\u{code:04x}")
            else:
                parts.append(f"\\U{code:08x}")
        else:
            parts.append(char)
    return "".join(parts)


_CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def controls_escaped(text: str) -> str:
    """``text`` with its control characters (line breaks, terminal escapes) and bidi
    controls written as ``\\xNN``/``\\uNNNN`` and nothing else changed: one line that
    shows in a terminal, a CI log or Markdown in the order it is written."""
    return _CONTROLS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


REFUSED_MARK = "?"
"""How the id of a row whose id was refused begins (no accepted id does)."""


def fallback_id(text: str) -> str:
    """The id of the row of a submission whose id was refused: ``?`` and the refused
    text with its invisible characters escaped (``?ali\\u200bce``), visible, and never
    an id ``canonical_id`` accepts, so that such a row can replace no student's row."""
    most = DEFAULT_LIMITS.max_id_length
    text = unicodedata.normalize("NFC", text[: 4 * most]).strip(" ")
    return REFUSED_MARK + (visible(text)[:most] or "(empty)")


def looks_like_placeholder(student_id: str) -> bool:
    """Is this the id a template left for the student to fill in (``YOUR_ID_HERE``,
    ``<student id>``, ``your-name``, ``TODO``, ``xxx``)?"""
    text = student_id.strip()
    if len(text) >= 2 and (text[0], text[-1]) in (("<", ">"), ("{", "}"), ("[", "]")):
        return True
    letters = "".join(char for char in text.casefold() if char.isalnum())
    if not letters:
        return False
    if letters.startswith("your") or letters.startswith("insert") or letters.startswith("enter"):
        return True
    if letters.endswith("here") and len(letters) > 4:
        return True
    if set(letters) <= {"x"} and len(letters) >= 3:
        return True
    return letters in _PLACEHOLDERS
