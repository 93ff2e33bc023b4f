"""Writing outputs so that they are whole or absent: everything goes to a staging folder
beside the destination, then each file is renamed into place (an atomic step on one
filesystem). An interrupted run leaves the previous outputs as they were.

Student ids are untrusted: they become file names only through ``FileNames``, which
keeps ASCII letters, digits, ``.``, ``_`` and ``-`` (no separators, no ``..``, no
absolute paths, no names Windows reserves), and gives two ids that sanitise alike two
different names.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from grader.errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: staging folders are told apart by process id alone
    fcntl = None  # type: ignore[assignment]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{name}{n}" for name in ("COM", "LPT") for n in range(1, 10)]
)
MAX_STEM = 100
"""Longest file name stem made from a student id."""


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())  # the new content is on disk before it replaces the old
        os.chmod(temporary, _mode_of(path))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def staging(out_dir: Path) -> Iterator[Path]:
    """A folder to write into; on success its files replace those of ``out_dir``.

    The folder is named after this machine and process (``.staging-<host>-<pid>-…``) and
    holds a lock file that the run keeps locked while it lives, so that the next run can
    remove what a run killed outright (SIGKILL, a power cut) left: ``sweep`` removes the
    staging folders of this machine whose lock nobody holds, so a live run's folder is
    never removed, even by a run in another container of the same host name, where
    process ids say nothing.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        sweep(out_dir)
        prefix = f"{_STAGING}{_host()}-{os.getpid()}-"
        stage = Path(tempfile.mkdtemp(dir=out_dir, prefix=prefix))
        lock = _hold_lock(stage / _LOCK)
    except OSError as error:
        raise OutputError(
            f"{out_dir}: cannot write outputs here: {error.strerror or error}"
        ) from None
    try:
        yield stage
        commit(stage, out_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if lock is not None:
            os.close(lock)


_LOCK = ".lock"


def _hold_lock(path: Path) -> int | None:
    """Create ``path`` and lock it (released when the descriptor closes, or the process
    ends however it ends); None where the system has no ``flock``."""
    if fcntl is None:
        return None
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return descriptor


def _abandoned(folder: Path) -> bool | None:
    """Is ``folder``'s lock free (its run is gone)? None: it has no lock to ask."""
    if fcntl is None:
        return None
    try:
        descriptor = os.open(folder / _LOCK, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live run holds it
    finally:
        os.close(descriptor)
    return True


_STAGING = ".staging-"


def _host() -> str:
    return _UNSAFE.sub("-", socket.gethostname())[:60] or "host"


def sweep(out_dir: Path) -> list[Path]:
    """Remove the staging folders that runs of this machine which no longer run left in
    ``out_dir`` (with the feedback folder they swapped out, ``commit``): those whose
    lock nobody holds (a folder without a lock, of an older grader or a system without
    ``flock``: whose process is gone, and a minute old). What another machine or a
    running process writes is left alone. The folders removed."""
    host = _host()
    removed = []
    for child in out_dir.iterdir():
        name = child.name
        if not name.startswith(_STAGING) or not child.is_dir() or child.is_symlink():
            continue
        parts = name[len(_STAGING) :].rsplit("-", 2)
        mine = len(parts) == 3 and parts[0] == host and parts[1].isdigit()
        if not mine:
            continue
        abandoned = _abandoned(child)
        if abandoned is None:
            abandoned = not _running(int(parts[1])) and _age(child) > 60
        if abandoned:
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _running(pid: int) -> bool:
    """Is a process with this id running here (or may it be: when in doubt, yes)?"""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # another user's process, or nothing we may ask about
    return True


def commit(stage: Path, out_dir: Path) -> None:
    """Move every staged file into ``out_dir``; the feedback folder is swapped whole."""
    for item in sorted(stage.iterdir()):
        if item.name == _LOCK:
            continue
        target = out_dir / item.name
        if item.is_dir():
            old = None
            if target.exists():  # swapped out into the staging folder, removed with it
                old = stage / f".old-{item.name}"
                os.replace(target, old)
            os.replace(item, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(item, target)


class FileNames:
    """Safe, distinct file names for student ids, the same whatever the order of grading.

    An id that is already a safe file name in lower case is its own name
    (``feedback/alice.md``); any other id (``a/b``, ``../x``, ``Zoë``, ``Alice``)
    becomes its sanitised stem, ``~`` and 16 hex digits of its SHA-256
    (``a_b~5c1e…``). No id can take another's file: an id's own name has no ``~``, two
    own names differ in more than case (so not even a case-blind disk, macOS's or
    Windows', merges them), and two hashed names differ in their digests. Shards graded
    apart (``grader merge``) name every file alike.
    """

    def __call__(self, student_id: str) -> str:
        return feedback_stem(student_id)


HASH_MARK = "~"
"""What separates a sanitised stem from its digest (no id's own name holds it)."""


def feedback_stem(student_id: str) -> str:
    """The feedback file's stem for ``student_id`` (see ``FileNames``)."""
    stem = safe_stem(student_id)
    if stem == student_id and not _HAS_UPPER.search(stem):
        return stem
    digest = hashlib.sha256(student_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{stem}{HASH_MARK}{digest}"


_HAS_UPPER = re.compile(r"[A-Z]")


def conflict_stem(student_id: str, source: str) -> str:
    """The feedback file's stem of a submission whose student id another submission
    also claims (``alice~<16 hex digits>``, of SHA-256 of the id and the source): each
    claimant has a file of its own, and none has the id's own name."""
    text = f"{student_id}\x00{source}".encode("utf-8", "surrogatepass")
    return f"{safe_stem(student_id)}{HASH_MARK}{hashlib.sha256(text).hexdigest()[:16]}"


def safe_stem(student_id: str) -> str:
    """A file name stem from any text: ASCII letters, digits, ``.``, ``_``, ``-``; never
    empty, never starting with ``.`` or ``-``, never a name Windows reserves."""
    text = unicodedata.normalize("NFKD", student_id).encode("ascii", "ignore").decode()
    stem = _UNSAFE.sub("_", text).strip("._-")[:MAX_STEM].rstrip("._-")
    if stem.split(".")[0].upper() in _RESERVED:
        stem = "_" + stem
    return stem or "student"


def _mode_of(path: Path) -> int:
    """The permissions the replaced file had, or rw-r--r-- (mkstemp's are rw-------)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o644
