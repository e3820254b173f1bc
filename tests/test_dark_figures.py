"""Figures for every theme and screen: dark renderings of matplotlib figures
(plugins/execblog/engine/darkfigs.py), the full-size link, the light-only feeds, the diagrams'
zoomed view, and the FFT post's highlight hatch contrast. One real build (and one warm
rebuild) of a small site, parsed with bs4 and feedparser."""

from __future__ import annotations

import io
import re
from pathlib import Path

import feedparser
import numpy as np
import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, run_pelican, write_files
from execblog.engine import darkfigs
from execblog.kernel.store import seal, unseal
from PIL import Image

CSS = ROOT / "plugins/execblog/theme" / "static" / "css" / "main.css"
FFT_POST = ROOT / "content" / "posts" / "three-ways-to-write-an-fft.md"
BLUE, ORANGE = "#1f77b4", "#ff7f0e"  # matplotlib's first two cycle colours
MARK = b"<!-- kept -->\n"


def fft_diagram() -> str:
    """The FFT post's butterfly diagram fence, verbatim (the one with the highlight)."""
    text = FFT_POST.read_text(encoding="utf-8")
    match = re.search(r"^```diagram [^\n]*highlighted.*?^```$", text, re.S | re.M)
    assert match, f"{FFT_POST}: no diagram with a highlight"
    return match[0]


POST = """\
Title: Figures
Date: 2024-01-01
Slug: figures
Tags: plots

```python exec alt="Two lines and a legend"
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([0, 1, 2], [0, 1, 4], label="up")
ax.plot([0, 1, 2], [4, 1, 0], label="down")
ax.grid(True)
ax.legend()
ax.set_title("Lines")
```

```python exec fig-format=png alt="A PNG figure"
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([0, 1], [0, 1])
```

```python exec alt="On the author's own background"
fig, ax = plt.subplots(figsize=(3, 2), facecolor="#fff3c4")
ax.plot([0, 1], [1, 0])
```

```python exec alt="Two sub-figures" layout-ncol=2 caption="Side by side"
for k in (1, 2):
    plt.figure(figsize=(2, 2))
    plt.plot([0, 1], [0, k])
```

```python exec alt="A heatmap and a dim line"
import numpy as np
fig, (heat, dim) = plt.subplots(1, 2, figsize=(6, 3))
x = np.linspace(-1, 1, 40)
fig.colorbar(heat.imshow(np.outer(x, x), cmap="RdBu"), ax=heat)
dim.plot([0, 1, 2], [0, 1, 0], color="#440154", lw=3)
```

```python exec fig-format=svg alt="A mesh and a dim line"
fig, (heat, dim) = plt.subplots(1, 2, figsize=(6, 3))
x = np.linspace(-1, 1, 12)
fig.colorbar(heat.pcolormesh(np.outer(x, x), cmap="RdBu"), ax=heat)
dim.plot([0, 1, 2], [0, 1, 0], color="#440154", lw=3)
```

{diagram}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """One cold build, then a warm one of the same content into the same output."""
    tmp = tmp_path_factory.mktemp("dark-figures")
    content, out = tmp / "content", tmp / "output"
    write_files(content, {"posts/figures.md": POST.replace("{diagram}", fft_diagram())})
    settings = {"FENCES_CACHE_PATH": str(tmp / "cache")}
    cold = run_pelican(content, out, settings=settings)
    assert cold.returncode == 0, cold.stdout[-3000:] + cold.stderr[-3000:]
    files = {p.name: p.read_bytes() for p in (out / "fences").iterdir()}
    html = (out / "posts" / "figures" / "index.html").read_text(encoding="utf-8")
    kept = tmp / "cache" / "variants"
    made = {p.name: (p.stat().st_ino, p.read_bytes()) for p in kept.iterdir()}
    # Mark one kept variant (sealed with its checksum, as the renderer keeps them): a warm
    # build that copies it, rather than making it again, shows it.
    marked = next(p for p in kept.iterdir()
                  if p.suffix == ".svg" and unseal(p.name, p.read_bytes()))
    marked.write_bytes(seal(marked.name, unseal(marked.name, marked.read_bytes()) + MARK))
    made[marked.name] = (marked.stat().st_ino, marked.read_bytes())
    warm = run_pelican(content, out, settings=settings)
    assert warm.returncode == 0, warm.stdout[-3000:] + warm.stderr[-3000:]
    return {"out": out, "html": html, "soup": BeautifulSoup(html, "html.parser"),
            "files": files, "kept": kept, "made": made, "marked": marked.name,
            "warm_html": (out / "posts/figures/index.html").read_text("utf-8")}


def css_palette(css: str) -> dict[str, dict[str, str]]:
    """``--name: #hex`` of main.css's light (:root) and dark ([data-theme="dark"]) blocks."""
    found = {}
    for theme, selector in (("light", r":root"), ("dark", r'\[data-theme="dark"\]')):
        block = re.search(rf"^{selector} \{{(.*?)^\}}", css, re.S | re.M)
        assert block, f"main.css: no {selector} block"
        found[theme] = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\b", block[1]))
    return found


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of #rrggbb."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    low, high = sorted((luminance(a), luminance(b)))
    return (high + 0.05) / (low + 0.05)


