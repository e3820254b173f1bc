"""BenchTable: the value ``benchmark()`` returns (raw rows, JSON, HTML, plot)."""

from __future__ import annotations

from typing import Any

from .html import render_html
from .model import BenchData
from .plot import plot_table


class BenchTable(BenchData):
    """A :class:`BenchData` that displays itself: ``_repr_html_`` and ``plot()``."""

    def _repr_html_(self) -> str:
        return render_html(self)

    def plot(self, ax: Any = None) -> Any:
        """Draw median time per call against the first numeric parameter; return the Figure."""
        return plot_table(self, ax)

    def __repr__(self) -> str:
        return f"<BenchTable {self.title or ''!s} ({len(self.rows)} rows)>"
