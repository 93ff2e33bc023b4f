"""A student's feedback as Markdown: every answer, right or not, with what was read.

Everything in it that a student's file can hold (the id, an unknown answer id quoted in a
warning, an answer quoted in a message, the reason a file could not be read) is escaped
where it lands: prose lines through ``markdown_line`` (no line break, control character or
bidi override survives, and Markdown and HTML characters are backslash-escaped, so a file
cannot add a heading such as a fake ``# Score: 100 / 100``, a link, an image or a tag),
and what the student wrote inside a code span through ``inline`` (one line, no backtick,
no control character). The feedback goes to ``feedback/*.md``, to the Classroom job
summary and, from ``grader check``, to a terminal.
"""

from __future__ import annotations

import re
from typing import Any

from grader.grading.results import ItemResult, StudentResult, all_numbers
from grader.intake.identity import controls_escaped
from grader.jsontext import dumps_any
from grader.rubric.models import Rubric

_MARK = {
    "correct": "✅ correct",
    "partial": "🟡 partly right",
    "incorrect": "❌ wrong",
    "missing": "⬜ missing",
    "unreadable": "⚠️ could not be read",
}


def mark(item: ItemResult) -> str:
    """The item's status; an error carried forward says so rather than 'partly right'."""
    if "ecf" in item.diagnoses and item.status == "partial":
        return "🔁 right given your earlier answers"
    return _MARK[item.status]


def render_feedback(result: StudentResult, rubric: Rubric) -> str:
    """The feedback file of one student."""
    lines = [
        f"# {rubric.title}: feedback for {markdown_text(result.student_id)}",
        "",
        f"**Score: {points(result.score)} / {points(result.max_score)}** ({result.percent:.1f} %)",
        "",
    ]
    if result.status == "error":
        lines += [
            "**Your submission could not be read**, so no answer was graded:",
            "",
            f"> {markdown_line(result.error or '')}",
            "",
            "Fix the file and submit it again.",
            "",
        ]
    for warning in result.warnings:
        lines.append(f"- ⚠️ {markdown_line(warning)}")
    if result.warnings:
        lines.append("")
    lines += ["| Answer | Result | Points |", "|---|---|---|"]
    lines += map(_table_line, result.items)
    lines.append("")
    if result.status == "graded":
        lines += (_item_section(item, rubric) for item in result.items)
    return "\n".join(lines).rstrip() + "\n"


def _table_line(item: ItemResult) -> str:
    return f"| `{item.id}` | {mark(item)} | {points(item.score)} / {points(item.max_score)} |"


def _item_section(item: ItemResult, rubric: Rubric) -> str:
    """The item's section: its lines, each ending with a line break, and a blank line."""
    title = f" — {item.title}" if item.title else ""
    lines = [
        f"## `{item.id}`{title}: {mark(item)} ({points(item.score)} / {points(item.max_score)})",
        "",
    ]
    if item.status != "missing":
        raw = inline(item.raw)
        lines.append(f"- You wrote: `{raw}`")
        if item.read is not None:
            read = inline(item.read)
            if read != raw:
                lines.append(f"- Read as: `{read}`")
    lines.append(f"- {markdown_line(item.message)}")
    if rubric.feedback.show_expected and item.status != "correct":
        lines.append(f"- Expected: `{inline(item.expected)}`")
    lines.append("")
    return "\n".join(lines)


def markdown_text(text: str) -> str:
    """Text shown as itself in Markdown: a student id cannot inject links or markup."""
    return " ".join(markdown_line(text).split())[:200]


# An underscore between two letters or digits (``dL_dyhat``) never emphasises (CommonMark):
# it stays, so that answer ids read as written.
_MARKDOWN = re.compile(r"[\\`*\[\]<>#|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def markdown_line(text: str) -> str:
    """``text`` as one line of Markdown that shows exactly it: control characters (line
    breaks, terminal escapes) and bidi controls written as ``\\xNN``/``\\uNNNN``, and
    every character Markdown or HTML gives a meaning to backslash-escaped."""
    return _MARKDOWN.sub(r"\\\g<0>", controls_escaped(text))


def inline(value: Any) -> str:
    """A value on one line, as short as it reads well, with no backticks."""
    if isinstance(value, str):
        text = value[:1000]
    elif type(value) is list and _within_forty(value) and all_numbers(value):
        text = dumps_any(value)  # numbers: no space to fold, no backtick (the common case)
        return text if len(text) <= 300 else text[:297] + "..."
    else:  # clip first: a student's million-entry list must not be serialised whole
        text = dumps_any(value if _small(value) else _clip(value))
    text = controls_escaped(" ".join(text.split()).replace("`", "'"))
    return text if len(text) <= 300 else text[:297] + "..."


def _within_forty(value: list[Any]) -> bool:
    """At most 40 entries, and at most 40 in each row that is a list (what ``_clip``
    keeps whole)."""
    return len(value) <= 40 and all(len(row) <= 40 for row in value if type(row) is list)


def _small(value: Any) -> bool:
    """Is ``value`` shown whole: a scalar, or a list of at most 40 scalars or flat lists
    of at most 40 scalars?"""
    if isinstance(value, dict):
        return False
    if not isinstance(value, list):
        return True
    if len(value) > 40:
        return False
    for each in value:
        if isinstance(each, dict):
            return False
        if isinstance(each, list) and (
            len(each) > 40 or any(isinstance(x, list | dict) for x in each)
        ):
            return False
    return True


def _clip(value: Any, depth: int = 0) -> Any:
    """At most 40 entries per list and 3 levels, enough for any answer shown in full."""
    if isinstance(value, list):
        if depth >= 3:
            return "..."
        head = [_clip(each, depth + 1) for each in value[:40]]
        return [*head, "..."] if len(value) > 40 else head
    if isinstance(value, dict):
        return "{...}"
    return value


def points(value: float) -> str:
    """Points without trailing zeros: 8, 5.33, 2.5."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