def local(out: Path, src: str) -> Path:
    return out / "fences" / src.rsplit("/", 1)[1]


def figures(soup: BeautifulSoup) -> list:
    return soup.select("figure.fence-figure:not(.fence-subfigures), figure.fence-subfigure")


# ---------------------------------------------------------------- the page


def test_default_figures_get_a_dark_variant_next_to_the_light_file(built: dict) -> None:
    shown = figures(built["soup"])
    assert len(shown) == 7  # lines, png, own background, two sub-figures, two heatmaps
    with_dark = [f for f in shown if f.select_one("a.fig-dark")]
    assert len(with_dark) == 6, [str(f)[:200] for f in shown]
    for figure in with_dark:
        light, dark = figure.select("a.fig-full")
        assert light["class"] == ["fig-full", "fig-light"] and dark["class"][-1] == "fig-dark"
        light_src, dark_src = light.img["src"], dark.img["src"]
        stem, ext = light_src.rsplit(".", 1)
        assert dark_src == f"{stem}.{darkfigs.SUFFIX}.{ext}"
        assert local(built["out"], dark_src).is_file()
        # both lazy: the one the theme hides is never fetched; same size, same alt
        for a in (light, dark):
            assert a.img["loading"] == "lazy"
        assert (light.img["alt"], light.img.get("width")) == (dark.img["alt"],
                                                              dark.img.get("width"))


def test_each_image_links_to_its_full_size_file(built: dict) -> None:
    images = built["soup"].select("figure.fence-figure img")
    assert len(images) == 13  # 6 figures with two variants, one without
    for img in images:
        link = img.parent
        assert link.name == "a" and "fig-full" in link["class"]
        assert link["href"] == img["src"] and local(built["out"], link["href"]).is_file()


def test_an_authors_own_background_is_left_as_drawn(built: dict) -> None:
    (own,) = [f for f in figures(built["soup"]) if f.img["alt"] == "On the author's own background"]
    assert own.select("a.fig-full") and not own.select(".fig-dark, .fig-light")
    assert b"#fff3c4" in local(built["out"], own.img["src"]).read_bytes()


def test_dark_svg_uses_the_themes_dark_palette_and_keeps_data_colours(built: dict) -> None:
    palette = css_palette(CSS.read_text(encoding="utf-8"))
    assert darkfigs.DARK_BACKGROUND == palette["dark"]["theme"]
    assert darkfigs.DARK_INK == palette["dark"]["content"]
    first = figures(built["soup"])[0]
    light = local(built["out"], first.select_one("a.fig-light img")["src"]).read_text()
    dark = local(built["out"], first.select_one("a.fig-dark img")["src"]).read_text()
    dark = dark.replace(MARK.decode(), "")  # when it is the one the fixture marked

    def colours(svg: str) -> set[str]:
        return {c.lower() for c in re.findall(r"(?:fill|stroke)(?::\s*|=\")(#[0-9a-fA-F]{6})", svg)}

    assert {"#ffffff", "#000000", "#b0b0b0", "#cccccc"} <= colours(light)  # bg, ink, grid, legend
    assert not {"#ffffff", "#000000", "#b0b0b0", "#cccccc"} & colours(dark)
    assert {BLUE, ORANGE} <= colours(dark)  # the data as drawn
    assert darkfigs.DARK_BACKGROUND in colours(dark)  # figure and axes background
    # text glyphs are black by SVG's default fill: the root now gives the ink colour
    assert re.search(rf'<svg fill="{darkfigs.DARK_INK}" ', dark)
    assert re.sub(r"#[0-9a-fA-F]{6}", "#", light) == re.sub(
        r"#[0-9a-fA-F]{6}", "#", dark.replace(f'<svg fill="{darkfigs.DARK_INK}" ', "<svg ", 1)
    ), "only colours change"


