"""Text handling takes linear time: huge outputs and lines cost seconds, not hours.

The bounds are generous complexity guards, not benchmarks: the quadratic word counter this
replaces needed minutes for 50,000 dots and would never finish on 10 MB.
"""

from __future__ import annotations

import sys
import time

from conftest import ROOT, run_pelican, write_files

sys.path.insert(0, str(ROOT / "plugins"))

from execblog.themekit.filters import reading_stats, toc  # noqa: E402

TEN_MB = 10_000_000


def test_reading_stats_counts_words_not_punctuation():
    html = ('<p>Hello, world! # = · 42 x_y</p><p>one</p><p>two</p><pre>a = 1</pre>'
            '<script>var hidden = 1</script>'
            '<h2 id="h">Head<a class="headerlink" href="#h">¶</a></h2>')
    # Hello, world! 42 x_y | one | two | a 1 | Head
    assert reading_stats(html).words == 9


def test_reading_stats_is_linear_on_megabytes_of_punctuation():
    html = "<p>" + "." * TEN_MB + " two words</p>"  # over libxml2's 10 MB text node limit
    start = time.perf_counter()
    stats = reading_stats(html)
    assert time.perf_counter() - start < 10
    assert stats.words == 2


def test_toc_is_linear_on_huge_headings():
    html = f'<h2 id="a">{"!" * TEN_MB}</h2><h3 id="b">Part</h3><h2 id="c">End</h2>'
    start = time.perf_counter()
    nav = str(toc(html))
    assert time.perf_counter() - start < 10
    assert nav.count("<li>") == 3 and 'href="#b">Part</a>' in nav


def test_a_build_with_huge_outputs_and_lines_finishes(tmp_path):
    write_files(tmp_path / "content", {
        "posts/dots.md": """
            Title: Dots
            Date: 2026-03-01 10:00

            Many dots.

            ```python exec
            print("." * 2_000_000)
            ```
            """,
        "posts/line.md": """
            Title: Line
            Date: 2026-03-02 10:00

            A SyntaxError holding a 2 MB line.

            ```python exec
            exec("x = '" + "a" * 2_000_000 + "' +")
            ```
            """,
    })
    start = time.perf_counter()
    proc = run_pelican(tmp_path / "content", tmp_path / "out", timeout=120,
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache")})
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dots = (tmp_path / "out/posts/dots/index.html").read_text(encoding="utf-8")
    line = (tmp_path / "out/posts/line/index.html").read_text(encoding="utf-8")
    assert "....." in dots and "SyntaxError" in line
    print(f"built in {seconds:.1f} s")
