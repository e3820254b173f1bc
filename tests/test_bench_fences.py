"""Benchmark tables inside real posts: one table, cached, honest about missing backends."""

from __future__ import annotations

import re

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
