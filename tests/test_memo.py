"""Work remembered for speed gives what the work gives: the same results in any order,
from a cold start or a warm one, and objects recognised only when they are the same.
What is remembered is the batch's (a ``Memo``), and goes with it."""

from __future__ import annotations

import gc
import json
import math
import random
import tracemalloc
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader import AnswerKey, jsontext, load_rubric, solve
from grader.grading import grade as grading
from grader.intake.readers import read_all
from grader.intake.submission import Submission
from grader.limits import DEFAULT_LIMITS, Limits
from grader.memo import LARGE_SHARE, MAX_BYTES, Memo, Table
from grader.run.batch import grade_path
from grader.run.prepare import prepare

from .conftest import EXAMPLES, RUBRICS
from .synthetic import generate


def test_a_memo_keeps_each_table_apart_and_bounded() -> None:
    """Tables are told apart by the ``Table`` constant, not its name; a full table is
    emptied before it takes one more entry."""
    small: Table[int, str] = Table("small", 4)
    other: Table[int, str] = Table("small", 4)
    memo = Memo()
    for number in range(10):
        memo.put(small, number, str(number))
        assert memo.get(small, number) == str(number)
        assert 0 < memo.size(small) <= 4
    assert memo.get(other, 9) is None and memo.size(other) == 0
    assert Memo().get(small, 9) is None  # another batch's memo starts empty


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),  # NaN and infinities too: json.dumps writes them as NaN, Infinity
        st.text(),
    ),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_jsontext_writes_what_json_dumps_writes(value: Any) -> None:
    assert jsontext.dumps(value) == json.dumps(value, ensure_ascii=False)
    assert jsontext.dumps_any(value) == json.dumps(value, ensure_ascii=False, default=str)


def test_jsontext_refuses_what_json_refuses_and_dumps_any_writes_it_as_text() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        jsontext.dumps({"a": {1, 2}})
    assert jsontext.dumps_any([Path("x")]) == '["x"]'


def _records(submissions: list[Submission], key: AnswerKey, memo: Memo) -> list[str]:
    return [
        prepare(grading.grade_submission(each, key, memo=memo), key).record for each in submissions
    ]


@pytest.fixture(scope="module")
def class_of_200(tmp_path_factory: pytest.TempPathFactory, hw_key: AnswerKey) -> list[Submission]:
    """A realistic class (tests/synthetic.py) with the examples: many students
    share answers, so grading remembers a great deal."""
    folder = tmp_path_factory.mktemp("memo-class")
    generate(folder, 200, hw_key, seed=11)
    known = [answer.id for answer in hw_key.rubric.answers]
    found = [*read_all(folder, known), *read_all(EXAMPLES, known)]
    return [each for each in found if isinstance(each, Submission)]


def test_each_result_is_what_grading_it_alone_from_a_cold_start_gives(
    class_of_200: list[Submission], hw_key: AnswerKey
) -> None:
    """Graded in a batch, in two different orders, every student's record is the one
    grading that student alone, with nothing remembered, gives."""
    alone = []
    for each in class_of_200:
        alone.extend(_records([each], hw_key, Memo()))
    memo = Memo()
    assert _records(class_of_200, hw_key, memo) == alone
    order = list(range(len(class_of_200)))
    random.Random(3).shuffle(order)
    shuffled = _records([class_of_200[i] for i in order], hw_key, memo)
    assert [shuffled[order.index(i)] for i in range(len(order))] == alone


def test_equal_numbers_written_differently_are_recorded_as_written(hw_key: AnswerKey) -> None:
    """The memo tells ``0.0`` from ``-0.0`` and ``1`` from ``1.0`` from ``"1"``: each
    student's record holds what that student wrote."""
    answer_id = "q1.yhat"
    shape = hw_key[answer_id].shape
    raws: list[Any] = [
        [0.0] * shape[0],
        [-0.0] * shape[0],
        [1] * shape[0],
        [1.0] * shape[0],
        ["1"] * shape[0],
        [math.nan] * shape[0],
    ]
    for raw in raws:
        submission = Submission("s", "s.json", {answer_id: raw})
        result = grading.grade_submission(submission, hw_key)
        record = json.loads(result.to_json_text())
        item = next(each for each in record["items"] if each["id"] == answer_id)
        assert json.dumps(item["raw"]) == json.dumps(
            [x if isinstance(x, str) or math.isfinite(x) else "NaN" for x in raw]
        )


def test_values_shared_between_students_are_read_only(hw_key: AnswerKey) -> None:
    """The value read for a remembered answer is shared: nobody may change it."""
    raw, memo = hw_key["q2b.DF"].plain_expected, Memo()
    entry = hw_key["q2b.DF"]
    _, first = grading._graded_item(entry, raw, hw_key, False, DEFAULT_LIMITS, memo)
    _, again = grading._graded_item(entry, list(raw), hw_key, False, DEFAULT_LIMITS, memo)
    assert first is again
    assert isinstance(first, np.ndarray) and not first.flags.writeable


