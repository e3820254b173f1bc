"""The one exception the diagram library raises."""

from __future__ import annotations


class DiagramError(Exception):
    """A diagram source that cannot be rendered.

    ``line`` and ``column`` are 1-based and relative to the diagram source (the fence body);
    ``key`` is the path of the offending key (``items[1].cells[2].fill``). Any may be None.
    ``str(err)`` is one readable line: ``"items[1].type: unknown type 'circle' (...)"``.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message
