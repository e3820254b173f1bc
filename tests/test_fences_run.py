"""Executable fences end to end: options, sessions, display protocol, figures, labels."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, auto_backend, run_pelican, write_files

POSTS = {
    "posts/state.md": """
        Title: State
        Date: 2026-01-01
        Tags: demo

        First paragraph.

        ```python exec
        a = xp.arange(4)
        print("a sums to", int(to_numpy(a).sum()))
        ```

        Prose between fences changes nothing.

        ```python exec id=second
        a * 10
        ```

        ```python exec session=other
        print("other sees a:", "a" in globals())
        ```

        ```python exec
        #| echo: false
        #| session: other
        print("hidden source")
        ```

        ```python exec output=false
        print("invisible output")
        ```

        ```python exec fold=true
        print("folded")
        ```

        ```python exec
        value = 42
        value;
        ```

        ```python exec
        print(backend.name, backend.label)
        display("<b>shown</b>", 7)
        ```

        ```python
        print("a plain fence never runs")
        ```
        """,
    "posts/rich.md": """
        Title: Rich
        Date: 2026-01-02

        Rich values.

        ```python exec
        class Html:
            def _repr_html_(self):
                return "<table class='mine'><tr><td>1</td></tr></table>"
        class Svg:
            def _repr_svg_(self):
                return "<svg xmlns='http://www.w3.org/2000/svg' class='mysvg'></svg>"
        class Md:
            def _repr_markdown_(self):
                return "**bold** text"
        class Plain:
            def __repr__(self):
                return "<Plain & simple>"
        display(Html(), Svg(), Md())
        Plain()
        ```

        ```python exec caption="Squares" alt="A parabola"
        import matplotlib.pyplot as plt
        x = to_numpy(xp.linspace(0, 1, 20))
        plt.plot(x, x**2)
        plt.figure()
        plt.plot(x, x**3)
        ```

        ```python exec fig-format=png caption="Raster"
        import matplotlib.pyplot as plt
        plt.plot([0, 1], [1, 0])
        ```

        ```python exec
        import sys, subprocess
        print("to stderr", file=sys.stderr)
        subprocess.run(["echo", "from a subprocess"], check=True)
        import os
        os.write(1, b"from fd 1\\n")
        ```
        """,
    "posts/helpers/imports.md": """
        Title: Imports
        Date: 2026-01-04

        ```python exec
        import shapes
        print(shapes.SIDES, shapes.__file__.endswith("helpers/shapes.py"))
        ```
        """,
    "posts/helpers/shapes.py": "SIDES = 5\n",
    "posts/isolated.md": """
        Title: Isolated
        Date: 2026-01-03

        ```python exec
        print("a" in globals(), "value" in globals())
        ```
        """,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("run")
    write_files(base / "content", POSTS)
    proc = run_pelican(base / "content", base / "out",
                       settings={"FENCES_CACHE_PATH": str(base / "cache")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from bs4 import BeautifulSoup

    def page(slug):
        return BeautifulSoup((base / "out" / "posts" / slug / "index.html").read_text(),
                             "html.parser")

    return {"page": page, "base": base, "log": proc.stdout + proc.stderr,
            "report": json.loads((base / "cache" / "report.json").read_text())}


def fences(soup):
    return soup.select("div.fence")


def test_state_is_shared_top_to_bottom_and_trailing_value_is_displayed(built):
    f = fences(built["page"]("state"))
    assert f[0].select_one("pre.fence-stdout").text == "a sums to 6\n"
    assert f[1].select_one("pre.fence-text").text == "array([ 0, 10, 20, 30])"
    assert f[1]["id"] == "second"


def test_a_module_next_to_the_post_imports_as_next_to_a_script(built):
    (fence,) = fences(built["page"]("imports"))
    assert fence.select_one("pre.fence-stdout").text == "5 True\n"


def test_named_session_is_a_separate_namespace(built):
    f = fences(built["page"]("state"))
    assert f[2].select_one("pre.fence-stdout").text == "other sees a: False\n"


def test_option_lines_hide_source_and_are_not_shown(built):
    f = fences(built["page"]("state"))
    assert f[3].select_one(".fence-source") is None
    assert f[3].select_one("pre.fence-stdout").text == "hidden source\n"
    assert "#|" not in str(built["page"]("state"))


def test_output_false_and_fold(built):
    f = fences(built["page"]("state"))
    assert f[4].select_one(".fence-outputs") is None
    assert f[4].select_one("pre.fence-stdout") is None
    assert f[5].select_one("details.fence-fold > summary") is not None
    assert f[5].select_one("details.fence-fold .fence-source") is not None


def test_semicolon_suppresses_trailing_value(built):
    f = fences(built["page"]("state"))
    assert f[6].select_one(".fence-outputs") is None


def test_backend_names_display_and_label(built):
    f = fences(built["page"]("state"))
    name = auto_backend()  # CuPy where a usable GPU is, NumPy elsewhere
    label = "NumPy" if name == "numpy" else "CuPy · "  # a GPU label names the device
    assert f[7].select_one("pre.fence-stdout").text.startswith(f"{name} {label}")
    texts = [p.text for p in f[7].select("pre.fence-text")]
    assert texts == ["'<b>shown</b>'", "7"]
    shown = f[7].select_one("span.fence-backend")
    assert shown["data-backend"] == name
    if name == "numpy":
        assert shown.text == "NumPy"
    else:
        assert shown.text.startswith("CuPy · ")


def test_plain_fence_never_runs(built):
    soup = built["page"]("state")
    assert len(fences(soup)) == 8
    assert "a plain fence never runs" in soup.select("div.highlight")[-1].text
    sources = [f["line"] for f in built["report"]["fences"] if f["source"] == "posts/state.md"]
    assert len(sources) == 8


def test_display_protocol(built):
    f = fences(built["page"]("rich"))[0]
    assert f.select_one("div.fence-html table.mine td").text == "1"
    assert f.select_one("div.fence-html svg.mysvg") is not None
    assert f.select_one("div.fence-markdown strong").text == "bold"
    assert f.select_one("pre.fence-text").text == "<Plain & simple>"
    assert "&lt;Plain &amp; simple&gt;" in str(f)


def test_figures_captured_in_order_with_caption_alt_and_hashed_names(built):
    f = fences(built["page"]("rich"))[1]
    figures = f.select("figure.fence-subfigure")  # two figures, one caption: sub-figures
    assert len(figures) == 2
    srcs = [fig.img["src"] for fig in figures]
    assert all(re.fullmatch(r"(\.\./)+fences/[0-9a-f]{20}\.svg", s) for s in srcs)
    assert srcs[0] != srcs[1]
    assert figures[0].img["alt"] == "A parabola (a)"
    assert [fig.figcaption.text for fig in figures] == ["(a)", "(b)"]
    assert f.select_one("figure.fence-subfigures > figcaption").text == "Squares"
    out = built["base"] / "out"
    svg = (out / "fences" / srcs[0].split("fences/")[1]).read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<dc:date>" not in svg


def test_png_figures_are_2x(built):
    fig = fences(built["page"]("rich"))[2].select_one("figure.fence-figure")
    src = fig.img["src"]
    assert src.endswith(".png")
    data = (built["base"] / "out" / "fences" / src.split("fences/")[1]).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    assert width == 2 * int(fig.img["width"])


def test_stdout_stderr_subprocess_and_fd_output_captured(built):
    f = fences(built["page"]("rich"))[3]
    assert "to stderr" in f.select_one("pre.fence-stderr").text
    out = f.select_one("pre.fence-stdout").text
    assert "from a subprocess" in out and "from fd 1" in out


def test_posts_never_share_state(built):
    f = fences(built["page"]("isolated"))[0]
    assert f.select_one("pre.fence-stdout").text == "False False\n"


def test_report_records_every_fence(built):
    report = built["report"]
    assert report["summary"]["total"] == 14
    assert report["summary"]["ran"] == 14
    first = report["fences"][0]
    assert set(first) >= {"source", "line", "kind", "session", "status", "seconds", "backend"}
    state = [f for f in report["fences"] if f["source"] == "posts/state.md"]
    assert [f["line"] for f in state][:3] == [7, 14, 18]
    # what auto gives where a fence computes with xp, NumPy where it computes with nothing
    backends = {f["backend"] for f in report["fences"]}
    assert auto_backend() in backends and backends <= {auto_backend(), "numpy"}
    assert "fences: 14 ran, 0 cached, 0 failed" in built["log"]


def test_figures_are_byte_identical_across_runs_and_absolute_in_feeds(site):
    post = {"posts/fig.md": """
        Title: Fig
        Date: 2026-01-05
        Tags: plots

        A figure.

        ```python exec alt="A wave" caption="Wave"
        import matplotlib.pyplot as plt
        t = to_numpy(xp.linspace(0, 6.28, 50))
        plt.plot(t, xp.sin(xp.asarray(t)).tolist(), label="sin")
        plt.legend()
        ```
        """}
    settings = {"SITEURL": "https://blog.example.org/sub"}
    first = site(post, conf="publishconf.py", settings=settings)
    assert first.returncode == 0, first.log
    src = first.post("fig").select_one("figure.fence-figure img")["src"]
    assert src.startswith("https://blog.example.org/sub/fences/")
    svg = (first.output / src.split("/sub/")[1]).read_bytes()
    again = site(conf="publishconf.py", settings={**settings, "FENCES_MODE": "rerun"})
    assert again.statuses() == ["ran"]
    assert (again.output / src.split("/sub/")[1]).read_bytes() == svg  # same name, same bytes
    import feedparser

    feed = feedparser.parse(first.read("feeds/tags/plots.atom.xml"), sanitize_html=False,
                            resolve_relative_uris=False)
    assert not feed.bozo
    assert f'src="{src}"' in feed.entries[0].content[0].value


def test_sessions_share_the_cores_instead_of_oversubscribing_blas(site):
    post = {"posts/blas.md": "Title: BLAS\nDate: 2026-01-06\n\n```python exec\nimport os\n"
            "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])\n```\n"}
    build = site(post, settings={"FENCES_WORKERS": 1})
    cores = str(os.cpu_count() or 1)  # one worker: all cores; an explicit setting wins
    expected = [os.environ.get(v, cores) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")]
    assert build.post("blas").select_one("pre.fence-stdout").text.split() == expected


def test_sessions_do_not_rerun_the_pelican_script(tmp_path):
    """Started as the `pelican` command (not `python -m pelican`), a forkserver child would
    re-run that script as ``__mp_main__`` in every session; the fork server adopts it."""
    script = Path(sys.executable).with_name("pelican")
    if not script.exists():
        pytest.skip(f"no pelican script next to {sys.executable}")
    write_files(tmp_path / "content", {
        f"posts/p{i}.md": f"Title: P{i}\nDate: 2026-01-0{i + 1}\n\n```python exec\nimport sys\n"
                          "print(sys.modules['__main__'].__name__)\n```\n"
        for i in range(2)
    })
    proc = subprocess.run(
        [str(script), str(tmp_path / "content"), "-s", str(ROOT / "pelicanconf.py"),
         "-o", str(tmp_path / "out"), "-e", f'FENCES_CACHE_PATH="{tmp_path / "cache"}"'],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for i in range(2):
        page = (tmp_path / "out" / "posts" / f"p{i}" / "index.html").read_text()
        stdout = BeautifulSoup(page, "html.parser").select_one("pre.fence-stdout").text
        assert stdout == "__main__\n"
