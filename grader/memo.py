"""What a batch remembers for speed, in one object that the batch owns: a ``Memo``.

A class gives the same answer again and again, and most students' mistakes are the same
few (a sign, a factor two of the same rounded number): grading an answer, or examining a
wrong one, is worked out once per distinct answer and remembered. Whoever grades many
submissions (``grader.run.batch.grade_path``, each ``--jobs`` worker) makes one ``Memo``,
hands it to grading (``grade_submission(..., memo=...)``) and drops it when done:
nothing is remembered from one batch to the next, and nothing is cleared by hand.

Each module names the tables it keeps as ``Table`` constants (a name, a bound on its
entries, and how an entry's bytes are estimated; a ``Table`` holds nothing itself). An
entry keyed by objects' ``id`` keeps those objects alive in its value, so an id is never
reused while its entry stands.

**Bounded by bytes, not only by count.** A student's answer may be 100,000 characters or
10,000 entries, so a table of N entries may hold N such answers: counted entries alone
let a class of large hostile files grow the process by megabytes a file. So the tables
whose entries come from students declare ``size``, a cheap estimate of an entry's bytes
from what is at hand (a text's ``sys.getsizeof``, which is its exact size and costs
nothing; an array's ``nbytes``; a tuple's length), never a walk over every object of
the entry; ``plain_bytes`` estimates a JSON value's bytes at the speed of ``set(map(type,
...))``. The tables counted in bytes hold together at most ``Memo.max_bytes`` (by default
``MAX_BYTES``, 64 MiB) of that estimate:

- an entry estimated above ``max_bytes // LARGE_SHARE`` (1 MiB by default) is not
  remembered: it is worked out again if it comes again (such answers are a hostile
  file's, not a class's repeats);
- a table that is full (``maxsize`` entries), or whose next entry would take the Memo
  past ``max_bytes``, is emptied first; if that is not room enough, the tables that
  hold the most are emptied too. Emptying costs only the work of filling a table again.

The bound is on the estimate, which errs high: measured with ``tracemalloc``
(``docs/untrusted-input.md``), a stream of large hostile files keeps 0.6 to 0.7 of what
it estimates, and a realistic class (``tests/synthetic.py``, ``rubrics/hw.yaml``) about
0.55 of it. Such a class of 3,000 students estimates at most 27 MiB (the tables emptied
by count, at 8,192 graded answers, before they reach more): the bound is chosen at twice
that, so an ordinary class is never emptied for bytes and grades as fast as before,
while a hostile one cannot make a Memo keep more than some 64 MiB.

A table without ``size`` holds entries whose size the rubric sets, not a student (the
key's recomputation graphs, the rubric's fingerprint): bounded by ``maxsize`` only, they
are outside ``max_bytes``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import numpy as np

K = TypeVar("K")
V = TypeVar("V")

MAX_BYTES = 64 * 1024 * 1024
"""What one Memo's tables counted in bytes hold at most, by their estimate (64 MiB)."""

LARGE_SHARE = 64
"""An entry estimated above ``max_bytes // LARGE_SHARE`` is not remembered."""

ENTRY_BYTES = 1024
"""What an entry costs besides its texts and arrays: its key's tuple, the table's slot,
the small objects of its value (an ``ItemResult`` and its short message, say)."""

_SCALARS = {float, int, bool, str, type(None)}


class Table(Generic[K, V]):
    """One kind of thing a ``Memo`` remembers: keys ``K`` to values ``V``, at most
    ``maxsize`` of them; ``size(key, value)`` estimates an entry's bytes (cheaply: see
    the module docstring), or is None for entries whose size the rubric sets."""

    __slots__ = ("maxsize", "name", "size")

    def __init__(self, name: str, maxsize: int, size: Callable[[K, V], int] | None = None) -> None:
        self.name = name
        self.maxsize = maxsize
        self.size = size

    def __repr__(self) -> str:
        return f"Table({self.name!r}, {self.maxsize})"


class Memo:
    """The tables of one batch (see the module docstring), holding at most
    ``max_bytes`` by their estimate."""

    __slots__ = ("_bytes", "_held", "_tables", "max_bytes")

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._tables: dict[Table[Any, Any], dict[Any, Any]] = {}
        self._bytes: dict[Table[Any, Any], int] = {}
        self._held = 0

    def get(self, table: Table[K, V], key: K) -> V | None:
        """What ``table`` holds for ``key``, or None."""
        entries = self._tables.get(table)
        return None if entries is None else entries.get(key)

    def put(self, table: Table[K, V], key: K, value: V) -> None:
        """Remember ``value`` for ``key``: not at all if it is large; ``table``, and
        then the fullest tables, emptied first if it is full or the Memo is."""
        entries = self._tables.get(table)
        if entries is None:
            entries = self._tables[table] = {}
            self._bytes[table] = 0
        elif len(entries) >= table.maxsize:
            self._empty(table)
        if table.size is None:
            entries[key] = value
            return
        size = table.size(key, value)
        if size > self.max_bytes // LARGE_SHARE:
            return
        if self._held + size > self.max_bytes:
            self._empty(table)
            while self._held + size > self.max_bytes:
                self._empty(max(self._bytes, key=self._bytes.__getitem__))
        entries[key] = value  # a key put again (never, while its entry stands) counts twice
        self._bytes[table] += size
        self._held += size

    def _empty(self, table: Table[Any, Any]) -> None:
        self._tables[table].clear()
        self._held -= self._bytes[table]
        self._bytes[table] = 0

    def size(self, table: Table[Any, Any]) -> int:
        """How many entries ``table`` holds."""
        return len(self._tables.get(table, ()))

    def held(self) -> int:
        """The estimated bytes the tables counted in bytes hold (at most ``max_bytes``)."""
        return self._held


def plain_bytes(value: Any) -> int:
    """About the bytes of a plain value as a file gives it (texts, numbers, lists, tuples
    and dicts of them) or a numpy array: each object's own ``sys.getsizeof`` (a shared
    object counted each time it is met). A container of texts and numbers only is summed
    at C speed (``set(map(type, ...))``, ``sum(map(sys.getsizeof, ...))``); only the
    containers inside one are visited in Python, with a stack (no recursion)."""
    total = 0
    stack = [value]
    while stack:
        each = stack.pop()
        kind = type(each)
        if kind is list or kind is tuple:
            total += sys.getsizeof(each)
            if set(map(type, each)) <= _SCALARS:
                total += sum(map(sys.getsizeof, each))
            else:
                stack.extend(each)
        elif kind is dict:
            total += sys.getsizeof(each)
            stack.extend(each.keys())
            stack.extend(each.values())
        elif kind is np.ndarray:
            total += 112 + each.nbytes
        else:
            total += sys.getsizeof(each)  # a text's own size, a number's
    return total
