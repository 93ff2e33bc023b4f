"""Memoizing by identity: the results of a function of immutable objects, kept for the
very objects they were computed from.

A class gives the same answer again and again, and grading hands back the same frozen
``ItemResult`` for the same answer (``grader.grading.grade``), so what is derived from an item
(its feedback section, its ``results.jsonl`` text) is worked out once per distinct item,
however many students wrote it. Objects are recognised by ``id``; each entry keeps its
arguments alive, so an id is never reused while its entry stands. The table is bounded:
when full it is emptied, which costs only the work of filling it again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_TABLES: list[dict[Any, Any]] = []


def table() -> dict[Any, Any]:
    """A new memo table, emptied with every other by ``forget``."""
    made: dict[Any, Any] = {}
    _TABLES.append(made)
    return made


def forget() -> None:
    """Empty every memo table: what a batch remembered (and the answer key it holds)
    goes with it (``grader.run.batch.grade_path`` calls this when it is done)."""
    for each in _TABLES:
        each.clear()


def by_identity(maxsize: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function of positional arguments compared by identity (``is``)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        memos: dict[Any, tuple[Any, R]] = table()

        @functools.wraps(function)
        def memoized(*args: P.args, **kwargs: P.kwargs) -> R:
            if kwargs:
                return function(*args, **kwargs)
            # An entry keeps its arguments alive, so no other live object has their ids:
            # equal ids are the very same objects.
            slot = id(args[0]) if len(args) == 1 else tuple(map(id, args))
            hit = memos.get(slot)
            if hit is not None:
                return hit[1]
            result = function(*args, **kwargs)
            if len(memos) >= maxsize:
                memos.clear()
            memos[slot] = (args, result)
            return result

        memoized.cache_clear = memos.clear  # type: ignore[attr-defined]
        memoized.cache_size = memos.__len__  # type: ignore[attr-defined]
        return memoized

    return decorate
