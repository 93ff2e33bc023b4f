"""The one rule that turns an answer's entries into its score and its status.

Each entry of an answer earns a share of credit: 1 if it is accepted under the tolerance,
else what a second look finds (a share for an error carried forward or a named mistake,
``grader.grading.review.analysis``), else 0. Then:

* score, under ``per_entry``: points × (sum of the shares) / (number of entries);
  under ``all_or_nothing``: points × (the smallest share); rounded to 6 decimals;
* status: ``correct`` if every entry is accepted as written, ``partial`` if some entry
  earns a share, ``incorrect`` otherwise.

An answer with no entries has nothing wrong: full points, ``correct``. A student's score
is the sum of their answers' scores, rounded the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from grader.grading.results import ItemStatus
from grader.rubric.models import PartialCredit

PLACES = 6
"""Decimals an item's score is rounded to."""


def item_score(points: float, credit: Sequence[float], partial_credit: PartialCredit) -> float:
    """The score of an answer whose entries earn ``credit`` (shares in [0, 1])."""
    if not credit:
        return round(points, PLACES)
    if partial_credit == "per_entry":
        return round(points * math.fsum(credit) / len(credit), PLACES)
    return round(points * min(credit), PLACES)


def total_score(scores: Iterable[float]) -> float:
    """A student's score: the sum of their answers' scores."""
    return round(sum(scores), PLACES)


def item_status(accepted: Sequence[bool], credit: Sequence[float]) -> ItemStatus:
    """The status of an answer whose entries are ``accepted`` as written and earn ``credit``."""
    if all(accepted):
        return "correct"
    return "partial" if any(share > 0 for share in credit) else "incorrect"
