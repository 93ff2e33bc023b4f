"""Every output of the main job is pinned byte for byte.

The safety net under any reorganisation: the example class's gradebook, results, every
feedback file and the printed summary; the answer keys of the repository's rubrics; and
a digest of all outputs of a seeded synthetic class graded with one and two processes.
Regenerate on purpose with ``pytest --update-golden`` and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from grader import load_rubric, solve
from tests.conftest import GOLDEN, ROOT, RUBRICS, check_golden
from tests.synthetic import generate


def _grade(submissions: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "grader", "grade", submissions, "--rubric", "rubrics/hw.yaml"]
    return subprocess.run(
        [*command, "--out", str(out), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def _outputs(out: Path) -> dict[str, bytes]:
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def test_example_class_outputs_are_unchanged(tmp_path: Path, update_golden: bool) -> None:
    """grade submissions_example writes the pinned gradebook, results, feedback and summary."""
    done = _grade("submissions_example", tmp_path / "out")
    assert done.returncode == 1  # the example class holds one unreadable upload
    outputs = _outputs(tmp_path / "out")
    names = sorted(outputs)
    check_golden("examples/FILES", "\n".join(names) + "\n", update_golden)
    for name, data in outputs.items():
        check_golden(f"examples/{name}", data.decode("utf-8"), update_golden)
    check_golden("examples/stdout.txt", done.stdout.replace(str(tmp_path), "OUT"), update_golden)
    check_golden("examples/stderr.txt", done.stderr.replace(str(tmp_path), "OUT"), update_golden)


@pytest.mark.parametrize("rubric", sorted(path.name for path in RUBRICS.glob("*.yaml")))
def test_answer_keys_are_unchanged(rubric: str, update_golden: bool) -> None:
    """grader key --format json prints the pinned key of every rubric in rubrics/ (of
    student alice, for a rubric with variants)."""
    command = [sys.executable, "-m", "grader", "key", "--rubric", f"rubrics/{rubric}"]
    name = Path(rubric).stem
    if load_rubric(RUBRICS / rubric).variants is not None:
        command += ["--student", "alice"]
        name += "-alice"
    done = subprocess.run(
        [*command, "--format", "json"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    golden = GOLDEN / f"keys/{name}.json"
    if update_golden or not golden.exists():
        check_golden(f"keys/{name}.json", done.stdout, update_golden)
    _assert_same_key(json.loads(done.stdout), json.loads(golden.read_text(encoding="utf-8")))


def _assert_same_key(actual: object, pinned: object, where: str = "key") -> None:
    """The same ids, shapes and texts, and numbers equal to a few units in the last place:
    numpy's exp and log may round the last bit differently on another CPU (AVX-512 or
    not), which is not a change of the key."""
    if isinstance(pinned, float) and isinstance(actual, float):
        assert math.isclose(actual, pinned, rel_tol=4 * sys.float_info.epsilon, abs_tol=0.0), (
            f"{where}: {actual!r} != pinned {pinned!r}"
        )
    elif isinstance(pinned, dict) and isinstance(actual, dict):
        assert list(actual) == list(pinned), f"{where}: ids {list(actual)} != {list(pinned)}"
        for name in pinned:
            _assert_same_key(actual[name], pinned[name], f"{where}[{name!r}]")
    elif isinstance(pinned, list) and isinstance(actual, list):
        assert len(actual) == len(pinned), f"{where}: {len(actual)} entries != {len(pinned)}"
        for index, (a, b) in enumerate(zip(actual, pinned, strict=True)):
            _assert_same_key(a, b, f"{where}[{index}]")
    else:
        assert actual == pinned, f"{where}: {actual!r} != pinned {pinned!r}"


@pytest.mark.parametrize("rubric", ["deep-softmax", "hw-training"])
def test_network_example_classes_are_unchanged(
    rubric: str, tmp_path: Path, update_golden: bool
) -> None:
    """grade examples/<rubric> --rubric rubrics/<rubric>.yaml prints the pinned class
    summary (with the new diagnoses) and writes the pinned gradebook and results."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "grade", f"examples/{rubric}"]
    command += ["--rubric", f"rubrics/{rubric}.yaml", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    check_golden(
        f"network-examples/{rubric}/stdout.txt", done.stdout.replace(str(out), "OUT"), update_golden
    )
    for name in ("gradebook.csv", "results.jsonl"):
        text = (out / name).read_text(encoding="utf-8")
        check_golden(f"network-examples/{rubric}/{name}", text, update_golden)


def _digest(outputs: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name, data in sorted(outputs.items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


@pytest.mark.slow
def test_seeded_class_outputs_are_unchanged(tmp_path: Path, update_golden: bool) -> None:
    """A seeded class of 300 generated students grades to the pinned digest, with 1 or 2 jobs."""
    folder = tmp_path / "class"
    generate(folder, 300, solve(load_rubric(RUBRICS / "hw.yaml")), seed=2026)
    digests = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}"
        done = _grade(str(folder), out, "--jobs", jobs)
        assert done.returncode in (0, 1), done.stderr
        outputs = _outputs(out)
        # the results name each file by the path given on the command line
        outputs = {k: v.replace(str(folder).encode(), b"CLASS") for k, v in outputs.items()}
        digests.append(_digest(outputs))
    assert digests[0] == digests[1]
    check_golden("seeded-class.sha256", digests[0] + "\n", update_golden)


def test_golden_folder_has_no_stray_files() -> None:
    """Every pinned example output is one the run still writes (FILES lists them)."""
    listed = set((GOLDEN / "examples" / "FILES").read_text(encoding="utf-8").split())
    present = {
        path.relative_to(GOLDEN / "examples").as_posix()
        for path in (GOLDEN / "examples").rglob("*")
        if path.is_file()
    }
    assert present - {"FILES", "stdout.txt", "stderr.txt"} == listed
