"""HTML for a BenchTable: ``div.bench-wrap > table.bench`` plus ``p.bench-foot``."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

from .table import pretty_name
from .timing import BATCH_TARGET_S, CUDA_EVENTS, PERF_COUNTER
from .units import (
    format_param,
    format_range,
    format_rate,
    format_speedup,
    format_time,
    is_number,
)

if TYPE_CHECKING:
    from .table import BenchTable

VERSION_NAMES = {
    "numpy": "NumPy",
    "cupy": "CuPy",
    "cuda-runtime": "CUDA runtime",
    "cuda-driver": "CUDA driver",
}


def render_html(table: BenchTable) -> str:
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
    return (
        f'<div class="bench-wrap"><table class="bench">{caption}'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f'<p class="bench-foot">{_footnote(table)}</p></div>'
    )


def _cls(numeric: bool) -> str:
    return ' class="num"' if numeric else ""


Cell = Callable[[dict[str, Any]], str]


def _columns(table: BenchTable) -> list[tuple[str, bool, Cell]]:
    """(header, right-aligned?, cell text) in display order."""
    cols: list[tuple[str, bool, Cell]] = []
    if table.show_case:
        cols.append(("Case", False, lambda r: str(r["case"])))
    for key in table.param_names:
        numeric = all(is_number(r["params"].get(key)) for r in table.rows)
        cols.append((key, numeric, lambda r, k=key: format_param(r["params"].get(k))))
    if len(table.requested) > 1 or len(table.backends) > 1:
        cols.append(("Backend", False, lambda r: pretty_name(r["backend"])))
    cols.append(("Median", True, lambda r: format_time(r["median_s"])))
    cols.append(("IQR", True, lambda r: format_range(r["p25_s"], r["p75_s"])))
    if table.has_bytes:
        cols.append(("GB/s", True, lambda r: _maybe(format_rate, r["gbps"])))
    if table.has_flops:
        cols.append(("GFLOP/s", True, lambda r: _maybe(format_rate, r["gflops"])))
    if table.baseline:
        header = f"vs {pretty_name(table.baseline)}"
        cols.append((header, True, lambda r: _maybe(format_speedup, r["speedup"])))
    return cols


def _maybe(fmt: Callable[[float], str], value: float | None) -> str:
    return "—" if value is None else fmt(value)


def _footnote(table: BenchTable) -> str:
    parts = [_backend_note(info) for info in table.backends]
    for skip in table.skipped:
        parts.append(
            '<span class="bench-skipped">Not run: '
            f"{escape(pretty_name(skip['name']))} ({escape(skip['reason'])}).</span>"
        )
    parts.append(f'<span class="bench-method">{escape(_method(table))}</span>')
    if table.date:
        parts.append(
            f'<span class="bench-date">Measured <time datetime="{escape(table.date)}">'
            f"{escape(table.date)}</time> (UTC).</span>"
        )
    return " ".join(parts)


def _backend_note(info: dict[str, Any]) -> str:
    versions = ", ".join(f"{_version_name(k)} {v}" for k, v in _ordered(info["versions"]))
    text = f"{pretty_name(info['name'])}: {info['device']}"
    if info.get("gpu"):
        text += " (GPU)"
    if versions:
        text += f"; {versions}"
    return f'<span class="bench-backend">{escape(text)}.</span>'


def _ordered(versions: dict[str, str]) -> list[tuple[str, str]]:
    known = [(k, versions[k]) for k in VERSION_NAMES if k in versions]
    rest = sorted((k, v) for k, v in versions.items() if k not in VERSION_NAMES)
    return known + rest


def _version_name(key: str) -> str:
    return VERSION_NAMES.get(key, key)


def _method(table: BenchTable) -> str:
    counts = sorted(r["repeats"] for r in table.rows)
    if not counts:
        return "Nothing was timed."
    runs = f"{counts[0]:,}" if counts[0] == counts[-1] else f"{counts[0]:,}–{counts[-1]:,}"
    text = (
        f"Median and IQR (p25–p75) of {runs} timed runs per row "
        f"(budget {table.budget:g} s per row, at least {table.min_repeats}, "
        f"after {table.warmup} warm-up calls)."
    )
    timers = {r["timer"] for r in table.rows}
    if PERF_COUNTER in timers:
        text += " CPU: wall-clock time.perf_counter"
        if any(r.get("loops", 1) > 1 for r in table.rows):
            text += f", calls under {BATCH_TARGET_S * 1e6:g} µs timed in batches"
        text += "."
    if CUDA_EVENTS in timers:
        text += " GPU: CUDA events (cupyx.profiler.benchmark)."
    return text