def test_dark_png_is_dark_and_keeps_the_line_colour(built: dict) -> None:
    (png,) = [f for f in figures(built["soup"]) if f.img["alt"] == "A PNG figure"]
    with Image.open(local(built["out"], png.select_one(".fig-light img")["src"])) as image:
        light, mode = np.asarray(image), image.mode
    with Image.open(local(built["out"], png.select_one(".fig-dark img")["src"])) as image:
        dark = np.asarray(image)
        assert image.mode == mode
    assert dark.shape == light.shape
    bg = tuple(int(darkfigs.DARK_BACKGROUND[i:i + 2], 16) for i in (1, 3, 5))
    assert tuple(dark[0, 0, :3]) == bg and tuple(light[0, 0, :3]) == (255, 255, 255)
    blue = tuple(int(BLUE[i:i + 2], 16) for i in (1, 3, 5))
    line = np.all(light[..., :3] == blue, axis=-1)
    assert line.sum() > 50, "the test figure has no solid line pixels"
    assert np.all(dark[line][:, :3] == blue)
    grey = (light[..., 0] == light[..., 1]) & (light[..., 1] == light[..., 2])
    assert dark[grey][:, :3].mean() < 80 < light[grey][:, :3].mean()  # white/black swapped


def test_variants_are_made_once_and_kept_in_the_cache(built: dict) -> None:
    """The cold build keeps each variant it made (and one holding nothing for the figure
    that has none) in the fence cache, each with its checksum; the warm build (Pelican
    empties the output) copies them from there, making and writing nothing new."""
    kept = {p.name: (p.stat().st_ino, p.read_bytes()) for p in built["kept"].iterdir()}
    assert kept == built["made"], "the warm build wrote into the cache"
    payloads = [unseal(name, data) for name, (_, data) in kept.items()]
    assert [len(data) == 0 for data in payloads].count(True) == 1  # own background
    out = built["out"] / "fences"
    assert (out / built["marked"]).read_bytes().endswith(MARK), "made again, not copied"
    now = {p.name: p.read_bytes() for p in out.iterdir()}
    assert now.keys() == built["files"].keys()
    assert {k: v for k, v in now.items() if k != built["marked"]} == {
        k: v for k, v in built["files"].items() if k != built["marked"]}
    assert built["warm_html"] == built["html"]


def test_dark_variants_are_deterministic() -> None:
    not_matplotlib = b'<svg xmlns="http://www.w3.org/2000/svg"><rect fill="#ffffff"/></svg>'
    assert darkfigs.dark_svg(not_matplotlib) is None
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (250, 250, 250)).save(buf, "PNG")
    first, second = darkfigs.dark_png(buf.getvalue()), darkfigs.dark_png(buf.getvalue())
    assert first == second and first is not None
    dark_corner = Image.new("RGB", (8, 8), (20, 20, 20))
    buf = io.BytesIO()
    dark_corner.save(buf, "PNG")
    assert darkfigs.dark_png(buf.getvalue()) is None  # already dark: shown as drawn


