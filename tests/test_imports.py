"""The package's imports, read from the source with ``ast`` (nothing is imported): no
module imports itself through others (no cycle), folders depend only on the folders
before them in the pipeline, and nothing hides a dependency in a function body except
the command line, which keeps start-up fast that way."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "grader"

LAYERS = (
    "foundation",  # grader/errors.py, limits.py, ...: top-level modules every layer may use
    "rubric",
    "solver",
    "variants",
    "intake",
    "grading",
    "stats",  # results → pandas tables and the item analysis (before they are rendered)
    "render",
    "run",
    "integrations",
    "cli",  # grader/cli.py, __main__.py and the package's public surface, __init__.py
)
"""The pipeline, first step first: a module may import from its own layer or an earlier one."""

BACKWARDS_PENDING: frozenset[tuple[str, str]] = frozenset(
    {
        # the rubric's expressions are checked with the solver's parser when it is loaded
        ("grader.rubric.load", "grader.solver.expr"),
    }
)
"""Imports of a later step still to be removed (issue 11): (importing module, imported
module). An entry no longer needed fails the test too, so the list only shrinks."""

TOP = ("grader", "grader.__main__", "grader.api", "grader.cli")
"""The modules on top of every layer."""

FUNCTION_IMPORTS_ALLOWED = frozenset({"grader", "grader.cli"})
"""Modules that may import inside a function: the CLI defers heavy imports to the command
that needs them, so ``grade`` on one file starts fast; the package's ``__init__`` imports
its Python API (``grader.api``, which needs pandas) when it is first used (PEP 562), so
that ``import grader`` and ``grader check`` do not import pandas."""

FUNCTION_IMPORTS_PENDING: frozenset[tuple[str, str]] = frozenset()
"""Imports inside functions that are being moved to the top of their module (issue 11):
(importing module, imported module). An entry no longer needed fails the test too, so
the list only shrinks."""


@dataclass(frozen=True)
class Import:
    """One import statement's dependency of ``module`` on ``target``."""

    module: str
    target: str
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = "inside a function" if self.in_function else "at module level"
        return f"{self.module} imports {self.target} (line {self.line}, {where})"


