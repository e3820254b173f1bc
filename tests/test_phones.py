"""Phones (390 px): diagrams scale down to fit and zoom on a tap instead of scrolling with
fixed-size text; figures zoom to their own size on a tap; a benchmark's caption stays in
view while its table scrolls sideways. One real build, read with bs4, and one Chromium check
(skipped without Chromium/Playwright)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser_support import find_chromium, serve
from bs4 import BeautifulSoup
from conftest import ROOT, run_pelican, write_files
from execblog.diagrams.svg import MIN_TEXT_PX, PHONE_COLUMN_PX

WIDE = ", ".join(f'{{"id": "n{i}", "type": "box", "text": "Stage number {i}"}}' for i in range(5))
CAPTION = "Quantise and dequantise a tensor, every size and every data type, on this machine"
POST = f"""\
Title: Phone
Date: 2024-01-01
Slug: phone

```diagram
{{"items": [{WIDE}],
 "arrows": [{{"from": "n0", "to": "n1"}}, {{"from": "n1", "to": "n2"}}]}}
```

```diagram
{{"items": [{{"id": "a", "type": "box", "text": "A"}}, {{"id": "b", "type": "box", "text": "B"}}],
 "arrows": [{{"from": "a", "to": "b"}}]}}
```

```python exec alt="A wide plot"
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot([0, 1, 2], [0, 1, 4])
```

