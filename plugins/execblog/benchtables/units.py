"""Statistics and human-readable numbers for benchmark tables."""

from __future__ import annotations

import numbers
import statistics

TIME_UNITS = [(1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")]


def summarize(samples: list[float]) -> tuple[float, float, float]:
    """Median, 25th and 75th percentile (linear interpolation, like numpy's default)."""
    if len(samples) < 2:
        return samples[0], samples[0], samples[0]
    p25, med, p75 = statistics.quantiles(samples, n=4, method="inclusive")
    return med, p25, p75


def time_unit(seconds: float) -> tuple[float, str]:
    """The largest unit in which ``seconds`` is at least 1 (ns for anything smaller)."""
    for scale, name in TIME_UNITS:
        if seconds >= scale:
            return scale, name
    return TIME_UNITS[-1]


def _sig3(value: float) -> str:
    """Three significant digits without an exponent for values in [1, 1000); larger values
    (an IQR end in the median's smaller unit) keep their integer digits: ``1,050``."""
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def display_unit(seconds: float) -> tuple[float, str]:
    """The unit :func:`format_time` shows ``seconds`` in: :func:`time_unit`, one unit up
    when three digits round to 1000 (999.7 µs is ``1.00 ms``)."""
    unit = time_unit(seconds)
    at = TIME_UNITS.index(unit)
    if at > 0 and float(_sig3(seconds / unit[0]).replace(",", "")) >= 1000:
        return TIME_UNITS[at - 1]
    return unit


def format_time(seconds: float) -> str:
    """``1.23 ms``, ``456 ns``: the unit is picked per value."""
    scale, name = display_unit(seconds)
    return f"{_sig3(seconds / scale)} {name}"


def format_range(low: float, high: float, unit: float | None = None) -> str:
    """``11.9–12.8 µs``: both ends in the unit of ``unit`` seconds when given (a table row
    passes its median, so the row shows one unit: ``938 µs``, ``900–1,050 µs``), else in the
    unit of the higher end."""
    scale, name = display_unit(high if unit is None else unit)
    return f"{_sig3(low / scale)}–{_sig3(high / scale)} {name}"


def format_rate(value: float) -> str:
    """GB/s and GFLOP/s values: thousands separators, three significant digits."""
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 1:
        return _sig3(value)
    return f"{value:.3g}"


def format_speedup(ratio: float) -> str:
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    if ratio >= 10:
        return f"{ratio:.1f}×"
    return f"{ratio:.2f}×"


def format_param(value: object) -> str:
    """Grid values: ``1,000,000`` for ints, class names for dtypes, ``str`` otherwise."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{float(value):g}"
    if isinstance(value, type):
        return value.__name__
    return str(value)


def is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
