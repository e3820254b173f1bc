"""The benchmark API (plugins/execblog/benchtables) with real timing on real backends.

Budgets are tiny (10 ms per row) so the module runs in a few seconds. The GPU test uses a
real CuPy device where one exists and is skipped, with the reason, everywhere else.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402
import pytest  # noqa: E402
from bs4 import BeautifulSoup  # noqa: E402
from execblog.backends import cupy_backend, numpy_backend  # noqa: E402
from execblog.benchtables import BenchTable, make_benchmark  # noqa: E402
from execblog.benchtables.units import format_range, format_time  # noqa: E402
from execblog.engine.backends import (  # noqa: E402
    ArrayBackend,
    BackendCandidate,
    BackendResolver,
    BackendUnavailable,
    cpu_name,
)
from matplotlib.figure import Figure  # noqa: E402

FAST = {"budget": 0.01, "warmup": 1, "min_repeats": 3}


def resolver(*extra: BackendCandidate) -> BackendResolver:
    return BackendResolver(
        numpy_backend.fences_backend_candidates()
        + cupy_backend.fences_backend_candidates()
        + list(extra)
    )


@pytest.fixture(scope="module")
def bench_fn():
    """``benchmark`` as a session has it (not named so: pytest-benchmark's fixture is)."""
    backends = resolver()
    return make_benchmark(backends.get("numpy"), backends)


def make_sum(xp, n):
    a = xp.ones(n, dtype=xp.float32)
    return lambda: a.sum()


def make_cumsum(xp, n):
    a = xp.ones(n, dtype=xp.float32)
    return lambda: xp.cumsum(a)


def soup(table: BenchTable) -> BeautifulSoup:
    return BeautifulSoup(table._repr_html_(), "html.parser")


def headers(page: BeautifulSoup) -> list[str]:
    return [th.get_text() for th in page.select("table.bench thead th")]


def body_rows(page: BeautifulSoup) -> list[list[str]]:
    return [[td.get_text() for td in tr.find_all("td")] for tr in page.select("tbody tr")]


@pytest.fixture(scope="module")
def reductions(bench_fn) -> BenchTable:
    return bench_fn(
        {"sum": make_sum, "cumsum": make_cumsum},
        params={"n": [1_000, 100_000]},
        bytes=lambda n: 4 * n,
        flops=lambda n: n,
        title="Reductions",
        **FAST,
    )


def test_table_structure(reductions):
    page = soup(reductions)
    (wrap,) = page.contents  # one top-level element: the scrolling wrapper
    assert wrap.name == "div" and wrap["class"] == ["bench-wrap"]
    table = wrap.find("table", class_="bench")
    assert table.caption.get_text() == "Reductions"
    assert headers(page) == ["Case", "n", "Median", "IQR", "GB/s", "GFLOP/s"]
    rows = body_rows(page)
    assert [r[:2] for r in rows] == [
        ["sum", "1,000"], ["sum", "100,000"], ["cumsum", "1,000"], ["cumsum", "100,000"],
    ]
    # numbers (grid values, times, rates) are right-aligned cells, names are not
    for tr in page.select("tbody tr"):
        classes = [td.get("class") for td in tr.find_all("td")]
        assert classes == [None] + [["num"]] * 5
    assert [th.get("class") for th in page.select("thead th")] == [None] + [["num"]] * 5
    foot = wrap.find("p", class_="bench-foot")
    text = foot.get_text()
    assert cpu_name() in text
    assert f"NumPy {numpy.__version__}" in text
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    assert foot.find("time")["datetime"] == today and today in text
    counts = [r["repeats"] for r in reductions.rows]
    assert f"{min(counts):,}–{max(counts):,} timed runs" in text
    assert "budget 0.01 s per row" in text and "1 warm-up" in text
    assert "perf_counter" in text


def test_statistics_and_derived_columns(reductions):
    assert len(reductions.rows) == 4
    page_rows = body_rows(soup(reductions))
    for row, cells in zip(reductions.rows, page_rows, strict=True):
        n = row["params"]["n"]
        assert row["backend"] == "numpy" and row["timer"] == "perf_counter"
        assert row["repeats"] >= 3
        assert 0 < row["p25_s"] <= row["median_s"] <= row["p75_s"]
        assert row["gbps"] == pytest.approx(4 * n / row["median_s"] / 1e9)
        assert row["gflops"] == pytest.approx(n / row["median_s"] / 1e9)
        assert row["speedup"] is None  # one backend: no speedup column
        # the displayed values are the row's numbers, rounded to three digits
        assert float(cells[4].replace(",", "")) == pytest.approx(row["gbps"], rel=0.01)
        assert float(cells[5].replace(",", "")) == pytest.approx(row["gflops"], rel=0.01)
        assert cells[2] == format_time(row["median_s"])
        assert cells[3] == format_range(row["p25_s"], row["p75_s"], row["median_s"])  # row unit


def test_single_callable_vs_dict(bench_fn):
    single = bench_fn(make_sum, params={"n": [100, 200]}, **FAST)
    assert [r["case"] for r in single.rows] == ["sum", "sum"]
    assert headers(soup(single)) == ["n", "Median", "IQR"]  # no Case column for one callable
    named = bench_fn({"total": make_sum}, params={"n": [100]}, **FAST)
    assert headers(soup(named)) == ["Case", "n", "Median", "IQR"]
    assert body_rows(soup(named))[0][0] == "total"
    bare = bench_fn(lambda xp: (lambda: xp.zeros(3)), **FAST)  # no params at all
    assert len(bare.rows) == 1 and bare.rows[0]["params"] == {}


def test_two_key_grid_is_a_product(bench_fn):
    seen = []

    def make_fill(xp, n, dtype):
        seen.append((n, dtype))
        a = xp.empty(n, dtype=dtype)
        return lambda: a.fill(1)

    table = bench_fn(make_fill, params={"n": [10, 1_000], "dtype": ["float32", "int64"]},
                      bytes=lambda n, dtype: n * numpy.dtype(dtype).itemsize, **FAST)
    expected = [(10, "float32"), (10, "int64"), (1_000, "float32"), (1_000, "int64")]
    assert seen == expected  # setup ran once per row, in row order
    assert [(r["params"]["n"], r["params"]["dtype"]) for r in table.rows] == expected
    page = soup(table)
    assert headers(page) == ["n", "dtype", "Median", "IQR", "GB/s"]
    assert [r[:2] for r in body_rows(page)] == [
        ["10", "float32"], ["10", "int64"], ["1,000", "float32"], ["1,000", "int64"]
    ]
    assert table.rows[3]["gbps"] == pytest.approx(8_000 / table.rows[3]["median_s"] / 1e9)


def _unavailable_cupy_reason() -> str:
    try:
        resolver().get("cupy")
    except BackendUnavailable as exc:
        return str(exc)
    pytest.skip("CuPy works on this machine: the unavailable-backend path cannot be shown")


def test_unavailable_backend_is_noted_and_logged(bench_fn, caplog):
    reason = _unavailable_cupy_reason()
    with caplog.at_level(logging.WARNING, logger="fences.bench"):
        table = bench_fn({"sum": make_sum, "cumsum": make_cumsum}, params={"n": [1_000]},
                          bytes=lambda n: 4 * n, backends=("numpy", "cupy"), **FAST)
    assert [(r["case"], r["backend"]) for r in table.rows] == [
        ("sum", "numpy"), ("cumsum", "numpy")
    ]
    page = soup(table)
    assert headers(page) == ["Case", "n", "Backend", "Median", "IQR", "GB/s"]
    assert [r[2] for r in body_rows(page)] == ["NumPy", "NumPy"]
    skipped = page.select_one("p.bench-foot .bench-skipped").get_text()
    assert "CuPy" in skipped and reason in skipped
    warnings = [r for r in caplog.records if r.name == "fences.bench"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "cupy" in warnings[0].getMessage() and reason in warnings[0].getMessage()
    assert table.to_dict()["skipped"] == [{"name": "cupy", "reason": reason}]


def test_unknown_backend_is_skipped_not_fatal(bench_fn, caplog):
    with caplog.at_level(logging.WARNING, logger="fences.bench"):
        table = bench_fn(make_sum, params={"n": [10]}, backends=["nosuch"], **FAST)
    assert table.rows == []
    page = soup(table)
    assert "No backend could run" in page.select_one("tbody").get_text()
    assert "unknown backend 'nosuch'" in page.select_one(".bench-skipped").get_text()
    assert any("nosuch" in r.getMessage() for r in caplog.records)


def test_speedup_between_two_backends():
    """A second, real backend (NumPy again under another name) gives the speedup column."""
    twin = BackendCandidate(
        name="numpy-twin", preference=-1, installed=lambda: True,
        probe=lambda: ArrayBackend(name="numpy-twin", xp=numpy, device=cpu_name(),
                                   versions={"numpy": numpy.__version__}),
    )
    backends = resolver(twin)
    bench = make_benchmark(backends.get("numpy"), backends)
    table = bench(make_sum, params={"n": [1_000, 10_000]}, backends=("numpy", "numpy-twin"),
                  **FAST)
    assert [(r["params"]["n"], r["backend"]) for r in table.rows] == [
        (1_000, "numpy"), (1_000, "numpy-twin"), (10_000, "numpy"), (10_000, "numpy-twin")
    ]
    page = soup(table)
    assert headers(page) == ["n", "Backend", "Median", "IQR", "vs NumPy"]
    for base, other in zip(table.rows[::2], table.rows[1::2], strict=True):
        assert base["speedup"] == 1.0
        assert other["speedup"] == pytest.approx(base["median_s"] / other["median_s"])
    assert body_rows(page)[0][-1] == "1.00×"
    assert page.select_one(".bench-foot").get_text().count(cpu_name()) == 2


def test_everything_is_escaped(bench_fn):
    table = bench_fn({"<b>": make_sum}, params={"n": [10]}, title="<i>x</i> & y", **FAST)
    html = table._repr_html_()
    page = soup(table)
    assert page.find("b") is None and page.find("i") is None
    assert page.select_one("tbody td").get_text() == "<b>"
    assert page.caption.get_text() == "<i>x</i> & y"
    assert "&lt;b&gt;" in html and "&lt;i&gt;x&lt;/i&gt; &amp; y" in html


def test_units_follow_each_value(bench_fn):
    assert format_time(5e-10) == "0.50 ns"
    assert format_time(1.5e-7) == "150 ns"
    assert format_time(2.5e-5) == "25.0 µs"
    assert format_time(1.2e-3) == "1.20 ms"
    assert format_time(0.9997e-3) == "1.00 ms"  # rounding carries into the next unit
    assert format_time(3.0) == "3.00 s"
    assert format_range(1.19e-5, 1.28e-5) == "11.9–12.8 µs"
    table = bench_fn(
        {"noop": lambda xp: (lambda: None), "sleep": lambda xp: (lambda: time.sleep(0.002))},
        **FAST,
    )
    cells = {r[0]: r[1] for r in body_rows(soup(table))}
    assert re.fullmatch(r"[\d.]+ ns", cells["noop"]), cells
    assert re.fullmatch(r"[\d.]+ ms", cells["sleep"]), cells
    assert 0.002 <= table.rows[1]["median_s"] < 0.05
    assert table.rows[0]["loops"] > 1  # a call far below 20 µs is timed in batches


def test_plot_draws_one_line_per_case(bench_fn, reductions):
    fig = reductions.plot()
    try:
        assert isinstance(fig, Figure)
        assert fig.number in plt.get_fignums()  # left open for the engine to capture
        (ax,) = fig.axes
        assert len(ax.get_lines()) == 2
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sum", "cumsum"]
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert ax.get_xlabel() == "n" and ax.get_title() == "Reductions"
        xs, ys = ax.get_lines()[0].get_data()
        assert list(xs) == [1_000, 100_000]
        assert list(ys) == [r["median_s"] for r in reductions.rows[:2]]
    finally:
        plt.close("all")
    before = set(plt.get_fignums())
    bench_fn(make_sum, params={"n": [10, 100]}, plot=True, **FAST)
    try:
        (num,) = set(plt.get_fignums()) - before
        assert len(plt.figure(num).axes[0].get_lines()) == 1
    finally:
        plt.close("all")


def test_to_dict_is_json_and_html_is_deterministic(bench_fn):
    table = bench_fn(
        {"fill": lambda xp, n, dtype: (lambda: xp.zeros(int(n), dtype=dtype))},
        params={"n": [numpy.int64(8)], "dtype": [numpy.float32]},
        bytes=lambda n, dtype: int(n) * 4, title="Zeros", **FAST,
    )
    data = json.loads(json.dumps(table.to_dict()))
    assert data["rows"][0]["params"] == {"n": 8, "dtype": "float32"}
    assert data["backends"][0]["name"] == "numpy" and data["budget"] == 0.01
    assert data["date"] == datetime.datetime.now(datetime.UTC).date().isoformat()
    # same numbers, same bytes: the table rebuilt from its JSON renders identically
    again = BenchTable.from_dict(data)
    assert again._repr_html_() == table._repr_html_() == table._repr_html_()
    assert again.rows[0]["median_s"] == table.rows[0]["median_s"]
    assert body_rows(soup(again))[0][:3] == ["fill", "8", "float32"]


def test_session_hook_injects_benchmark():
    from execblog.benchtables.hooks import fences_session_setup

    backends = resolver()
    namespace: dict = {}
    fences_session_setup(namespace=namespace, backend=backends.get("numpy"), backends=backends)
    table = namespace["benchmark"](make_sum, params={"n": [10]}, **FAST)
    assert [r["backend"] for r in table.rows] == ["numpy"]  # the session's backend by default


def test_make_must_return_a_thunk(bench_fn):
    with pytest.raises(TypeError, match="must return the callable to time"):
        bench_fn({"bad": lambda xp, n: xp.ones(n)}, params={"n": [3]}, **FAST)


def test_gpu_path_on_a_real_device():
    try:
        import cupy  # noqa: F401
    except ImportError:
        pytest.skip("CuPy is not installed: the GPU timing path needs a real device")
    backends = resolver()
    try:
        gpu = backends.get("cupy")
    except BackendUnavailable as exc:
        pytest.skip(f"no usable CUDA device: {exc}")
    bench = make_benchmark(backends.get("numpy"), backends)
    modules = []

    def make_sum_gpu(xp, n):
        modules.append(xp.__name__)
        return make_sum(xp, n)

    table = bench(make_sum_gpu, params={"n": [1_000, 1_000_000]}, bytes=lambda n: 4 * n,
                  backends=("numpy", "cupy"), **FAST)
    assert modules == ["numpy", "cupy", "numpy", "cupy"]
    gpu_rows = [r for r in table.rows if r["backend"] == "cupy"]
    assert [r["timer"] for r in gpu_rows] == ["cuda-events", "cuda-events"]
    assert all(r["repeats"] >= 3 and r["median_s"] > 0 for r in gpu_rows)
    assert all(r["speedup"] is not None for r in gpu_rows)
    page = soup(table)
    assert headers(page)[-1] == "vs NumPy"
    foot = page.select_one(".bench-foot").get_text()
    assert gpu.device in foot and "CUDA runtime" in foot and "CUDA events" in foot


def test_gpu_timer_takes_any_callable():
    """cupyx.profiler.benchmark reads ``__name__`` unless given a name: a partial or a
    callable object has none."""
    try:
        import cupy
    except ImportError:
        pytest.skip("CuPy is not installed: the GPU timing path needs a real device")
    try:
        resolver().get("cupy")
    except BackendUnavailable as exc:
        pytest.skip(f"no usable CUDA device: {exc}")
    import functools

    a = cupy.ones(1000, dtype=cupy.float32)

    class Summer:
        def __call__(self):
            return a.sum()

    for thunk in (functools.partial(cupy.sum, a), Summer()):
        timing = cupy_backend.CudaEvents()(thunk, budget=0.01, warmup=1, min_repeats=3)
        assert len(timing.samples) >= 3 and min(timing.samples) > 0


def test_resolved_backends_are_listed_once_each():
    """``auto`` and the name it resolved to are one backend (ArrayBackend is unhashable)."""
    backends = resolver()
    auto = backends.get("auto")
    assert backends.resolved() == [auto]
    assert backends.resolved()[0] is backends.get(auto.name)
