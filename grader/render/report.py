"""The class report (``grader report``): one self-contained HTML page.

Everything is inside the file: the style sheet, and the plots as SVG images in
``data:`` URLs, so it opens without a network, can be mailed, and shows the same
anywhere. Every text that comes from a submission (student ids, file names, reasons) is
HTML-escaped. The layout reads on a phone (one column, tables scroll sideways) and
prints (no backgrounds, sections kept whole where they fit).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from html import escape

import pandas as pd

from grader.render.plots import (
    WEAK_DISCRIMINATION,
    discrimination_svg,
    histogram_svg,
    outcomes_svg,
)
from grader.stats.items import ScoreStatistics
from grader.stats.table import OUTCOMES

SHOWN_INLINE = 20
"""Students named per line before the rest fold into a 'show all' list."""

MEANINGS = {
    "sign_flip": "the right magnitude with the wrong sign",
    "power_of_ten": "the right digits, the decimal point moved",
    "transposed": "a matrix given transposed",
    "factor_two": "half or twice the answer (the ½ of the loss dropped or added)",
    "missing_bias": "the bias term left out",
    "wrong_derivative": "a step's derivative replaced by a common wrong one",
    "too_coarse": "right, but rounded more coarsely than the tolerance accepts",
    "ecf": "wrong, but right given the student's own earlier answers",
}
"""What each diagnosis code means, in the words of the README."""

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  margin: 0; color: #1b1b1b; background: #fff; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05rem; margin-bottom: 0.3rem; }
figure { margin: 0.5rem 0; }
figure img { display: block; width: 100%; max-width: 44rem; height: auto; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.3rem 0.6rem; text-align: left;
  vertical-align: top; }
th { background: #f5f5f5; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 0.9em; overflow-wrap: anywhere; }
.weak { color: #c62828; font-weight: 600; }
td:first-child code { white-space: nowrap; }
.note { color: #555; font-size: 0.9rem; }
ul.reasons { margin: 0; padding-left: 1.1rem; }
@media (max-width: 600px) {
  body { font-size: 15px; }
  main { padding: 0.6rem; }
  th, td { padding: 0.25rem 0.4rem; }
}
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  th { background: none; }
  section { break-inside: avoid-page; }
  h2, h3 { break-after: avoid-page; }
  figure img { max-width: 16cm; }
  .scroll { overflow: visible; }
  details > summary { display: none; }
}
"""


def _img(svg: str, alt: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<figure><img alt="{escape(alt)}" src="data:image/svg+xml;base64,{data}"></figure>'


def _figure(value: float, digits: int = 2) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def _students(names: Sequence[str]) -> str:
    shown = ", ".join(escape(name) for name in names[:SHOWN_INLINE])
    if len(names) <= SHOWN_INLINE:
        return shown
    rest = ", ".join(escape(name) for name in names[SHOWN_INLINE:])
    return (
        f"{shown} <details><summary>and {len(names) - SHOWN_INLINE} more</summary>{rest}</details>"
    )


def _meaning(code: str) -> str:
    if code.startswith("other_answer:"):
        return f"the value that belongs to {code.partition(':')[2]}"
    return MEANINGS.get(code, "")


def render_report(
    title: str,
    titles: Mapping[str, str | None],
    statistics: ScoreStatistics,
    histogram: pd.DataFrame,
    analysis: pd.DataFrame,
    diagnoses: pd.DataFrame,
    attention: pd.DataFrame,
) -> str:
    """The report page. ``titles``: each answer id's title (or None); the tables are
    those of ``grader.stats`` (``score_histogram``, ``item_analysis``,
    ``diagnosis_table``, ``students_to_talk_to``)."""
    s = statistics
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)} — class report</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<h1>{escape(title)} — class report</h1>",
        '<section id="summary"><h2>Summary</h2><div class="scroll"><table>',
        "<tr><th class='n'>students</th><th class='n'>unreadable</th><th class='n'>mean</th>"
        "<th class='n'>median</th><th class='n'>sd</th><th class='n'>min</th>"
        "<th class='n'>max</th><th class='n'>out of</th></tr>",
        f"<tr><td class='n'>{s.students}</td><td class='n'>{s.unreadable}</td>"
        f"<td class='n'>{_figure(s.mean)}</td><td class='n'>{_figure(s.median)}</td>"
        f"<td class='n'>{_figure(s.sd)}</td><td class='n'>{_figure(s.minimum)}</td>"
        f"<td class='n'>{_figure(s.maximum)}</td><td class='n'>{s.max_score:g}</td></tr>",
        "</table></div>",
        "<p class='note'>Over every student in the gradebook; a file that could not be read "
        "counts 0. sd: the sample standard deviation.</p></section>",
        '<section id="totals"><h2>Totals</h2>',
        _img(histogram_svg(histogram, s.max_score), "Histogram of the students' totals"),
        "</section>",
        *_questions(titles, analysis),
        *_discrimination(analysis),
        *_mistakes(titles, diagnoses),
        *_attention(attention, s.max_score),
        "</main></body></html>",
    ]
    return "\n".join(out) + "\n"


