"""Benchmark tables inside real posts: one table, cached, honest about missing backends."""

from __future__ import annotations

import re

import pytest
from conftest import cupy_installed, cupy_usable

POST = """
    Title: Reductions
    Date: 2026-07-01
    Tags: gpu

    How fast is a sum?

    ```python exec
    def make_sum(xp, n):
        a = xp.ones(n, dtype=xp.float32)
        return lambda: a.sum()

    def make_cumsum(xp, n):
        a = xp.ones(n, dtype=xp.float32)
        return lambda: xp.cumsum(a)

    table = benchmark({"sum": make_sum, "cumsum": make_cumsum},
                      params={"n": [1_000, 100_000]}, bytes=lambda n: 4 * n,
                      backends=("numpy", "cupy"), title="Reductions", budget=0.02)
    table
    ```

    ```python exec
    print(len(table.rows), sorted({r["backend"] for r in table.rows}))
    table.plot();
    ```
    """


def test_benchmark_table_in_a_post(site):
    first = site({"posts/reductions.md": POST})
    assert first.returncode == 0, first.log
    page = first.post("reductions")
    tables = page.select("table.bench")
    assert len(tables) == 1
    table = tables[0]
    assert table.caption.text == "Reductions"
    headers = [th.text for th in table.select("thead th")]
    assert "GB/s" in headers and "Median" in headers
    ran = ["cupy", "numpy"] if cupy_usable() else ["numpy"]  # cupy runs where it can
    rows = table.select("tbody tr")
    assert len(rows) == 4 * len(ran)
    gbps_col = headers.index("GB/s")
    for row in rows:
        cells = row.find_all(["td", "th"])
        assert re.fullmatch(r"[\d,.]+", cells[gbps_col].text.strip())
    foot = page.select_one("p.bench-foot").text
    assert "NumPy" in foot and re.search(r"\d+\.\d+", foot)  # device and versions
    assert "CuPy" in foot
    skipped = "posts/reductions.md:7: warning: benchmark: backend cupy not run"
    if cupy_usable():
        assert "Not run" not in foot and skipped not in re.sub(r"\s+", " ", first.log)
    else:  # the unavailable backend is named, with the reason
        assert "Not run: CuPy" in foot
        assert "not installed" in foot or cupy_installed()
        assert skipped in re.sub(r"\s+", " ", first.log)
    assert page.select_one("pre.fence-stdout").text == f"{4 * len(ran)} {ran}\n"
    assert page.select("figure.fence-figure img")  # .plot() is captured like any figure

    second = site()
    assert second.statuses() == ["cached", "cached"]
    assert second.read("posts/reductions/index.html") == first.read("posts/reductions/index.html")


WORK_PER_CASE = """
    Title: Quantise
    Date: 2026-07-02

    The round trip does twice the work of the one-way step, and each case says so.

    ```python exec caption="Quantise, then quantise and dequantise"
    #| label: tbl-quant
    def make_q(xp, n):
        a = xp.ones(n, dtype=xp.float32)
        return lambda: (a * 127).astype(xp.int8)

    def make_qd(xp, n):
        a = xp.ones(n, dtype=xp.float32)
        return lambda: (a * 127).astype(xp.int8).astype(xp.float32) / 127

    benchmark({"q": make_q, "qd": make_qd, "copy": make_q}, params={"n": [4096]},
              flops={"q": lambda n: n, "qd": lambda n: 3 * n},
              bytes=lambda n, case: (5 if case == "q" else 9) * n,
              budget=0.01, min_repeats=3)
    ```

    @tbl-quant has the timings.
    """


def test_work_per_case_and_the_fences_caption(site):
    build = site({"posts/quantise.md": WORK_PER_CASE})
    assert build.returncode == 0, build.log
    page = build.post("quantise")
    table = page.select_one("table.bench")
    # the fence's caption is the table's, numbered by its tbl- label
    assert table.caption.text == "Table 1: Quantise, then quantise and dequantise"
    assert "Table 1" in page.select_one(".post-content").text.split("has the timings")[0]
    headers = [th.text for th in table.select("thead th")]
    rows = {tr.select("td")[0].text: tr.select("td") for tr in table.select("tbody tr")}
    gflops, gbps, median = (headers.index(h) for h in ("GFLOP/s", "GB/s", "Median"))
    assert rows["copy"][gflops].text == "—"  # no flops given for that case
    assert rows["q"][gflops].text != "—" and rows["qd"][gflops].text != "—"
    assert all(rows[c][gbps].text != "—" for c in rows)


def test_rates_follow_each_cases_work():
    from execblog.benchtables.api import _rate

    per_case = {"q": lambda n: n, "qd": lambda n: 3 * n}
    assert _rate(per_case, "q", {"n": 10}, 1.0) == pytest.approx(10e-9)
    assert _rate(per_case, "qd", {"n": 10}, 1.0) == pytest.approx(30e-9)
    assert _rate(per_case, "other", {"n": 10}, 1.0) is None
    assert _rate(lambda n, case: len(case) * n, "abc", {"n": 2}, 1.0) == pytest.approx(6e-9)
    assert _rate(lambda **p: 4.0, "abc", {"n": 2}, 1.0) == pytest.approx(4e-9)  # no case=
    assert _rate(7, "x", {}, 1.0) == pytest.approx(7e-9)
