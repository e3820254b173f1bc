"""Values made from files (a parsed .bib, a CSL style), kept while each file's size and
modification time stay the same: a long-lived preview re-reads only what was edited."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class FileCache(Generic[T]):
    """``get(path)``: ``make(path)``, or the value made last time if the file is unchanged.
    A file that cannot be read raises ``error`` naming it."""

    def __init__(self, make: Callable[[str], T], error: type[Exception]):
        self.make, self.error = make, error
        self._kept: dict[str, tuple[tuple[int, int], T]] = {}

    def get(self, path: str) -> T:
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise self.error(f"cannot read {path}: {exc.strerror or exc}") from exc
        signature = (stat.st_mtime_ns, stat.st_size)
        kept = self._kept.get(path)
        if kept is None or kept[0] != signature:
            kept = self._kept[path] = (signature, self.make(path))
        return kept[1]
