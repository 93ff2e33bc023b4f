"""Error carried forward: an answer recomputed from the student's own earlier answers.

An answer's *earlier answers* are the other answers its graph node is computed from
(``grader.grading.review.recompute.earlier_answers``): ∂L/∂ŷ from ŷ, ∂L/∂v from ∂L/∂ŷ,
a batch sum from the per-example gradients, each within its own problem. Those the student got wrong
replace the true values, the answer's node is recomputed, and where the student's answer
matches that recomputation (and not the key) the error was carried forward, not made
again. The earlier answers named are those that change the recomputation: one shadowed by
a later wrong answer (ŷ behind a wrong ∂L/∂ŷ) is not where this answer's error came from.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from grader.grading import compare
from grader.grading.review.diagnosis import Alternative
from grader.grading.review.recompute import KeyGraphs, Recomputer
from grader.intake.values import StudentValue
from grader.memo import Memo, Table
from grader.solver.graph import Value
from grader.solver.key import KeyEntry

Array = NDArray[np.float64]


def _is_wrong(answer_id: str, value: Array, graphs: KeyGraphs, memo: Memo | None) -> bool:
    if memo is None:
        return not np.all(compare.accepted(graphs.key[answer_id], value))
    # Performance: a class's earlier answers are the same few values (shared, read-only
    # objects: ``grader.grading.grade`` remembers each answer as read), each looked at for
    # every later answer examined.
    slot = (id(graphs), answer_id, id(value))
    cached = memo.get(_WRONG, slot)
    if cached is not None and cached[0] is value and cached[1] is graphs:
        return cached[2]
    wrong = not np.all(compare.accepted(graphs.key[answer_id], value, memo))
    memo.put(_WRONG, slot, (value, graphs, wrong))  # kept alive: ids not reused
    return wrong


_WRONG: Table[tuple[int, str, int], tuple[Array, KeyGraphs, bool]] = Table("wrong earlier", 8192)


def wrong_earlier(
    entry: KeyEntry,
    values: Mapping[str, StudentValue],
    graphs: KeyGraphs,
    memo: Memo | None = None,
) -> dict[str, Array]:
    """The earlier answers the student gave, read, and got wrong: id -> value."""
    found: dict[str, Array] = {}
    for answer_id in graphs.earlier.get(entry.answer.id, ()):
        value = values.get(answer_id)
        if isinstance(value, np.ndarray) and _is_wrong(answer_id, value, graphs, memo):
            found[answer_id] = value
    return found


def overrides_of(graphs: KeyGraphs, wrong: Mapping[str, Array]) -> dict[str, Value]:
    """The student's wrong earlier values as overrides of their graph nodes."""
    return {graphs.key[answer_id].node: value for answer_id, value in wrong.items()}


def carried_forward(
    entry: KeyEntry, graphs: KeyGraphs, wrong: Mapping[str, Array]
) -> Alternative | None:
    """The answer recomputed from the student's wrong earlier answers (None if none)."""
    overrides = {
        node: value
        for node, value in overrides_of(graphs, wrong).items()
        if graphs.base.fits(node, value)
    }
    if not overrides:
        return None
    value = np.asarray(graphs.base.evaluate(entry.node, overrides), dtype=np.float64)
    return Alternative("ecf", value, sources=tuple(wrong))


def sources(
    recomputer: Recomputer,
    node: str,
    overrides_by_id: Mapping[str, tuple[str, Value]],
    value: Array,
) -> tuple[str, ...]:
    """The answer ids the recomputation ``value`` of ``node`` really comes from: the
    fewest of ``overrides_by_id`` that give it, dropping the farthest first, so that a
    chain of consistent wrong answers names its nearest link."""
    kept = dict(overrides_by_id)
    farthest_first = sorted(kept, key=lambda answer_id: recomputer.depth(kept[answer_id][0]))
    for answer_id in farthest_first:
        if len(kept) == 1:
            break
        rest = {n: v for other, (n, v) in kept.items() if other != answer_id}
        without = np.asarray(recomputer.evaluate(node, rest), dtype=np.float64)
        if without.shape == value.shape and np.allclose(
            without, value, rtol=1e-9, atol=0.0, equal_nan=True
        ):
            del kept[answer_id]
    return tuple(kept)