```python exec caption="{CAPTION}"
benchmark({{"quantise": lambda xp, n, dtype: (lambda: sum(range(n)))}},
          params={{"n": [1000, 2000], "dtype": ["float32", "bfloat16"]}},
          budget=0.002, min_repeats=3, warmup=1)
```
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("phones")
    write_files(tmp / "content", {"posts/phone.md": POST})
    proc = run_pelican(tmp / "content", tmp / "output",
                       settings={"FENCES_CACHE_PATH": str(tmp / "cache")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return tmp / "output"


def soup(out: Path) -> BeautifulSoup:
    return BeautifulSoup((out / "posts/phone/index.html").read_text("utf-8"), "html.parser")


def test_a_wide_diagram_scales_down_and_zooms_to_readable_text(built: Path) -> None:
    wide, small = soup(built).select("figure.diagram svg")
    assert "min-width" not in wide.get("style", ""), "a fixed width scrolls on a phone"
    zoom = float(re.fullmatch(r"--zoom-width: (\d+)px", wide["style"])[1])
    width = float(wide["width"])
    smallest = min(float(t["font-size"]) for t in wide.select("text"))
    assert "diagram-zoomable" in wide["class"]
    assert zoom * smallest / width >= MIN_TEXT_PX  # the zoomed view's text
    assert PHONE_COLUMN_PX * smallest / width < MIN_TEXT_PX  # small without it
    # one that stays readable in a phone's column has nothing to zoom
    assert "diagram-zoomable" not in small["class"] and not small.get("style")
    css = (ROOT / "plugins/execblog/theme/static/css/diagrams.css").read_text("utf-8")
    assert re.search(r"\.diagram-scroll:focus > \.diagram-zoomable \{\s*min-width: "
                     r"var\(--zoom-width", css)


def test_the_benchmark_caption_is_the_tables(built: Path) -> None:
    table = soup(built).select_one("div.bench-scroll table.bench")
    assert table.caption.get_text(" ", strip=True) == CAPTION
    css = (ROOT / "plugins/execblog/theme/static/css/bench.css").read_text("utf-8")
    assert re.search(r"\.bench-scroll \{\s*container-type: inline-size", css)


def test_figures_are_focusable_to_zoom(built: Path) -> None:
    (figure,) = soup(built).select("figure.fence-figure")
    assert figure["tabindex"] == "0" and figure.img["width"]
    css = (ROOT / "plugins/execblog/theme/static/css/main.css").read_text("utf-8")
    assert re.search(r"\.fence-figure:focus-within \.fig-full img \{\s*width: auto;", css)


# ---------------------------------------------------------------- in a browser

# A figure's scale on screen (1: its own size, 10 pt text 13.3 px), whether it scrolls.
JS_FIGURE = """() => {
  const figure = document.querySelector('figure.fence-figure');
  const img = Array.from(figure.querySelectorAll('img')).find(i => i.getClientRects().length);
  return {scale: img.getBoundingClientRect().width / parseFloat(img.getAttribute('width')),
          scrolls: figure.scrollWidth > figure.clientWidth,
          focused: document.activeElement === figure,
          pageScrolls: document.documentElement.scrollWidth > document.documentElement.clientWidth};
}"""

JS_PHONE = """async () => {
  const sizes = svg => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return Math.min(...Array.from(svg.querySelectorAll('text'))
      .map(t => parseFloat(t.getAttribute('font-size')) * scale));
  };
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const doc = document.documentElement;
  const region = document.querySelector('figure.diagram .diagram-scroll');
  const svg = region.querySelector('svg');
  const fitted = {text: sizes(svg), scrolls: region.scrollWidth > region.clientWidth};
  region.focus();
  await frame();
  const zoomed = {text: sizes(svg), scrolls: region.scrollWidth > region.clientWidth};
  region.blur();
  await frame();
  const back = sizes(svg);
  const box = document.querySelector('.bench-scroll');
  const caption = box.querySelector('caption');
  const seen = () => {
    const c = caption.getBoundingClientRect(), b = box.getBoundingClientRect();
    return c.left >= b.left - 0.5 && c.right <= b.right + 0.5;
  };
  const atStart = seen();
  box.scrollLeft = box.scrollWidth;
  await frame();
  return {fitted, zoomed, back, pageScrolls: doc.scrollWidth > doc.clientWidth,
          tableScrolls: box.scrollWidth > box.clientWidth, captionSeen: [atStart, seen()],
          scrolledBy: box.scrollLeft};
}"""


@pytest.mark.skipif(not find_chromium() and os.environ.get("EXECBLOG_REQUIRE_BROWSER") != "1",
                    reason="needs Chromium")
def test_on_a_phone_nothing_is_cut_off_and_diagrams_zoom(built: Path, chromium) -> None:
    if chromium is None:
        pytest.skip("needs Playwright and Chromium")
    context = chromium.new_context(viewport={"width": 390, "height": 800}, is_mobile=True,
                                   has_touch=True, device_scale_factor=1)
    try:
        page = context.new_page()
        with serve(built) as url:
            page.goto(url + "posts/phone/", wait_until="load")
            found = page.evaluate(JS_PHONE)
            page.wait_for_function("""() => Array.from(document.querySelectorAll('figure img'))
              .filter(i => i.getClientRects().length).every(i => i.complete)""")
            fitted = page.evaluate(JS_FIGURE)
            page.locator("figure.fence-figure").tap()
            zoomed = page.evaluate(JS_FIGURE)
            page.locator("figure.fence-figure a.fig-light").tap()  # a second tap: the file
            page.wait_for_url("**/fences/*.svg")
    finally:
        context.close()
    assert not found["pageScrolls"], found
    assert not found["fitted"]["scrolls"] and found["fitted"]["text"] < MIN_TEXT_PX, found
    assert found["zoomed"]["scrolls"] and found["zoomed"]["text"] >= MIN_TEXT_PX - 0.05, found
    assert found["back"] == pytest.approx(found["fitted"]["text"]), found
    assert found["tableScrolls"] and found["scrolledBy"] > 0, found
    assert found["captionSeen"] == [True, True], found
    assert 13.33 * fitted["scale"] < 10 and not fitted["scrolls"] and not fitted["focused"], fitted
    assert zoomed["focused"] and zoomed["scale"] == pytest.approx(1, abs=0.01), zoomed
    assert zoomed["scrolls"] and not zoomed["pageScrolls"], zoomed
