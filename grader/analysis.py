"""A second look at answers that are not fully right: errors carried forward and named
mistakes. (Filled in by the carried-forward and diagnosis work; until then, unchanged.)"""

from __future__ import annotations

from grader.results import ItemResult
from grader.solver import AnswerKey, KeyEntry
from grader.values import StudentValue


def reconsider(
    item: ItemResult, entry: KeyEntry, values: dict[str, StudentValue], key: AnswerKey
) -> ItemResult:
    """The item, with credit for carried-forward errors and diagnoses of named mistakes."""
    del entry, values, key
    return item
