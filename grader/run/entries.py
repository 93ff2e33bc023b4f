"""The entries found under a submissions folder, held compactly and let go as read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from grader.intake.readers import iter_discover


class Entries:
    """The entries ``discover`` finds under a folder, held compactly and let go as they
    are read: a class of 100,000 files is some 5 MB of names (35 MB as ``Path``s)."""

    def __init__(self, path: Path, *, exclude: Sequence[Path] = ()) -> None:
        self.path = path
        self._texts: list[str] = []
        self._kinds = bytearray()
        self._ids: dict[int, str | None] = {}
        for location, folder_id in iter_discover(path, exclude=exclude):
            inside = location.parent == path
            # a copy: pathlib interns the name, and 100,000 interned names grow Python's
            # table of them by 7 MB for good
            self._texts.append("".join(location.name) if inside else str(location))
            self._kinds.append(inside + 2 * (folder_id is not None))
            if folder_id is not None and folder_id != location.name:
                self._ids[len(self._texts) - 1] = folder_id

    def __len__(self) -> int:
        return len(self._texts)

    def shard(self, part: int, parts: int) -> None:
        """Keep only the ``part``-th (1-based) of ``parts`` blocks of consecutive entries,
        as even as whole entries allow (a whole-class CSV is one entry): shards 1..n, in
        order, are the entries of one run, in its order (``grader merge``)."""
        count = len(self._texts)
        start, stop = count * (part - 1) // parts, count * part // parts
        self._texts = self._texts[start:stop]
        self._kinds = self._kinds[start:stop]
        self._ids = {i - start: v for i, v in self._ids.items() if start <= i < stop}

    def __iter__(self) -> Iterator[tuple[Path, str | None]]:
        """``(location, folder id)`` as ``discover`` gives them, one by one, once: each
        name is let go as it is given."""
        for index, kind in enumerate(self._kinds):
            text, self._texts[index] = self._texts[index], ""
            location = self.path / text if kind & 1 else Path(text)
            folder_id = self._ids.get(index, location.name) if kind & 2 else None
            yield location, folder_id
