"""``fig-format``: auto picks SVG or PNG from the figure's weight; both formats show a figure
at the same size (96 CSS px per inch), are byte-deterministic, and take one draw."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from conftest import ROOT, run_pelican, write_files

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from execblog.display import mpl  # noqa: E402
from execblog.engine.options import FIG_FORMAT_OPTION  # noqa: E402

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _deterministic_and_closed():
    with matplotlib.rc_context():
        mpl.configure_determinism()
        yield
    plt.close("all")


def line_plot():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(np.sin(np.linspace(0, 6, 200)), label="sine")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    return fig


def long_noisy_line():  # 100k points: a simplified SVG path, slow to rasterize
    fig, ax = plt.subplots()
    ax.plot(RNG.random(100_000))
    return fig


def few_markers():
    fig, ax = plt.subplots()
    ax.plot(RNG.random(500), "o")
    return fig


def bar_chart():
    fig, ax = plt.subplots()
    ax.hist(RNG.normal(size=10_000), bins=50)
    return fig


def pcolormesh_200():
    fig, ax = plt.subplots()
    ax.pcolormesh(RNG.random((200, 200)))
    return fig


def pcolor_60():
    fig, ax = plt.subplots()
    ax.pcolor(RNG.random((60, 60)))
    return fig


def small_imshow():
    fig, ax = plt.subplots()
    ax.imshow(RNG.random((10, 10)))
    return fig


def scatter(n):
    def make():
        fig, ax = plt.subplots()
        ax.scatter(RNG.random(n), RNG.random(n), s=2)
        return fig
    make.__name__ = f"scatter_{n}"
    return make


def surface_3d():
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    x, y = np.meshgrid(np.linspace(-2, 2, 50), np.linspace(-2, 2, 50))
    ax.plot_surface(x, y, np.exp(-x**2 - y**2))
    return fig


def hidden_mesh():  # an invisible artist weighs nothing
    fig, ax = plt.subplots()
    ax.pcolormesh(RNG.random((200, 200))).set_visible(False)
    ax.plot([0, 1])
    return fig


def colorbar_title_outside():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 3, 2])
    ax.set_title("A title")
    ax.text(2.4, 2, "text beyond the axes")
    fig.colorbar(plt.cm.ScalarMappable(cmap="viridis"), ax=ax)
    return fig


def constrained():
    fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    ax.plot([1, 3, 2])
    ax.set_title("constrained")
    return fig


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_the_option_defaults_to_auto_and_takes_three_values():
    assert FIG_FORMAT_OPTION.default == "auto" and FIG_FORMAT_OPTION.affects_result
    assert [FIG_FORMAT_OPTION.parse(v) for v in ("auto", "svg", "png")] == ["auto", "svg", "png"]
    with pytest.raises(ValueError, match="auto, svg, png"):
        FIG_FORMAT_OPTION.parse("jpeg")


@pytest.mark.parametrize("make", [line_plot, long_noisy_line, few_markers, bar_chart,
                                  scatter(1000), hidden_mesh], ids=lambda f: f.__name__)
def test_auto_keeps_vector_light_figures_svg(make):
    out = mpl.render_figure(make(), "auto")
    assert out.mime == "image/svg+xml"
    assert len(out.data) < mpl.AUTO_SVG_LIMIT  # the estimate was right: it is light


@pytest.mark.parametrize("make", [pcolormesh_200, pcolor_60, small_imshow, scatter(5000),
                                  scatter(50_000), surface_3d], ids=lambda f: f.__name__)
def test_auto_renders_heavy_figures_as_png(make):
    out = mpl.render_figure(make(), "auto")
    assert out.mime == "image/png" and len(out.data) < 500_000  # 50k points: ~330 kB


@pytest.mark.parametrize("make", [pcolor_60, scatter(5000), surface_3d],
                         ids=lambda f: f.__name__)
def test_the_svg_of_a_figure_auto_renders_as_png_is_heavy(make):
    svg = mpl.render_figure(make(), "svg")
    assert len(svg.data) > mpl.AUTO_SVG_LIMIT  # the estimate was right (2-7 MB for 50k
    # points or a 200x200 mesh: too slow to check here)


def test_the_weight_estimate_counts_what_is_drawn():
    assert mpl.svg_weight(small_imshow()) == float("inf")
    assert mpl.svg_weight(line_plot()) < 20_000
    # pcolormesh counts its quads, without building 40,000 paths (+ the axes' patches)
    quads = 200 * 200 * (mpl.ELEMENT_BYTES + 5 * mpl.VERTEX_BYTES)
    assert mpl.svg_weight(pcolormesh_200()) == pytest.approx(quads, abs=2000)
    assert mpl.svg_weight(scatter(2000)()) == pytest.approx(2000 * mpl.ELEMENT_BYTES, rel=0.05)
    assert mpl.choose_format(scatter(2000)(), limit=100_000) == "png"


@pytest.mark.parametrize("fmt,mime", [("svg", "image/svg+xml"), ("png", "image/png")])
def test_an_explicit_format_is_honoured(fmt, mime):
    assert mpl.render_figure(pcolor_60(), fmt).mime == mime
    assert mpl.render_figure(line_plot(), fmt).mime == mime


@pytest.mark.parametrize("make,options", [
    (line_plot, {}), (colorbar_title_outside, {}), (constrained, {}), (surface_3d, {}),
    (line_plot, {"fig-width": 2}), (constrained, {"fig-height": 3.5}),
], ids=["line", "colorbar", "constrained", "3d", "fig-width", "fig-height"])
def test_a_figure_shows_at_the_same_size_in_svg_and_png(make, options):
    svg = mpl.render_figure(make(), "svg", options)
    png = mpl.render_figure(make(), "png", options)
    assert abs(svg.meta["width"] - png.meta["width"]) <= 1
    assert abs(svg.meta["height"] - png.meta["height"]) <= 1
    pts = re.search(rb'width="([\d.]+)pt" height="([\d.]+)pt"', svg.data).groups()
    assert (svg.meta["width"], svg.meta["height"]) == tuple(round(float(p) * 4 / 3)
                                                            for p in pts)
    assert png_size(png.data) == (2 * png.meta["width"], 2 * png.meta["height"])  # 2x


def test_a_sized_figure_is_96_css_px_per_inch_in_both_formats():
    for fmt in ("svg", "png"):
        out = mpl.render_figure(line_plot(), fmt, {"fig-width": 2})
        assert (out.meta["width"], out.meta["height"]) == (192, 144)
    assert png_size(mpl.render_figure(line_plot(), "png", {"fig-width": 2}).data) == (384, 288)


def savefig_tight(fig, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, bbox_inches="tight", dpi=mpl.PNG_DPI,
                metadata={"Software": None} if fmt == "png" else {"Date": None})
    return buf.getvalue()


SIZE = rb'<svg[^>]*width="([\d.]+)pt" height="([\d.]+)pt" viewBox="[\d. ]+"'


def css_size(data: bytes) -> tuple[float, float]:
    """An SVG's or a 2x PNG's size in CSS px."""
    if data.startswith(b"\x89PNG"):
        return tuple(v / 2 for v in png_size(data))
    return tuple(float(v) * 4 / 3 for v in re.search(SIZE, data).groups())


@pytest.mark.parametrize("make", [colorbar_title_outside, constrained],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_a_figure_is_drawn_once_and_cropped_as_savefig_tight_crops(make, fmt):
    draws = []
    fig = make()
    engine = fig.get_layout_engine()
    fig.canvas.mpl_connect("draw_event", lambda event: draws.append(event))
    out = mpl.render_figure(fig, fmt)
    assert len(draws) == 1
    assert fig.get_layout_engine() is engine  # given back after the save
    laid_out = [v for ax in fig.axes for v in ax.get_position().bounds]
    ref = savefig_tight(fig, "svg")
    assert len(draws) == 3  # savefig's own tight crop draws twice
    # the same layout (a constrained one ran; text measured at another dpi) and box, grown
    # to whole CSS px at most
    assert [v for ax in fig.axes for v in ax.get_position().bounds] == pytest.approx(laid_out,
                                                                               abs=5e-3)
    assert css_size(out.data) == pytest.approx(css_size(ref), abs=2)
    if fmt == "svg":  # the same picture
        assert out.data.count(b"<path") == ref.count(b"<path")
        assert out.data.count(b"<use") == ref.count(b"<use")


def test_a_figure_under_rc_autolayout_keeps_its_layout():
    with matplotlib.rc_context({"figure.autolayout": True}):
        fig = line_plot()
        engine = fig.get_layout_engine()
        out = mpl.render_figure(fig, "png")
        assert fig.get_layout_engine() is engine and type(engine).__name__ == "TightLayoutEngine"
        assert css_size(out.data) == pytest.approx(css_size(savefig_tight(fig, "svg")), abs=2)


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_renders_are_byte_identical(fmt):
    for maker in (line_plot, surface_3d):
        assert mpl.render_figure(maker(), fmt).data == mpl.render_figure(maker(), fmt).data
    if fmt == "png":
        assert b"Software" not in mpl.render_figure(line_plot(), fmt).data


POST = """\
Title: Formats
Date: 2026-05-04

