"""``grader report``: one self-contained HTML page built from results.jsonl, the same
after ``grader merge``, with every student-written text escaped, rendered in a real
browser (headless Chromium) with its plots and tables; and matplotlib kept off
``grade``'s start-up."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app
from tests.conftest import EXAMPLES, ROOT

HW = str(ROOT / "rubrics" / "hw.yaml")
ANSWERS = 17


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _graded(out: Path, submissions: Path = EXAMPLES) -> Path:
    code, _ = _run("grade", str(submissions), "--rubric", HW, "--out", str(out))
    assert code == 1  # the example class has one unreadable file
    return out


class Page(HTMLParser):
    """What a page holds: its elements' tags and attributes, the rows of each table."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[int] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append(0)
        elif tag == "tr" and self.tables:
            self.tables[-1] += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def _urls(page: Page) -> list[str]:
    return [
        value
        for _, attrs in page.tags
        for name, value in attrs.items()
        if name in ("src", "href", "srcset", "action", "data", "poster") and value is not None
    ]


def test_report_of_the_example_class(tmp_path: Path) -> None:
    """report.html is written into the graded folder: three plots as inline SVG images,
    a table row per answer id, the mistakes per question, the students to talk to, and
    no URL that leaves the file."""
    out = _graded(tmp_path / "grades")
    code, output = _run("report", str(out), "--rubric", HW)
    assert code == 0, output
    html = (out / "report.html").read_text(encoding="utf-8")
    page = parse(html)
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    assert len(images) == 3
    assert all(str(a["src"]).startswith("data:image/svg+xml;base64,") for a in images)
    assert all(url.startswith("data:") for url in _urls(page))
    assert "<link" not in html and "@import" not in html and "<script" not in html
    ids = [attrs.get("id") for tag, attrs in page.tags if tag == "section"]
    assert ids == ["summary", "totals", "questions", "discrimination", "mistakes", "students"]
    assert ANSWERS + 1 in page.tables  # the questions table: a header and a row per answer
    text = "".join(page.text)
    assert "broken-upload" in text and "sign_flip on 4 answers" in text
    assert '<meta name="viewport"' in html and "@media print" in html


def test_student_written_text_is_escaped(tmp_path: Path) -> None:
    """A student id, a file name and what they wrote reach the page as text, never as
    markup."""
    folder = tmp_path / "in"
    folder.mkdir()
    answers = json.loads((EXAMPLES / "linus-sign-errors.json").read_text(encoding="utf-8"))
    answers["student_id"] = 'x"><svg onload=alert(1)>'  # not a placeholder: a real id
    (folder / "evil.json").write_text(json.dumps(answers), encoding="utf-8")
    (folder / "<img src=x onerror=alert(2)>.json").write_text("{", encoding="utf-8")
    out = tmp_path / "out"
    _run("grade", str(folder), "--rubric", HW, "--out", str(out))
    code, _ = _run("report", str(out), "--rubric", HW, "--out", str(tmp_path / "r.html"))
    assert code == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<svg onload" not in html and "<img src=x" not in html
    assert "x&quot;&gt;&lt;svg onload=alert(1)&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_report_after_merge_is_the_report_of_one_run(tmp_path: Path) -> None:
    """Shards merged with grader merge give the report one run gives."""
    one = _graded(tmp_path / "one")
    shards = []
    for part in ("1/2", "2/2"):
        shard = tmp_path / f"shard-{part[0]}"
        code, _ = _run("grade", str(EXAMPLES), "--rubric", HW, "--out", str(shard), "--shard", part)
        assert code in (0, 1)
        shards.append(str(shard / "results.jsonl"))
    merged = tmp_path / "merged"
    code, _ = _run("merge", *shards, "--rubric", HW, "--out", str(merged))
    assert code == 1
    for folder in (one, merged):
        assert _run("report", str(folder), "--rubric", HW)[0] == 0
    assert (one / "report.html").read_bytes() == (merged / "report.html").read_bytes()


def test_report_refuses_results_of_another_rubric(tmp_path: Path) -> None:
    """A folder graded with another rubric: exit 2, naming the file, nothing written."""
    out = _graded(tmp_path / "grades")
    code, output = _run("report", str(out), "--rubric", str(ROOT / "rubrics" / "wide-sigmoid.yaml"))
    assert code == 2 and "results.jsonl line 1" in output
    assert not (out / "report.html").exists()
    code, output = _run("report", str(tmp_path / "nowhere"), "--rubric", HW)
    assert code == 2 and "no such file" in output


def test_matplotlib_is_not_imported_by_grade_and_pandas_not_by_check() -> None:
    """grade's modules (and the Python API) leave matplotlib out; importing grader and
    what grader check runs leaves pandas out too."""
    code = (
        "import sys, grader, grader.cli, grader.intake.readers, grader.render.feedback, "
        "grader.run.prepare, grader.variants.keys\n"
        "check = 'pandas' in sys.modules\n"
        "import grader.run.batch, grader.api, grader.run.merge\n"
        "print(check, 'matplotlib' in sys.modules, 'pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "True"]


# --- in a real browser ------------------------------------------------------------------


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:  # .ci/run installs it; a machine without it fails rather than skips
        pytest.fail("chromium is not installed: apt-get install -y chromium (as .ci/run does)")
    return found


def _browser(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chromium_renders_the_report_with_its_plots_and_tables(tmp_path: Path) -> None:
    """Headless Chromium loads report.html from disk (no network): the DOM it built has
    the three plots, the tables and their rows; it draws the page wide and at a phone's
    width (screenshots kept in the test's folder)."""
    chromium = _chromium()
    out = _graded(tmp_path / "grades")
    assert _run("report", str(out), "--rubric", HW)[0] == 0
    url = (out / "report.html").resolve().as_uri()
    dom = _browser(chromium, tmp_path / "profile", "--dump-dom", url).stdout
    page = parse(dom)
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    assert len(images) == 3 and all(str(a["src"]).startswith("data:image/svg+xml") for a in images)
    assert all(url.startswith("data:") for url in _urls(page))
    assert len(page.tables) >= 5
    assert ANSWERS + 1 in page.tables
    text = "".join(page.text)
    for heading in ("Summary", "Totals", "Questions", "Discrimination", "Students to talk to"):
        assert heading in text
    for name, width in (("wide", 1280), ("phone", 390)):
        shot = tmp_path / f"report-{name}.png"
        _browser(
            chromium,
            tmp_path / "profile",
            f"--screenshot={shot}",
            f"--window-size={width},2400",
            "--hide-scrollbars",
            url,
        )
        assert _png_size(shot) == (width, 2400)
        assert shot.stat().st_size > 50_000  # drawn: plots and text, not a blank page