def test_a_kept_dark_rendering_must_look_like_one() -> None:
    """What a kept variant must be, besides its checksum, to be published (and what the
    renderer keeps): a PNG, or a matplotlib SVG that sets the dark ink."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from execblog.display.mpl import render_figure

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1])
    svg, png = render_figure(fig, "svg").data, render_figure(fig, "png").data
    plt.close(fig)
    svg = svg if isinstance(svg, bytes) else svg.encode()
    assert darkfigs.plausible_variant(darkfigs.dark_svg(svg), "svg")
    assert darkfigs.plausible_variant(darkfigs.dark_png(png), "png")
    assert not darkfigs.plausible_variant(svg, "svg")  # the light file
    assert not darkfigs.plausible_variant(b"<svg>garbage</svg>", "svg")
    assert not darkfigs.plausible_variant(darkfigs.dark_svg(svg), "png")
    assert not darkfigs.plausible_variant(png[8:], "png")


def light_and_dark(built: dict, alt: str) -> tuple[Path, Path]:
    (figure,) = [f for f in figures(built["soup"]) if f.img["alt"] == alt]
    return tuple(local(built["out"], figure.select_one(f".fig-{theme} img")["src"])
                 for theme in ("light", "dark"))


def hue(hex_colour: str) -> float:
    import colorsys

    return colorsys.rgb_to_hsv(*(int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)))[0]


def test_dark_png_keeps_colormap_images_and_lifts_dim_lines(built: dict) -> None:
    """An RdBu heatmap and its colour bar (near-white in the middle, once turned near-black)
    are pixel for pixel as in the light rendering; a viridis #440154 line (1.1:1 against
    the dark background) is lifted to at least 3:1, keeping its hue."""
    import matplotlib

    light_file, dark_file = light_and_dark(built, "A heatmap and a dim line")
    light = np.asarray(Image.open(light_file).convert("RGB")).astype(np.int32)
    dark = np.asarray(Image.open(dark_file).convert("RGB")).astype(np.int32)
    lut = matplotlib.colormaps["RdBu"](np.linspace(0, 1, 256))[:, :3] * 255
    colours, where = np.unique(light.reshape(-1, 3), axis=0, return_inverse=True)
    near = np.abs(colours[:, None, :] - lut[None]).max(axis=-1).min(axis=1) <= 1.5
    in_lut = near[where.reshape(light.shape[:2])]  # a colour of the colormap (8 bits)
    inner = in_lut.copy()  # a colormap colour with colormap colours all around it
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        inner[1:-1, 1:-1] &= in_lut[1 + dy:light.shape[0] - 1 + dy, 1 + dx:light.shape[1] - 1 + dx]
    neutral = inner & (np.ptp(light, axis=-1) < 0.06 * 255)
    assert inner.sum() > 50_000 and neutral.sum() > 2_000, "no heatmap drawn"
    assert (dark[inner] == light[inner]).all(), "image data recoloured"
    assert dark[0, 0].tolist() != light[0, 0].tolist()  # the chrome is dark
    line = np.all(light == (0x44, 0x01, 0x54), axis=-1)
    assert line.sum() > 200
    lifted = {"#{:02x}{:02x}{:02x}".format(*c) for c in dark[line]}
    assert contrast("#440154", darkfigs.DARK_BACKGROUND) < 1.5
    for colour in lifted:
        assert contrast(colour, darkfigs.DARK_BACKGROUND) >= 3, colour
        assert abs(hue(colour) - hue("#440154")) < 0.01, colour


def test_dark_svg_keeps_mesh_and_colour_bar_and_lifts_dim_lines(built: dict) -> None:
    light_file, dark_file = light_and_dark(built, "A mesh and a dim line")
    light, dark = light_file.read_text(), dark_file.read_text().replace(MARK.decode(), "")
    mesh = re.compile(r'<g id="QuadMesh_\d+">(?:(?!<g\b).)*?</g>', re.S)  # paths only
    image = re.compile(r"<image\b[^>]*>", re.S)
    assert mesh.findall(light) and image.findall(light)  # the mesh; the bar's solids
    fills = re.findall(r"fill: (#[0-9a-f]{6})", mesh.findall(light)[0])
    assert len(fills) == 12 * 12 and min(contrast(c, "#ffffff") for c in fills) < 1.1
    assert mesh.findall(dark) == mesh.findall(light)
    assert image.findall(dark) == image.findall(light)
    (stroke,) = {c for c in re.findall(r"stroke: (#[0-9a-f]{6})", dark)
                 if c != darkfigs.DARK_INK and hue(c) > 0.7}
    assert contrast(stroke, darkfigs.DARK_BACKGROUND) >= 3
    assert abs(hue(stroke) - hue("#440154")) < 0.01


@pytest.mark.parametrize("colour", ["#440154", "#0000ff", "#1f77b4", "#8b0000", "#222255"])
def test_lifted_colours_reach_3_to_1_keeping_their_hue(colour: str) -> None:
    rgb = np.array([[[int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]]], np.float32)
    out = "#" + "".join(f"{round(float(c) * 255):02x}" for c in darkfigs.recolour(rgb)[0, 0])
    assert contrast(out, darkfigs.DARK_BACKGROUND) >= 3
    assert abs(hue(out) - hue(colour)) < 0.01
    if contrast(colour, darkfigs.DARK_BACKGROUND) >= 3.1:
        assert out == colour  # bright enough: as drawn


# ---------------------------------------------------------------- feeds


def test_feeds_keep_only_the_light_images(built: dict) -> None:
    feed = feedparser.parse(str(built["out"] / "feeds" / "all.atom.xml"), sanitize_html=False,
                            resolve_relative_uris=False)
    assert not feed.bozo, feed.get("bozo_exception")
    (entry,) = feed.entries
    soup = BeautifulSoup(entry.content[0].value, "html.parser")
    srcs = [img["src"] for img in soup.select("figure.fence-figure img")]
    assert len(srcs) == 7 and not soup.select(".fig-dark")
    assert not [s for s in srcs if darkfigs.SUFFIX in s]
    for img in soup.select("figure.fence-figure img"):  # still linked to the full size
        assert img.parent.name == "a" and img.parent["href"] == img["src"]


# ---------------------------------------------------------------- diagrams


def test_diagram_zoomed_view_shows_text_at_12px(built: dict) -> None:
    svg = built["soup"].select_one("figure.diagram svg")
    width = float(svg["width"])
    zoom = float(re.fullmatch(r"--zoom-width: (\d+)px", svg["style"])[1])
    smallest = min(float(t["font-size"]) for t in svg.select("text"))
    assert zoom * smallest / width >= 12  # text size in the zoomed view (tests/test_phones.py)
    assert zoom < width  # the drawing still shows whole where it fits


def test_fft_highlight_hatch_contrast_at_least_3_to_1(built: dict) -> None:
    palette = css_palette(CSS.read_text(encoding="utf-8"))
    svg = built["soup"].select_one("figure.diagram svg")
    hatch = {p["stroke"] for p in svg.select('g > path[stroke-width="1"]')
             if p["stroke"].startswith("#")}
    assert hatch, "the FFT diagram has no hatched cell"
    feed_svg = local(built["out"], built["soup"].select_one("img.diagram-feed")["src"]).read_text()
    feed_bg = re.search(r'<rect [^>]*fill="(#[0-9a-fA-F]{6})"', feed_svg)[1]
    for colour in hatch:
        for background in (palette["light"]["theme"], palette["dark"]["theme"], feed_bg):
            assert contrast(colour, background) >= 3, (colour, background)


# ---------------------------------------------------------------- the setting

ONE_FIGURE = """\
Title: One
Date: 2024-01-01
Slug: one