```python exec
import numpy as np
import matplotlib.pyplot as plt
plt.plot(np.sin(np.linspace(0, 6, 100)));
```

```python exec
plt.pcolormesh(np.random.default_rng(1).random((60, 60)));
```

```python exec fig-format=svg
plt.pcolormesh(np.random.default_rng(1).random((60, 60)));
```

```python exec fig-format=png
plt.plot([0, 1], [1, 0]);
```

```python exec
fig, ax = plt.subplots()
ax.imshow(np.arange(16.0).reshape(4, 4))
display(fig)
```
"""


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """The same post built twice from scratch (two caches, two outputs)."""
    base = tmp_path_factory.mktemp("figfmt")
    write_files(base / "content", {"posts/formats.md": POST})
    done = []
    for name in ("one", "two"):
        proc = run_pelican(base / "content", base / name,
                           settings={"FENCES_CACHE_PATH": str(base / f"cache-{name}")})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        done.append(base / name)
    return done


def figure_images(out: Path) -> list:
    from bs4 import BeautifulSoup

    page = BeautifulSoup((out / "posts/formats/index.html").read_text(), "html.parser")
    return [fence.select_one("figure img") for fence in page.select("div.fence")]


def image_bytes(out: Path, img) -> bytes:
    return (out / "posts/formats" / img["src"]).resolve().read_bytes()


def test_a_site_build_picks_formats_per_figure(builds):
    images = figure_images(builds[0])
    assert len(images) == 5 and all(images)
    suffixes = [Path(img["src"]).suffix for img in images]
    assert suffixes == [".svg", ".png", ".svg", ".png", ".png"]
    mesh_png, mesh_svg = (image_bytes(builds[0], images[i]) for i in (1, 2))
    assert len(mesh_svg) > 10 * len(mesh_png)  # why auto took PNG
    # the same pcolormesh shows at the same size either way
    assert abs(int(images[1]["width"]) - int(images[2]["width"])) <= 1
    assert abs(int(images[1]["height"]) - int(images[2]["height"])) <= 1


def test_figures_are_byte_identical_across_builds(builds):
    first, second = (figure_images(out) for out in builds)
    for a, b in zip(first, second, strict=True):
        assert image_bytes(builds[0], a) == image_bytes(builds[1], b)


def test_a_layout_matplotlib_cannot_do_is_left_undone_as_savefig_leaves_it():
    """A compressed layout over axes in several subfigures raises in the layout engine;
    ``Figure.draw`` ignores that, and so does the one-draw render (the gallery's
    petroff10 example failed to capture before)."""
    fig = plt.figure(figsize=(4, 6), layout="compressed")
    for sub in fig.subfigures(nrows=2):
        sub.subplots(ncols=2)
    out = mpl.render_figure(fig, "png")
    assert out.data.startswith(b"\x89PNG") and out.meta["width"] > 100


SIDE_BY_SIDE = """
import os, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from execblog.display import mpl
mpl.configure_determinism()