def test_raising_a_cap_reads_an_answer_refused_under_the_old_one(hw_key: AnswerKey) -> None:
    """The caps are part of what an answer is remembered by: raised (docs/untrusted-input.md),
    the same long number is read, not refused from memory."""
    text = "0." + "1" * 1_200
    submission = Submission("s", "s.json", {"q2d.yhat": text})
    before = grading.grade_submission(submission, hw_key).item("q2d.yhat")
    assert before.status == "unreadable" and "too long" in before.message
    raised = Limits(max_number_text=5_000)
    after = grading.grade_submission(submission, hw_key, limits=raised).item("q2d.yhat")
    assert after.status != "unreadable"


def test_a_batch_lets_what_it_remembered_go(tmp_path: Path) -> None:
    """After `grade`, nothing holds the answer key but its owner: what grading remembered
    was the batch's (a long-lived process grading many rubrics does not keep them all)."""
    key = solve(load_rubric(RUBRICS / "hw.yaml"))
    grade_path(EXAMPLES, key, tmp_path / "out")
    gone = weakref.ref(key)
    del key
    gc.collect()
    assert gone() is None


def _hostile(number: int, key: AnswerKey) -> Submission:
    """A large hostile file: eight answers of 99,001 characters (4 bytes each: 396 KB as
    Python text), distinct from every other file's, and a 200-character id."""
    ids = [answer.id for answer in key.rubric.answers]
    answers = {ids[(number + i) % len(ids)]: f"[{number} {i}" + "😀" * 99_000 for i in range(8)}
    return Submission(f"{number}-" + "x" * 190, f"{number}.json", answers)


def test_memory_kept_for_large_hostile_files_does_not_grow_with_their_count(
    hw_key: AnswerKey,
) -> None:
    """Graded with one Memo, large hostile files keep no more than the memo's bound
    (``grader.memo.MAX_BYTES``) however many they are: the memo is bounded by its
    estimate of the bytes it holds, which stays under the bound after every file.
    (Bounded by count only, 40 files kept 128 MB, twice the bound, and 120 three times
    as much.)"""
    memo = Memo()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = {}
        for number in range(120):
            submission = _hostile(number, hw_key)
            result = grading.grade_submission(submission, hw_key, memo=memo)
            assert all(result.item(each).status == "unreadable" for each in submission.answers)
            assert memo.held() <= memo.max_bytes
            if (number + 1) % 20 == 0:
                del submission, result
                gc.collect()
                kept[number + 1] = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert memo.max_bytes == MAX_BYTES
    assert max(kept.values()) < 1.25 * MAX_BYTES, kept


def test_an_answer_too_large_for_the_memo_is_graded_not_remembered(hw_key: AnswerKey) -> None:
    """An entry estimated above a share of the bound is not remembered (the memo holds
    the other, missing, answers only); graded again, it gives the same result."""
    memo = Memo(max_bytes=4 * 1024 * 1024)  # 64 KiB at most an entry
    large = Submission("s", "s.json", {"q1.yhat": "[" + "😀" * 99_000})
    first = grading.grade_submission(large, hw_key, memo=memo)
    assert 0 < memo.held() < memo.max_bytes // LARGE_SHARE  # the missing answers only
    held = memo.held()
    again = grading.grade_submission(large, hw_key, memo=memo)
    assert again.to_json_text() == first.to_json_text() and memo.held() == held


def test_a_memo_full_by_bytes_is_emptied_table_by_table() -> None:
    """A table whose next entry would take the Memo past its bound is emptied first; if
    that is not room enough, the table holding the most is emptied too."""
    sized: Table[int, str] = Table("sized", 1_000, lambda key, value: len(value))
    other: Table[int, str] = Table("other", 1_000, lambda key, value: len(value))
    memo = Memo(max_bytes=1_000)
    memo.put(other, 1, "x" * 5)
    for number in range(111):  # the 111th empties "sized" itself: 5 + 111 * 9 > 1,000
        memo.put(sized, number, "y" * 9)
        assert memo.held() <= 1_000
    assert memo.size(other) == 1 and memo.size(sized) == 1 and memo.held() == 14
    for number in range(1, 110):
        memo.put(sized, number, "y" * 9)
    assert memo.held() == 995
    memo.put(other, 2, "x" * 15)  # "other" emptied, then the fuller table, "sized"
    assert memo.size(other) == 1 and memo.size(sized) == 0 and memo.held() == 15
    memo.put(sized, 0, "w" * 16)  # 16 > 1,000 // 64: too large to remember
    assert memo.get(sized, 0) is None and memo.held() == 15
