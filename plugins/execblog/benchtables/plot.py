"""A log-log plot of a BenchTable: time per call against the first numeric parameter."""

from __future__ import annotations

from typing import Any

from .model import BenchData
from .units import format_param, is_number


def plot_table(table: BenchData, ax: Any = None) -> Any:
    """One line (median, IQR band) per case × backend × other parameters; returns the Figure.

    The figure is left open (pyplot-managed) so the engine captures it like any figure.
    Without a numeric parameter the medians are drawn as horizontal bars instead.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    else:
        fig = ax.figure
    xkey = next(
        (k for k in table.param_names if all(is_number(r["params"][k]) for r in table.rows)),
        None,
    )
    if xkey is None:
        _bars(table, ax)
    else:
        _lines(table, ax, xkey)
    if table.title:
        ax.set_title(table.title)
    return fig


def _series_label(table: BenchData, row: dict[str, Any], xkey: str | None) -> str:
    bits = [str(row["case"])] if table.show_case or xkey is None else []
    if len(table.backends) > 1 or not bits:
        bits.append(table.pretty_name(row["backend"]))
    bits += [f"{k}={format_param(v)}" for k, v in row["params"].items() if k != xkey]
    return " · ".join(bits)


def _lines(table: BenchData, ax: Any, xkey: str) -> None:
    series: dict[str, list[dict[str, Any]]] = {}
    for row in table.rows:  # rows are ordered, so series and points are too
        series.setdefault(_series_label(table, row, xkey), []).append(row)
    for label, rows in series.items():
        rows = sorted(rows, key=lambda r: r["params"][xkey])
        xs = [r["params"][xkey] for r in rows]
        (line,) = ax.plot(xs, [r["median_s"] for r in rows], marker="o", label=label)
        ax.fill_between(
            xs, [r["p25_s"] for r in rows], [r["p75_s"] for r in rows],
            color=line.get_color(), alpha=0.2, linewidth=0,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xkey)
    ax.set_ylabel("time per call (s, median and IQR)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()


def _bars(table: BenchData, ax: Any) -> None:
    labels = [_series_label(table, r, None) for r in table.rows]
    ax.barh(range(len(labels)), [r["median_s"] for r in table.rows], log=True)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("time per call (s, median)")
