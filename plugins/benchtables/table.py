"""BenchTable: the value ``benchmark()`` returns (raw rows, JSON, HTML, plot)."""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, field
from typing import Any

PRETTY = {"numpy": "NumPy", "cupy": "CuPy"}


def pretty_name(name: str) -> str:
    """``NumPy`` for ``numpy``; unknown backends keep their name."""
    return PRETTY.get(name, name)


@dataclass
class BenchTable:
    """Results of one ``benchmark()`` call.

    ``rows`` are dicts with ``case``, ``params``, ``backend`` (name), ``median_s``, ``p25_s``,
    ``p75_s``, ``repeats``, ``loops``, ``timer``, ``gbps``, ``gflops`` and ``speedup`` (None
    when not applicable), ordered by case, then parameters, then backend.
    """

    rows: list[dict[str, Any]]
    title: str | None = None
    param_names: list[str] = field(default_factory=list)
    show_case: bool = True
    backends: list[dict[str, Any]] = field(default_factory=list)  # ArrayBackend.describe()
    requested: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"name", "reason"}
    has_bytes: bool = False
    has_flops: bool = False
    budget: float = 0.2
    warmup: int = 3
    min_repeats: int = 5
    date: str = ""  # UTC, YYYY-MM-DD

    @property
    def baseline(self) -> str | None:
        """Name of the backend speedups are relative to, when two or more ran."""
        return self.backends[0]["name"] if len(self.backends) > 1 else None

    def backend_info(self, name: str) -> dict[str, Any]:
        for info in self.backends:
            if info["name"] == name:
                return info
        return {"name": name, "label": pretty_name(name), "device": "", "versions": {}}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record of everything the table and its footnote show."""
        data = asdict(self)
        data["rows"] = [
            {**row, "params": {k: _jsonable(v) for k, v in row["params"].items()}}
            for row in self.rows
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchTable:
        return cls(**data)

    def _repr_html_(self) -> str:
        from .html import render_html

        return render_html(self)

    def plot(self, ax: Any = None) -> Any:
        """Draw median time per call against the first numeric parameter; return the Figure."""
        from .plot import plot_table

        return plot_table(self, ax)

    def __repr__(self) -> str:
        return f"<BenchTable {self.title or ''!s} ({len(self.rows)} rows)>"


def _jsonable(value: Any) -> Any:
    """Grid values as JSON: numbers and strings as such, anything else by its display text."""
    from .units import format_param

    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return format_param(value)
