"""A student's feedback as HTML (what a notebook shows for ``grader.check``): the same
content as the Markdown feedback (``grader.render.feedback``), line for line, with every
text a student wrote escaped."""

from __future__ import annotations

from html import escape

from grader.grading.results import ItemResult, StudentResult
from grader.render.feedback import inline, mark, points
from grader.rubric.models import Rubric

_STYLE = (
    "<style>.grader-feedback table{border-collapse:collapse}"
    ".grader-feedback td,.grader-feedback th{border:1px solid #ccc;padding:2px 8px;"
    "text-align:left}.grader-feedback code{white-space:pre-wrap}</style>"
)


def render_feedback_html(result: StudentResult, rubric: Rubric) -> str:
    """One student's feedback as an HTML fragment."""
    parts = [
        _STYLE,
        '<div class="grader-feedback">',
        f"<h3>{escape(rubric.title)}: feedback for {escape(result.student_id)}</h3>",
        f"<p><strong>Score: {points(result.score)} / {points(result.max_score)}</strong> "
        f"({result.percent:.1f} %)</p>",
    ]
    if result.status == "error":
        parts += [
            "<p><strong>Your submission could not be read</strong>, so no answer was graded:</p>",
            f"<blockquote>{escape(result.error or '')}</blockquote>",
            "<p>Fix the file and submit it again.</p>",
        ]
    if result.warnings:
        parts.append("<ul>")
        parts += (f"<li>⚠️ {escape(warning)}</li>" for warning in result.warnings)
        parts.append("</ul>")
    parts.append("<table><tr><th>Answer</th><th>Result</th><th>Points</th></tr>")
    parts += (
        f"<tr><td><code>{escape(item.id)}</code></td><td>{escape(mark(item))}</td>"
        f"<td>{points(item.score)} / {points(item.max_score)}</td></tr>"
        for item in result.items
    )
    parts.append("</table>")
    if result.status == "graded":
        parts += (_item_section(item, rubric) for item in result.items)
    parts.append("</div>")
    return "\n".join(parts) + "\n"


def _item_section(item: ItemResult, rubric: Rubric) -> str:
    title = f" — {escape(item.title)}" if item.title else ""
    lines = [
        f"<h4><code>{escape(item.id)}</code>{title}: {escape(mark(item))} "
        f"({points(item.score)} / {points(item.max_score)})</h4>",
        "<ul>",
    ]
    if item.status != "missing":
        raw = inline(item.raw)
        lines.append(f"<li>You wrote: <code>{escape(raw)}</code></li>")
        if item.read is not None:
            read = inline(item.read)
            if read != raw:
                lines.append(f"<li>Read as: <code>{escape(read)}</code></li>")
    lines.append(f"<li>{escape(item.message)}</li>")
    if rubric.feedback.show_expected and item.status != "correct":
        lines.append(f"<li>Expected: <code>{escape(inline(item.expected))}</code></li>")
    lines.append("</ul>")
    return "\n".join(lines)