def figures(report):
    made = []
    for i in range(4):
        fig, ax = plt.subplots()
        ax.imshow(np.arange(16.0).reshape(4, 4) + i if i % 2 else np.eye(3))
        ax.plot([0, 1], [i, 0])
        if report:
            fig.canvas.mpl_connect("draw_event", lambda event: print("drawn by", os.getpid(),
                                                                     flush=True))
        made.append(fig)
    return made

together = mpl.render_figures(figures(True), "auto", {})
alone = [mpl.render_figure(fig, "auto", {}) for fig in figures(False)]
assert [o.data for o in together] == [o.data for o in alone], "not the same bytes"
assert [o.meta for o in together] == [o.meta for o in alone]
print("main", os.getpid())
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: figures drawn in turn")
def test_a_fences_figures_are_drawn_side_by_side_with_the_same_bytes(tmp_path):
    """``render_figures`` draws a fence's figures in forked copies of a single-threaded
    session, one share per core, and gives the bytes one-by-one drawing gives. (In a
    fresh interpreter: this test process has pytest's threads, so it draws in turn.)"""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "plugins"),  # one BLAS thread, as a
           **dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"), "1")}  # session has
    proc = subprocess.run([sys.executable, "-c", SIDE_BY_SIDE], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    main = re.search(r"^main (\d+)$", proc.stdout, re.M)[1]
    drawers = re.findall(r"^drawn by (\d+)$", proc.stdout, re.M)
    assert len(drawers) == 4  # each figure drawn once
    assert main in drawers and len(set(drawers)) >= 2
    assert not list(tmp_path.glob("fences-figures-*"))


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_an_artist_placed_only_while_drawing_is_saved_as_savefig_saves_it(fmt):
    """An axes_grid1 locator needs the renderer, which the one-draw crop does not give it:
    such a figure is saved savefig's own way (the gallery's
    make_room_for_ylabel_using_axesgrid failed to capture before)."""
    from mpl_toolkits.axes_grid1.axes_divider import make_axes_area_auto_adjustable

    fig = plt.figure()
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_yticks([0.5], labels=["a very long tick label"])
    make_axes_area_auto_adjustable(ax)
    out = mpl.render_figure(fig, fmt)
    assert out.meta["width"] > 100
    assert css_size(out.data) == pytest.approx(css_size(savefig_tight(fig, fmt)), abs=2)
