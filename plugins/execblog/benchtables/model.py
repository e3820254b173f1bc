"""BenchData: the plain record of one ``benchmark()`` call, shared by the table, HTML and plot.

It holds everything that is shown, display names included, so rendering needs neither the
backends nor a lookup table of their names.
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, field
from typing import Any

from .units import format_param


@dataclass
class BenchData:
    """Results of one ``benchmark()`` call.

    ``rows`` are dicts with ``case``, ``params``, ``backend`` (name), ``median_s``, ``p25_s``,
    ``p75_s``, ``repeats``, ``loops``, ``timer`` (its name), ``gbps``, ``gflops`` and
    ``speedup`` (None when not applicable), ordered by case, then parameters, then backend.
    ``pretty`` maps each requested backend name to its display name, ``timers`` each timer
    name to how it measures.
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
    pretty: dict[str, str] = field(default_factory=dict)  # {"numpy": "NumPy"}
    timers: dict[str, str] = field(default_factory=dict)  # {"perf_counter": "wall-clock ..."}

    @property
    def baseline(self) -> str | None:
        """Name of the backend speedups are relative to, when two or more ran."""
        return self.backends[0]["name"] if len(self.backends) > 1 else None

    def pretty_name(self, name: str) -> str:
        """The display name of backend ``name`` (the name itself when it has none)."""
        return self.pretty.get(name) or name

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record of everything the table and its footnote show."""
        data = asdict(self)
        data["rows"] = [
            {**row, "params": {k: _jsonable(v) for k, v in row["params"].items()}}
            for row in self.rows
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchData:
        return cls(**data)


def _jsonable(value: Any) -> Any:
    """Grid values as JSON: numbers and strings as such, anything else by its display text."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return format_param(value)
