"""What a batch remembers for speed, in one object that the batch owns: a ``Memo``.

A class gives the same answer again and again, and most students' mistakes are the same
few (a sign, a factor two of the same rounded number): grading an answer, or examining a
wrong one, is worked out once per distinct answer and remembered. Whoever grades many
submissions (``grader.run.batch.grade_path``, each ``--jobs`` worker) makes one ``Memo``,
hands it to grading (``grade_submission(..., memo=...)``) and drops it when done:
nothing is remembered from one batch to the next, and nothing is cleared by hand.

Each module names the tables it keeps as ``Table`` constants (a name and a bound; a
``Table`` holds nothing itself). An entry keyed by objects' ``id`` keeps those objects
alive in its value, so an id is never reused while its entry stands. A full table is
emptied, which costs only the work of filling it again.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Table(Generic[K, V]):
    """One kind of thing a ``Memo`` remembers: keys ``K`` to values ``V``, at most
    ``maxsize`` of them."""

    __slots__ = ("maxsize", "name")

    def __init__(self, name: str, maxsize: int) -> None:
        self.name = name
        self.maxsize = maxsize

    def __repr__(self) -> str:
        return f"Table({self.name!r}, {self.maxsize})"


class Memo:
    """The tables of one batch (see the module docstring)."""

    __slots__ = ("_tables",)

    def __init__(self) -> None:
        self._tables: dict[Table[Any, Any], dict[Any, Any]] = {}

    def get(self, table: Table[K, V], key: K) -> V | None:
        """What ``table`` holds for ``key``, or None."""
        entries = self._tables.get(table)
        return None if entries is None else entries.get(key)

    def put(self, table: Table[K, V], key: K, value: V) -> None:
        """Remember ``value`` for ``key`` (``table`` emptied first if it is full)."""
        entries = self._tables.get(table)
        if entries is None:
            entries = self._tables[table] = {}
        elif len(entries) >= table.maxsize:
            entries.clear()
        entries[key] = value

    def size(self, table: Table[Any, Any]) -> int:
        """How many entries ``table`` holds."""
        return len(self._tables.get(table, ()))