def _title(answer_id: str, titles: Mapping[str, str | None]) -> str:
    found = titles.get(answer_id)
    return f" — {escape(found)}" if found else ""


def _questions(titles: Mapping[str, str | None], analysis: pd.DataFrame) -> list[str]:
    head = "".join(f"<th class='n'>{name}</th>" for name in OUTCOMES)
    rows = []
    for answer_id, row in analysis.iterrows():
        shares = "".join(f"<td class='n'>{100 * row[name]:.0f}%</td>" for name in OUTCOMES)
        rows.append(
            f"<tr><td><code>{escape(str(answer_id))}</code>{_title(str(answer_id), titles)}"
            f"</td><td class='n'>{row['points']:g}</td><td class='n'>{row['mean_score']:.2f}"
            f"</td>{shares}</tr>"
        )
    return [
        '<section id="questions"><h2>Questions</h2>',
        "<p class='note'>Per answer, the share of the class that got it right outright, "
        "partly right, right given their own earlier answers (ecf: error carried forward), "
        "wrong, missing, or unreadable.</p>",
        _img(outcomes_svg(analysis), "Per answer, the shares of each outcome"),
        "<div class='scroll'><table><tr><th>answer</th><th class='n'>points</th>"
        f"<th class='n'>mean</th>{head}</tr>",
        *rows,
        "</table></div></section>",
    ]


def _discrimination(analysis: pd.DataFrame) -> list[str]:
    rows = []
    for answer_id, value in analysis["discrimination"].items():
        weak = " class='n weak'" if value < WEAK_DISCRIMINATION else " class='n'"
        rows.append(
            f"<tr><td><code>{escape(str(answer_id))}</code></td><td{weak}>{value:.2f}</td></tr>"
        )
    return [
        '<section id="discrimination"><h2>Discrimination</h2>',
        "<p class='note'>The correlation of an answer's points with the points of the rest "
        "of the homework, over the students whose file was read (−1 to 1; 0 when everyone "
        f"earned the same on either side). Below {WEAK_DISCRIMINATION:g} (in red) the answer "
        "tells strong students from weak ones poorly; below 0 the stronger students did "
        "worse on it: worth a look at the question and the key.</p>",
        _img(discrimination_svg(analysis), "Per answer, the discrimination index"),
        "<div class='scroll'><table><tr><th>answer</th><th class='n'>discrimination</th></tr>",
        *rows,
        "</table></div></section>",
    ]


def _mistakes(titles: Mapping[str, str | None], diagnoses: pd.DataFrame) -> list[str]:
    out = ['<section id="mistakes"><h2>Mistakes, per question</h2>']
    if diagnoses.empty:
        return [*out, "<p>No mistake was recognised in any answer.</p></section>"]
    out.append(
        "<p class='note'>The mistakes the grader recognised in each answer, commonest "
        "first, and the students who made them.</p>"
    )
    for answer_id, rows in diagnoses.groupby("answer_id", sort=False):
        out += [
            f"<h3><code>{escape(str(answer_id))}</code>{_title(str(answer_id), titles)}</h3>",
            "<div class='scroll'><table><tr><th>mistake</th><th class='n'>students</th>"
            "<th>who</th></tr>",
        ]
        found = zip(
            rows["code"].tolist(), rows["count"].tolist(), rows["students"].tolist(), strict=True
        )
        for code, count, students in found:
            meaning = _meaning(str(code))
            said = f"<br><span class='note'>{escape(meaning)}</span>" if meaning else ""
            out.append(
                f"<tr><td><code>{escape(str(code))}</code>{said}</td><td class='n'>{count}</td>"
                f"<td>{_students([str(name) for name in students])}</td></tr>"
            )
        out.append("</table></div>")
    out.append("</section>")
    return out


def _attention(attention: pd.DataFrame, max_score: float) -> list[str]:
    out = ['<section id="students"><h2>Students to talk to</h2>']
    if attention.empty:
        return [
            *out,
            "<p>Nobody: no low total, repeated mistake, unreadable file or second "
            "submission.</p></section>",
        ]
    out += [
        "<p class='note'>A total below half the points, one conceptual mistake (sign, "
        "factor of two, bias, derivative, transpose) on several answers, a file or answers "
        "that could not be read, or more than one submission. Lowest total first.</p>",
        "<div class='scroll'><table><tr><th>student</th><th class='n'>total</th><th>why</th></tr>",
    ]
    listed = zip(
        attention["student_id"].tolist(),
        attention["total"].tolist(),
        attention["reasons"].tolist(),
        strict=True,
    )
    for student_id, total, reasons_given in listed:
        reasons = "".join(f"<li>{escape(str(reason))}</li>" for reason in reasons_given)
        out.append(
            f"<tr><td>{escape(str(student_id))}</td>"
            f"<td class='n'>{total:g} / {max_score:g}</td>"
            f"<td><ul class='reasons'>{reasons}</ul></td></tr>"
        )
    out.append("</table></div></section>")
    return out
