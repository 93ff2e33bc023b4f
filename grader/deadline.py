"""A time limit on reading one file and on grading one submission: the last line of
defence, after the caps (``grader.limits``), against a hostile file that still makes the
grader work for long.

``within(seconds)`` arms the process's real-time interval timer; when it fires, ``Overtime``
is raised in the code that was running, which unwinds to the ``within`` block's caller:
the reader turns it into an unreadable row, grading into an error row, and the class goes
on. It runs in the main thread of the process that reads and grades (the one process of
``grade --jobs 1``, each worker of ``--jobs N``, ``grader check``, Classroom, Gradescope).

What it can interrupt is Python code, between two of its steps: a single step done in C
(one regular-expression match, one operation on huge integers) finishes first, which is
why the readers use no backtracking pattern on untrusted text and the numbers are capped.
Where the system has no ``SIGALRM`` (Windows), or the code runs outside the main thread,
there is no timer and the caps alone bound the work.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Overtime(BaseException):
    """The time limit passed. A ``BaseException``, as ``KeyboardInterrupt`` is, so that no
    ``except Exception`` on the way swallows it."""


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Raise ``Overtime`` in the block once ``seconds`` have passed (0: no limit). Inside
    another ``within`` block, the outer limit holds."""
    if (
        seconds <= 0
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
        or signal.getitimer(signal.ITIMER_REAL)[0] > 0
    ):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _overtime)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _overtime(_signum: int, _frame: FrameType | None) -> None:
    raise Overtime
