"""HTML for a benchmark: ``div.bench-wrap > div.bench-scroll > table.bench``, then
``p.bench-foot``.

``div.bench-scroll`` is what scrolls sideways on a narrow screen: a keyboard-reachable
region (``tabindex="0"``, ``role="region"``, named "Benchmark table: <title>"). Numeric
cells carry ``style="text-align:right"`` besides ``class="num"``, so feed readers that drop
classes (and the theme's CSS) keep the numbers aligned. Each row shows its median and IQR in
one unit, the median's.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from .model import BenchData
from .units import format_param, format_range, format_rate, format_speedup, format_time, is_number


def render_html(table: BenchData) -> str:
    """The table, then its footnote (devices, versions, method, date), all escaped."""
    columns = _columns(table)
    caption = f"<caption>{escape(table.title)}</caption>" if table.title else ""
    head = "".join(
        f'<th scope="col"{_cls(numeric)}>{escape(name)}</th>' for name, numeric, _ in columns
    )
    if table.rows:
        body = "".join(
            "<tr>"
            + "".join(f"<td{_cls(num)}>{escape(cell(row))}</td>" for _, num, cell in columns)
            + "</tr>"
            for row in table.rows
        )
    else:
        body = (
            f'<tr><td class="bench-empty" colspan="{len(columns)}">'
            "No backend could run.</td></tr>"
        )
    label = f"Benchmark table: {table.title}" if table.title else "Benchmark table"
    return (
        f'<div class="bench-wrap"><div class="bench-scroll" tabindex="0" role="region" '
        f'aria-label="{escape(label)}"><table class="bench">{caption}'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        f'<p class="bench-foot">{_footnote(table)}</p></div>'
    )


def _cls(numeric: bool) -> str:
    return ' class="num" style="text-align:right"' if numeric else ""


Cell = Callable[[dict[str, Any]], str]


def _columns(table: BenchData) -> list[tuple[str, bool, Cell]]:
    """(header, right-aligned?, cell text) in display order."""
    cols: list[tuple[str, bool, Cell]] = []
    if table.show_case:
        cols.append(("Case", False, lambda r: str(r["case"])))
    for key in table.param_names:
        numeric = all(is_number(r["params"].get(key)) for r in table.rows)
        cols.append((key, numeric, lambda r, k=key: format_param(r["params"].get(k))))
    if len(table.requested) > 1 or len(table.backends) > 1:
        cols.append(("Backend", False, lambda r: table.pretty_name(r["backend"])))
    cols.append(("Median", True, lambda r: format_time(r["median_s"])))
    cols.append(("IQR", True, lambda r: format_range(r["p25_s"], r["p75_s"], r["median_s"])))
    if table.has_bytes:
        cols.append(("GB/s", True, lambda r: _maybe(format_rate, r["gbps"])))
    if table.has_flops:
        cols.append(("GFLOP/s", True, lambda r: _maybe(format_rate, r["gflops"])))
    if table.baseline:
        header = f"vs {table.pretty_name(table.baseline)}"
        cols.append((header, True, lambda r: _maybe(format_speedup, r["speedup"])))
    return cols


def _maybe(fmt: Callable[[float], str], value: float | None) -> str:
    return "—" if value is None else fmt(value)


def _footnote(table: BenchData) -> str:
    parts = [_backend_note(table, info) for info in table.backends]
    for skip in table.skipped:
        parts.append(
            '<span class="bench-skipped">Not run: '
            f"{escape(table.pretty_name(skip['name']))} ({escape(skip['reason'])}).</span>"
        )
    parts.append(f'<span class="bench-method">{escape(_method(table))}</span>')
    if table.date:
        parts.append(
            f'<span class="bench-date">Measured <time datetime="{escape(table.date)}">'
            f"{escape(table.date)}</time> (UTC).</span>"
        )
    return " ".join(parts)


def _backend_note(table: BenchData, info: dict[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in (info.get("versions") or {}).items())
    text = f"{table.pretty_name(info['name'])}: {info['device']}"
    if info.get("gpu"):
        text += " (GPU)"
    if versions:
        text += f"; {versions}"
    return f'<span class="bench-backend">{escape(text)}.</span>'


def _method(table: BenchData) -> str:
    counts = sorted(r["repeats"] for r in table.rows)
    if not counts:
        return "Nothing was timed."
    runs = f"{counts[0]:,}" if counts[0] == counts[-1] else f"{counts[0]:,}–{counts[-1]:,}"
    text = (
        f"Median and IQR (p25–p75) of {runs} timed runs per row "
        f"(budget {table.budget:g} s per row, at least {table.min_repeats}, "
        f"after {table.warmup} warm-up calls)."
    )
    users: dict[str, dict[str, None]] = {}  # timer -> display names of the backends it timed
    for row in table.rows:
        users.setdefault(row["timer"], {})[table.pretty_name(row["backend"])] = None
    for timer, names in users.items():
        text += f" {', '.join(names)}: {table.timers.get(timer) or timer}."
    return text
