"""What grading produces: frozen result objects, rendered elsewhere (``grader.render``).

A result says whether an answer could be read at all (``missing``, ``unreadable``) apart
from how right it is (``correct``, ``partial``, ``incorrect``), as PrairieLearn keeps
format errors apart from scores.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from grader.jsontext import dumps

ItemStatus = Literal["correct", "partial", "incorrect", "missing", "unreadable"]
StudentStatus = Literal["graded", "error"]


@dataclass(frozen=True)
class ItemResult:
    """The grading of one answer id for one student."""

    id: str
    score: float
    max_score: float
    status: ItemStatus
    message: str
    diagnoses: tuple[str, ...] = ()
    raw: Any = None
    """The answer as the file held it (text or JSON value), for the record."""
    read: Any = None
    """The value as the grader read it (numbers as lists, expressions as texts)."""
    wrong_entries: tuple[tuple[int, ...], ...] = ()
    """Indices of the entries not accepted, for vectors and matrices."""
    expected: Any = None
    """The expected value, plain; shown to students only if the rubric allows."""
    title: str | None = None
    carried_forward_from: tuple[str, ...] = ()
    """Earlier answer ids whose wrong values this answer was found right from (``ecf``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "message": self.message,
            "diagnoses": list(self.diagnoses),
            "raw": plain_json(self.raw),
            "read": plain_json(self.read),
            "wrong_entries": [list(index) for index in self.wrong_entries],
            "carried_forward_from": list(self.carried_forward_from),
        }


_MAX_JSON_DEPTH = 32


def plain_json(value: Any, depth: int = 0) -> Any:
    """``value`` as strict JSON can hold it: a non-finite float as its text (``"NaN"``,
    ``"Infinity"``), lists nested deeper than 32 levels cut to ``"[...]"``."""
    if type(value) is list and depth < _MAX_JSON_DEPTH - 1 and all_numbers(value):
        # the common answer, a vector or matrix of finite numbers, copied as it is
        return [row[:] for row in value] if value and type(value[0]) is list else value[:]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, list | tuple | dict) and depth >= _MAX_JSON_DEPTH:
        return "[...]"
    if isinstance(value, list | tuple):
        if _all_plain(value):  # the common case, checked at C speed
            return list(value)
        return [plain_json(each, depth + 1) for each in value]
    if isinstance(value, dict):
        return {str(name): plain_json(each, depth + 1) for name, each in value.items()}
    return value


def all_numbers(values: list[Any]) -> bool:
    """Is ``values`` a list of finite numbers, or of lists of finite numbers (checked at
    C speed: ``isfinite`` refuses what is not a number)? JSON writes such a list as it
    is, with no space but after its commas."""
    try:
        if all(map(math.isfinite, values)):
            return True
    except (TypeError, OverflowError):  # not numbers (a row, a text), or a huge int
        pass
    else:
        return False
    try:
        return all(type(row) is list for row in values) and all(
            map(math.isfinite, itertools.chain.from_iterable(values))
        )
    except (TypeError, OverflowError):
        return False


def _all_plain(values: list[Any] | tuple[Any, ...]) -> bool:
    """Are all of ``values`` JSON scalars that strict JSON can hold as they are?"""
    kinds = set(map(type, values))
    if kinds <= {int, str, bool, type(None)}:
        return True
    if kinds <= {int, float, bool}:
        try:
            return all(map(math.isfinite, values))
        except OverflowError:  # an integer too large for a float
            return False
    return False


@dataclass(frozen=True)
class StudentResult:
    """One student's grading: every answer of the rubric, or the reason none could be read."""

    student_id: str
    source: str
    score: float
    max_score: float
    status: StudentStatus
    error: str | None = None
    items: tuple[ItemResult, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    def item(self, answer_id: str) -> ItemResult:
        for item in self.items:
            if item.id == answer_id:
                return item
        raise KeyError(answer_id)

    def to_json(self) -> dict[str, Any]:
        return {**self._head(), "items": [item.to_json() for item in self.items]}

    def to_json_text(self) -> str:
        """``json.dumps(self.to_json(), ensure_ascii=False)``: the ``results.jsonl``
        record."""
        return dumps(self.to_json())

    def _head(self) -> dict[str, Any]:
        """The record but its items."""
        return {
            "student_id": self.student_id,
            "source": self.source,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "error": self.error,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StudentResult:
        """The inverse of ``to_json`` (``grader merge`` reads results back)."""
        items = tuple(
            ItemResult(
                id=item["id"],
                score=float(item["score"]),
                max_score=float(item["max_score"]),
                status=item["status"],
                message=item.get("message", ""),
                diagnoses=tuple(item.get("diagnoses", ())),
                raw=item.get("raw"),
                read=item.get("read"),
                wrong_entries=tuple(tuple(index) for index in item.get("wrong_entries", ())),
                carried_forward_from=tuple(item.get("carried_forward_from", ())),
            )
            for item in data.get("items", ())
        )
        return cls(
            student_id=data["student_id"],
            source=data["source"],
            score=float(data["score"]),
            max_score=float(data["max_score"]),
            status=data["status"],
            error=data.get("error"),
            items=items,
            warnings=tuple(data.get("warnings", ())),
        )