```python exec alt="A line"
import matplotlib.pyplot as plt
plt.plot([0, 1], [0, 1])
```
"""


@pytest.mark.parametrize("value", [False, "no"])
def test_fences_dark_figures_setting(tmp_path: Path, value: object) -> None:
    """``FENCES_DARK_FIGURES = False``: figures as drawn only; a value that is not a
    boolean stops the build with one line naming the setting."""
    write_files(tmp_path / "content", {"posts/one.md": ONE_FIGURE})
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_DARK_FIGURES": value})
    if value is False:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        soup = BeautifulSoup((tmp_path / "out/posts/one/index.html").read_text("utf-8"),
                             "html.parser")
        (link,) = soup.select("figure.fence-figure a.fig-full")
        assert link["class"] == ["fig-full"] and link.img["src"] == link["href"]
        assert not [p for p in (tmp_path / "out/fences").iterdir() if darkfigs.SUFFIX in p.name]
        assert not (tmp_path / "cache" / "variants").exists()
    else:
        assert proc.returncode != 0
        assert "FENCES_DARK_FIGURES = 'no' is not valid: expected true or false" in (
            proc.stdout + proc.stderr)


# ---------------------------------------------------------------- made as sessions end


def test_dark_renderings_are_made_as_a_session_ends(tmp_path: Path) -> None:
    """``Renderer.prepare`` (the engine calls it when a session's results arrive) makes a
    fresh result's dark renderings on background threads and keeps them in ``variants/``
    before any page is rendered; rendering then only reads them. A cached result, and
    outputs that are not figures, start nothing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from execblog.display.mpl import render_figure
    from execblog.engine.manager import make_manager
    from execblog.engine.model import FenceResult, Output
    from execblog.engine.render import Renderer
    from execblog.kernel.store import sha256

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1])
    png, svg = render_figure(fig, "png"), render_figure(fig, "svg")
    plt.close(fig)
    cache = tmp_path / "cache"
    renderer = Renderer(make_manager(), {}, str(tmp_path / "out"), {},
                        {"FENCES_CACHE_PATH": str(cache)})
    text = Output("text/plain", "not a figure")
    renderer.prepare(FenceResult("cached", [svg]))
    assert not (cache / "variants").exists(), "a cached result's variants are kept already"
    renderer.prepare(FenceResult("ran", [png, text, svg]))
    renderer.close()  # waits for the threads
    kept = sorted(p.name for p in (cache / "variants").iterdir())
    names = [f"{sha256(png.data)[:20]}.{darkfigs.SUFFIX}.png",
             f"{sha256(svg.data)[:20]}.{darkfigs.SUFFIX}.svg"]
    assert kept == sorted(names)
    dark_png = unseal(names[0], (cache / "variants" / names[0]).read_bytes())
    assert Image.open(io.BytesIO(dark_png)).size == Image.open(io.BytesIO(png.data)).size

    def made_again() -> bytes:
        raise AssertionError("rendering made a variant that prepare had made")

    link = renderer.link(png.data, "png")
    dark = renderer.variant(link, f"{darkfigs.SUFFIX}.png", made_again)
    assert dark == "{static}/fences/" + names[0]
    assert (tmp_path / "out" / "fences" / names[0]).read_bytes() == dark_png
