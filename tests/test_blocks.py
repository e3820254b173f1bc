"""Blocks on a phone: code, text outputs and benchmark tables are focusable scrolling regions.

One real build of a post with an exec fence (source, stdout, stderr, a value), a failing
fence (traceback), a benchmark table and a plain Markdown code block; the page markup is
checked as the build writes it (the copy buttons and the plain block's region come from
theme.js: tests/test_browser.py checks those). Bench rows and alignment are also checked on
hand-made tables (fast, any units wanted).
"""

from __future__ import annotations

import re
import sys

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, run_pelican, write_files

sys.path.insert(0, str(ROOT / "plugins"))
from execblog.benchtables.html import render_html  # noqa: E402
from execblog.benchtables.model import BenchData  # noqa: E402
from execblog.benchtables.units import format_range, format_time  # noqa: E402

POST = """
    Title: Blocks
    Date: 2026-07-01

    A plain block, never run:

    ```python
    print("plain")
    ```

    ```python exec
    import sys
    print("x" * 300)
    print("warned", file=sys.stderr)
    [1, 2, 3]
    ```

    ```python exec
    table = benchmark({"sum": lambda xp, n: (lambda: sum(range(n)))},
                      params={"n": [10, 100]}, title="Tiny sums", budget=0.002,
                      min_repeats=3, warmup=1)
    table
    ```

    ```python exec
    raise ValueError("boom")
    ```
    """

REGION = {"tabindex": "0", "role": "region"}


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> BeautifulSoup:
    tmp = tmp_path_factory.mktemp("blocks")
    write_files(tmp / "content", {"posts/blocks.md": POST})
    output = tmp / "output"
    proc = run_pelican(tmp / "content", output,
                       settings={"FENCES_CACHE_PATH": str(tmp / "cache")}, cwd=tmp)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = (output / "posts/blocks/index.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser")


def is_region(tag, name: str) -> bool:
    return all(tag.get(k) == v for k, v in REGION.items()) and tag.get("aria-label") == name


def test_exec_source_is_a_named_region(page):
    sources = page.select(".fence-source .highlight pre")
    assert len(sources) == 3
    for pre in sources:
        assert is_region(pre, "Code"), pre.attrs


def test_text_outputs_are_named_regions(page):
    stdout = page.select_one("pre.fence-stream.fence-stdout")
    assert is_region(stdout, "Output") and "x" * 300 in stdout.text
    assert is_region(page.select_one("pre.fence-stream.fence-stderr"), "Error output")
    assert is_region(page.select_one("pre.fence-text"), "Output")
    traceback = page.select_one(".fence-error pre.fence-traceback")
    assert is_region(traceback, "Traceback") and "boom" in traceback.text
    # Every <pre> of the fences' outputs is a region: nothing scrolls out of reach.
    assert all(pre.get("tabindex") == "0" for pre in page.select(".fence-outputs pre"))


def test_plain_block_is_left_to_the_script(page):
    """Python-Markdown writes the plain block: it still scrolls (CSS); theme.js names it."""
    plain = [d for d in page.select("div.highlight") if not d.find_parent(class_="fence")]
    assert len(plain) == 1 and "plain" in plain[0].text


def test_benchmark_table_scrolls_in_a_named_region(page):
    (wrap,) = page.select("div.bench-wrap")
    scroller = wrap.select_one("div.bench-scroll")
    assert is_region(scroller, "Benchmark table: Tiny sums")
    assert scroller.select_one("table.bench caption").text == "Tiny sums"
    assert wrap.select_one("p.bench-foot").find_parent(class_="bench-scroll") is None


def test_benchmark_numbers_align_right_inline(page):
    numeric = page.select("table.bench .num")
    assert len(numeric) == 3 + 2 * 3  # header n, Median, IQR; two rows of them
    for cell in numeric:
        assert re.fullmatch(r"text-align:\s*right;?", cell.get("style", "")), cell
    for row in page.select("table.bench tbody tr"):
        first = row.find("td")
        assert "style" not in first.attrs and "class" not in first.attrs  # the case name


def units(text: str) -> str:
    return text.rsplit(" ", 1)[1]


def test_benchmark_rows_use_one_unit(page):
    for row in page.select("table.bench tbody tr"):
        median, iqr = (td.text for td in row.find_all("td")[2:4])
        assert units(median) == units(iqr), (median, iqr)


def table(*times: tuple[float, float, float], title: str | None = "T") -> BenchData:
    rows = [{"case": "f", "params": {"n": i}, "backend": "numpy", "median_s": m,
             "p25_s": lo, "p75_s": hi, "repeats": 5, "loops": 1, "timer": "perf_counter",
             "gbps": None, "gflops": None, "speedup": None}
            for i, (lo, m, hi) in enumerate(times)]
    return BenchData(rows=rows, title=title, param_names=["n"], show_case=False,
                     backends=[{"name": "numpy", "device": "cpu"}], requested=["numpy"])


def cells(data: BenchData) -> list[list[str]]:
    soup = BeautifulSoup(render_html(data), "html.parser")
    return [[td.text for td in tr.find_all("td")] for tr in soup.select("tbody tr")]


def test_row_unit_is_the_medians():
    rows = cells(table((0.90e-3, 938e-6, 1.05e-3),   # IQR ends in ms, median in µs
                       (0.98e-3, 1.02e-3, 1.05e-3),  # low end under 1 ms, median in ms
                       (480e-9, 0.9997e-6, 2.0e-6)))  # median rounds up into µs
    assert [r[1:] for r in rows] == [
        ["938 µs", "900–1,050 µs"],
        ["1.02 ms", "0.98–1.05 ms"],
        ["1.00 µs", "0.48–2.00 µs"],
    ]
    for _, median, iqr in rows:
        assert units(median) == units(iqr)


def test_format_range_default_keeps_the_higher_end_unit():
    assert format_range(0.90e-3, 1.05e-3) == "0.90–1.05 ms"
    assert format_range(0.90e-3, 1.05e-3, 938e-6) == "900–1,050 µs"
    assert format_time(938e-6) == "938 µs"


def test_untitled_table_region_name():
    soup = BeautifulSoup(render_html(table((1e-6, 2e-6, 3e-6), title=None)), "html.parser")
    assert is_region(soup.select_one("div.bench-scroll"), "Benchmark table")
    assert soup.select_one("caption") is None
