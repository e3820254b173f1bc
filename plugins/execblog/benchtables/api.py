"""``benchmark(cases, params, ...)``: what authors call inside exec fences."""

from __future__ import annotations

import datetime
import inspect
import itertools
import logging
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .gpulock import gpu_lock
from .table import BenchTable
from .units import summarize

if TYPE_CHECKING:
    from execblog.engine.backends import ArrayBackend, BackendResolver

log = logging.getLogger("fences.bench")

Make = Callable[..., Callable[[], Any]]
Work = Callable[..., float] | float
#: Work of one call: a number, a function of the parameters (and of ``case``, when it names
#: that argument), or a dict of either keyed by case name (a case missing from it: no rate).
PerParams = Work | Mapping[str, Work] | None


def make_benchmark(
    session_backend: ArrayBackend, backends: BackendResolver
) -> Callable[..., BenchTable]:
    """Bind ``benchmark`` to a session: its default backend and the resolver for others."""
    resolver = backends  # the inner function's own ``backends`` argument shadows the name

    def benchmark(
        cases: Make | Mapping[str, Make],
        params: Mapping[str, Any] | None = None,
        *,
        bytes: PerParams = None,  # the author-facing name shadows the builtin here only
        flops: PerParams = None,
        backends: Iterable[str] | str | None = None,
        title: str | None = None,
        budget: float = 0.2,
        warmup: int = 3,
        min_repeats: int = 5,
        plot: bool = False,
    ) -> BenchTable:
        """Time ``make(xp, **params)()`` for every case × grid point × backend.

        ``make`` does the setup (outside the timing) and returns the thunk to time.
        ``bytes``/``flops`` give the work of one call: a number, a function of the
        parameters (which also gets ``case=`` when it names that argument), or a dict of
        those keyed by case, since cases may do different work (quantize vs. quantize and
        dequantize); they add GB/s and GFLOP/s columns. A requested backend that cannot run
        is skipped, logged and named in the footnote.
        """
        named = _cases(cases)
        grid = _grid(params)
        requested = _requested(backends, session_backend)
        ran, skipped = _resolve(requested, session_backend, resolver)
        rows = []
        for case, make in named.items():
            for point in grid:
                for backend in ran:
                    rows.append(
                        _row(case, make, point, backend, bytes, flops,
                             budget=budget, warmup=warmup, min_repeats=min_repeats)
                    )
        _add_speedups(rows, ran)
        table = BenchTable(
            rows=rows,
            title=title,
            param_names=list(params or {}),
            show_case=isinstance(cases, Mapping),
            backends=[b.describe() for b in ran],
            requested=requested,
            skipped=skipped,
            has_bytes=bytes is not None,
            has_flops=flops is not None,
            budget=budget,
            warmup=warmup,
            min_repeats=min_repeats,
            date=datetime.datetime.now(datetime.UTC).date().isoformat(),
            pretty={name: resolver.pretty(name) for name in requested}
            | {b.name: b.pretty or b.name for b in ran},
            timers={b.timer.name: b.timer.description for b in ran},
        )
        if plot:
            table.plot()
        return table

    return benchmark


def _cases(cases: Make | Mapping[str, Make]) -> dict[str, Make]:
    if isinstance(cases, Mapping):
        named = {str(name): make for name, make in cases.items()}
    else:
        named = {_case_name(cases): cases}
    if not named:
        raise ValueError("benchmark() needs at least one case")
    for name, make in named.items():
        if not callable(make):
            raise TypeError(f"case {name!r} must be a callable make(xp, **params) -> thunk")
    return named


def _case_name(make: Make) -> str:
    name = getattr(make, "__name__", "") or "case"
    if name == "<lambda>":
        return "case"
    return name.removeprefix("make_") or name


def _grid(params: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Cartesian product of the parameter lists, first key varying slowest."""
    if not params:
        return [{}]
    keys = list(params)
    values = []
    for key in keys:
        value = params[key]
        options = list(value) if isinstance(value, list | tuple | range) else [value]
        if not options:
            raise ValueError(f"benchmark() parameter {key!r} has no values")
        values.append(options)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


def _requested(names: Iterable[str] | str | None, session: ArrayBackend) -> list[str]:
    if names is None:
        return [session.name]
    if isinstance(names, str):
        names = [names]
    return list(dict.fromkeys(names))  # drop repeats, keep order


def _resolve(
    requested: list[str], session: ArrayBackend, resolver: BackendResolver
) -> tuple[list[ArrayBackend], list[dict[str, str]]]:
    from execblog.engine.backends import BackendUnavailable

    ran: list[ArrayBackend] = []
    skipped: list[dict[str, str]] = []
    for name in requested:
        try:  # the session's own too: the real backend, not the name bound lazily in it
            ran.append(resolver.get(name))
        except BackendUnavailable as exc:
            log.warning("benchmark: backend %s not run: %s", name, exc)
            skipped.append({"name": name, "reason": str(exc)})
    return ran, skipped


def _row(
    case: str,
    make: Make,
    point: dict[str, Any],
    backend: ArrayBackend,
    bytes_: PerParams,
    flops: PerParams,
    **budget: Any,
) -> dict[str, Any]:
    thunk = make(backend.xp, **point)
    if not callable(thunk):
        raise TypeError(
            f"case {case!r}: make(xp, **{point}) must return the callable to time, "
            f"got {type(thunk).__name__}"
        )
    with gpu_lock(backend.is_gpu):
        timing = backend.timer(thunk, **budget)
    median, p25, p75 = summarize(timing.samples)
    return {
        "case": case,
        "params": dict(point),
        "backend": backend.name,
        "median_s": median,
        "p25_s": p25,
        "p75_s": p75,
        "repeats": len(timing.samples),
        "loops": timing.loops,
        "timer": backend.timer.name,
        "gbps": _rate(bytes_, case, point, median),
        "gflops": _rate(flops, case, point, median),
        "speedup": None,
    }


def _rate(work: PerParams, case: str, point: dict[str, Any], median: float) -> float | None:
    """Work per call (bytes or flops) / median seconds, in units of 1e9 per second."""
    if isinstance(work, Mapping):
        work = work.get(case)
    if work is None:
        return None
    amount = work(**point, **_case_argument(work, case)) if callable(work) else work
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"bytes/flops must give a number, got {type(amount).__name__}")
    return float(amount) / median / 1e9 if median > 0 else None


def _case_argument(work: Callable[..., Any], case: str) -> dict[str, str]:
    """``{"case": case}`` when the work function names a ``case`` argument."""
    try:
        parameters = inspect.signature(work).parameters
    except (TypeError, ValueError):
        return {}
    return {"case": case} if "case" in parameters else {}


def _add_speedups(rows: list[dict[str, Any]], ran: list[ArrayBackend]) -> None:
    """Baseline median / this median, per case and grid point, when two backends ran."""
    if len(ran) < 2:
        return
    base = ran[0].name
    medians = {
        (r["case"], repr(r["params"])): r["median_s"] for r in rows if r["backend"] == base
    }
    for row in rows:
        ref = medians.get((row["case"], repr(row["params"])))
        if ref is not None and row["median_s"] > 0:
            row["speedup"] = ref / row["median_s"]
