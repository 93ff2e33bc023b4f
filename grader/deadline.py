"""A time limit on reading one file and on grading one submission: the last line of
defence, after the caps (``grader.limits``), against a hostile file that still makes the
grader work for long.

``within(seconds)`` sets a deadline for the block; once it has passed, ``Overtime`` is
raised in the code that was running, which unwinds to the ``within`` block's caller: the
reader turns it into an unreadable row, grading into an error row (``reading_overtime``,
``grading_overtime``: the words), and the class goes on. It is armed around reading each
file and grading each submission wherever that happens: ``grade`` (one process, or each
worker of ``--jobs N``), ``grader check``, ``grader classroom``, ``grader gradescope``,
and the Python API (``grader.grade``, ``grader.check``, ``grade_path``).

Two mechanisms, one deadline:

* **The timer.** In the main thread of a system with ``SIGALRM`` (Linux, macOS), the
  process's real-time interval timer is armed, and its signal raises ``Overtime``
  between any two steps of Python code (and again every ``AGAIN`` seconds until the
  block ends, should Python have dropped it: raised in a garbage-collector callback, it
  would be, so there it waits for the next). A single step done in C (one regular-expression
  match, one operation on huge integers, one ``json.loads``) finishes first, which is
  why the readers use no backtracking pattern on untrusted text and the numbers are
  capped.
* **The checkpoints.** Everywhere, and alone where there is no timer (Windows, a thread
  other than the main one: an instructor grading from a thread, a web server, a
  notebook's background job, or a timer another library already armed), the deadline
  is a ``time.monotonic()`` instant, kept per thread (a context variable), and
  ``checkpoint()`` raises ``Overtime`` once it has passed. The loops that can be long
  call it every so many steps (``EVERY``): the expression tokenizer and parser
  (``grader.solver.expr``), the readers' row and entry loops (``grader.intake.readers``,
  ``grader.intake.values``), and grading's loop over a submission's answers. Between
  two checkpoints the work is bounded by the caps, so a submission overruns its limit
  by at most the time of that bounded step.

Inside another ``within`` block, the outer limit holds (the inner block sets none).
"""

from __future__ import annotations

import gc
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import FrameType

EVERY = 256
"""How many steps of a long loop (tokens, rows, entries) go between two checkpoints:
``time.monotonic()`` costs some 50 ns, so checking each step would slow the hot loops
for nothing."""

_DEADLINE: ContextVar[float | None] = ContextVar("grader_deadline", default=None)
"""The ``time.monotonic()`` instant the innermost ``within`` block of this thread (or
task) ends at; None outside any."""


class Overtime(BaseException):
    """The time limit passed. A ``BaseException``, as ``KeyboardInterrupt`` is, so that no
    ``except Exception`` on the way swallows it."""


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Raise ``Overtime`` in the block once ``seconds`` have passed (0: no limit): by the
    timer where there is one, else at the next ``checkpoint()``. Inside another
    ``within`` block, the outer limit holds."""
    if seconds <= 0 or _DEADLINE.get() is not None:
        yield
        return
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        if _timer_free():
            previous = signal.signal(signal.SIGALRM, _overtime)
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                yield
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        else:
            yield
    finally:
        _DEADLINE.reset(token)


def checkpoint() -> None:
    """Raise ``Overtime`` if the deadline of the ``within`` block around has passed."""
    end = _DEADLINE.get()
    if end is not None and time.monotonic() >= end:
        raise Overtime


def _timer_free() -> bool:
    """Can the interval timer be armed here: a system with ``SIGALRM``, the main thread,
    and no timer already armed (by another library)?"""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )


AGAIN = 0.05
"""Seconds after which the timer fires again while its block has not ended: an exception
raised where Python cannot pass it on (in a garbage-collector callback, a ``__del__``)
is dropped, and the next one stops the work."""


def _overtime(_signum: int, frame: FrameType | None) -> None:
    signal.setitimer(signal.ITIMER_REAL, AGAIN)
    if not _in_gc_callback(frame):
        raise Overtime


def _in_gc_callback(frame: FrameType | None) -> bool:
    """Is ``frame`` (or one of the few it was called from) a ``gc.callbacks`` function,
    where an exception would be dropped (and reported as unraisable)?"""
    codes = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    for _ in range(8):
        if frame is None:
            return False
        if frame.f_code in codes:
            return True
        frame = frame.f_back
    return False


def reading_overtime(seconds: int) -> str:
    """Why a file is an error row when reading it passed the limit."""
    return (
        f"reading the file took more than {seconds} s "
        "(Limits.max_seconds_per_submission): not graded"
    )


def grading_overtime(seconds: int) -> str:
    """Why a submission is an error row when grading it passed the limit."""
    return (
        f"grading took more than {seconds} s "
        "(Limits.max_seconds_per_submission): not graded; the rest of the class is"
    )