def modules(package: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module a ``from ... import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _in_functions(tree: ast.Module) -> set[int]:
    """The ids of the import statements that sit in a function body, at any depth."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            inside.update(
                id(each) for each in ast.walk(node) if isinstance(each, ast.Import | ast.ImportFrom)
            )
    return inside


def imports(package: Path) -> list[Import]:
    """Every import of every module: of the package's own modules by the module that
    defines the name (``from grader.run import output`` needs ``grader.run.output``,
    ``from grader import solve`` needs ``grader``'s ``__init__``), of anything else by
    its top-level name."""
    known = modules(package)

    def owner(name: str) -> str:
        while name not in known and "." in name:
            name = name.rpartition(".")[0]
        return name

    found = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        inside = _in_functions(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(node, module, path.name == "__init__.py")
                targets = [
                    f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                name = owner(target) if target.split(".")[0] == package.name else target
                if name != module:
                    found.append(Import(module, name, node.lineno, id(node) in inside))
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), or of one
    module that imports itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = [stack.pop()]
            while component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def internal_edges(found: list[Import], package: str) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for each in found:
        if each.target.split(".")[0] == package:
            edges.setdefault(each.module, set()).add(each.target)
    return edges


def layer(module: str) -> str:
    """The pipeline step a module belongs to: its folder under ``grader/``."""
    if module in TOP:
        return "cli"
    folder = ".".join(module.split(".")[:2])
    return folder.split(".")[1] if folder in FOLDERS else "foundation"


FOLDERS = {name for name, path in modules(PACKAGE).items() if path.name == "__init__.py"}


# --- the package ----------------------------------------------------------------------


GRADER_IMPORTS = imports(PACKAGE)


def test_no_module_of_grader_imports_itself_through_others() -> None:
    """The import graph of ``grader`` has no cycle."""
    found = cycles(internal_edges(GRADER_IMPORTS, "grader"))
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(each) for each in found)


def test_each_folder_imports_only_from_earlier_steps_of_the_pipeline() -> None:
    """rubric → solver → variants → intake → grading → render → run → integrations → cli:
    no module needs a later step."""
    folders = {layer(name) for name in modules(PACKAGE)}
    assert folders <= set(LAYERS), f"folders not in the pipeline: {folders - set(LAYERS)}"
    backwards = [
        each
        for each in GRADER_IMPORTS
        if each.target.split(".")[0] == "grader"
        and LAYERS.index(layer(each.target)) > LAYERS.index(layer(each.module))
    ]
    unexpected = [
        str(each) for each in backwards if (each.module, each.target) not in BACKWARDS_PENDING
    ]
    assert not unexpected, "imports of a later step:\n" + "\n".join(unexpected)
    moved = BACKWARDS_PENDING - {(each.module, each.target) for each in backwards}
    assert moved == set(), "no longer imported: remove from BACKWARDS_PENDING"


def test_no_import_inside_a_function_except_for_cli_start_up() -> None:
    """Dependencies are stated at the top of each module; only the CLI defers imports, and
    the list of those still being moved holds only imports that are still there."""
    inside = [each for each in GRADER_IMPORTS if each.in_function]
    hidden = [
        str(each)
        for each in inside
        if each.module not in FUNCTION_IMPORTS_ALLOWED
        and (each.module, each.target) not in FUNCTION_IMPORTS_PENDING
    ]
    assert not hidden, "imports inside a function:\n" + "\n".join(hidden)
    moved = FUNCTION_IMPORTS_PENDING - {(each.module, each.target) for each in inside}
    assert moved == set(), "moved to module level: remove from FUNCTION_IMPORTS_PENDING"


def test_the_tests_never_load_the_benchmark() -> None:
    """The tests take what they share with the benchmark (the class generator) from
    tests/synthetic.py: no test imports benchmarks/ or loads a module from a file."""
    loading = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Attribute | ast.Name):
                names = [node.attr if isinstance(node, ast.Attribute) else node.id]
            else:
                continue
            loading += [
                f"{path.name}:{node.lineno}: {name}"
                for name in names
                if name.split(".")[0] in ("benchmarks", "importlib", "runpy")
                or name in ("spec_from_file_location", "run_path", "__import__")
            ]
    assert loading == []


# --- the walker itself, on a package made for it ---------------------------------------


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root / "pkg"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"__init__.py": "", "a.py": "from pkg import b\n", "b.py": "import pkg.a\n"},
            [["pkg.a", "pkg.b"]],
            id="two-modules",
        ),
        pytest.param(
            {
                "__init__.py": "",
                "sub/__init__.py": "",
                "sub/a.py": "from . import b\n",
                "sub/b.py": "from ..c import x\n",
                "c.py": "from pkg.sub.a import y\n",
            },
            [["pkg.c", "pkg.sub.a", "pkg.sub.b"]],
            id="relative-imports-through-a-subpackage",
        ),
        pytest.param(
            {"__init__.py": "from pkg.a import f\n", "a.py": "from pkg import g\n"},
            [["pkg", "pkg.a"]],
            id="a-module-needing-the-package-that-imports-it",
        ),
        pytest.param(
            {
                "__init__.py": "from pkg.a import f\n",
                "a.py": "def f():\n    from pkg.b import g\n",
                "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n",
            },
            [["pkg.a", "pkg.b"]],
            id="hidden-in-a-function-and-behind-type-checking",
        ),
        pytest.param(
            {
                "__init__.py": "from pkg.a import f\nfrom pkg import b\n",
                "a.py": "import os\nfrom pkg import b\n",
                "b.py": "from pkg.c import h\n",
                "c.py": "import pkg.b as _b\n",
            },
            [["pkg.b", "pkg.c"]],
            id="a-package-importing-its-modules-is-no-cycle",
        ),
    ],
)
def test_the_walker_finds_cycles(tmp_path: Path, files: dict[str, str], expected: object) -> None:
    """Cycles are found through absolute and relative imports, ``from package import
    module``, imports in functions and under ``TYPE_CHECKING``; a package importing its
    own modules is not one."""
    package = write_package(tmp_path, files)
    assert cycles(internal_edges(imports(package), "pkg")) == expected


def test_the_walker_marks_imports_inside_functions(tmp_path: Path) -> None:
    """An import in a function, a method or a nested function is marked; one at module
    level, in a class body or under ``if`` is not."""
    package = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "m.py": """
                import json
                if json:
                    import csv
                class C:
                    import io
                    def method(self):
                        import re
                def outer():
                    def inner():
                        from pkg import n
                    return inner
                async def later():
                    import asyncio
            """,
            "n.py": "",
        },
    )
    marked = {(each.target, each.in_function) for each in imports(package)}
    assert marked == {
        ("json", False),
        ("csv", False),
        ("io", False),
        ("re", True),
        ("pkg.n", True),
        ("asyncio", True),
    }
