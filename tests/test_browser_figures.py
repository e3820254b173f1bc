"""Figures in a real browser (Debian's Chromium, as tests/test_browser.py): the theme toggle
shows a figure's dark rendering without a reload, figures fill a phone's width and open full
size on a tap, and diagram text stays >= 12 px on a phone. One small site, built once.

Skipped with the reason when Chromium or Playwright is missing, unless
EXECBLOG_REQUIRE_BROWSER=1, which turns the skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_support import INSTALL_HINT, find_chromium, serve
from conftest import run_pelican, write_files
from execblog.engine.darkfigs import SUFFIX
from test_dark_figures import fft_diagram

_missing = [] if find_chromium() else ["Chromium (/usr/bin/chromium or $EXECBLOG_CHROMIUM)"]
try:
    import playwright.sync_api  # noqa: F401
except ImportError:
    _missing.append("the playwright Python package")
if _missing:
    _reason = f"browser tests need {', '.join(_missing)} ({INSTALL_HINT})"
    if os.environ.get("EXECBLOG_REQUIRE_BROWSER") == "1":
        pytest.fail(_reason + "; EXECBLOG_REQUIRE_BROWSER=1", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import Browser  # noqa: E402

TIMEOUT_MS = 15_000
PHONE = {"viewport": {"width": 390, "height": 800}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 1}
POST = """\
Title: Figures
Date: 2024-01-01
Slug: figures

```python exec alt="Two lines"
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot([0, 1, 2], [0, 1, 4])
ax.plot([0, 1, 2], [4, 1, 0])
```

{diagram}
"""

# The shown figure image: which variant, whether it loaded, its width and its figure's.
JS_FIGURE = """() => {
  const shown = Array.from(document.querySelectorAll('figure.fence-figure img'))
    .filter(i => i.getClientRects().length > 0);
  const hidden = Array.from(document.querySelectorAll('figure.fence-figure img'))
    .filter(i => i.getClientRects().length === 0);
  const img = shown[0];
  const figure = img.closest('figure');
  return {shown: shown.length, variant: img.parentElement.className, src: img.currentSrc,
          loaded: img.complete && img.naturalWidth > 0, width: img.getBoundingClientRect().width,
          figureWidth: figure.clientWidth, hiddenFetched: hidden.map(i => i.naturalWidth > 0),
          marker: window.__notReloaded === true};
}"""

# Each diagram text's rendered size: its font size times the drawing's scale on screen.
JS_DIAGRAM_TEXT = """() => {
  const svg = document.querySelector('figure.diagram svg');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const box = svg.closest('.diagram-scroll');
  return {sizes: Array.from(svg.querySelectorAll('text'))
            .map(t => parseFloat(t.getAttribute('font-size')) * scale),
          region: box ? [box.getAttribute('role'), box.tabIndex, box.getAttribute('aria-label')]
                      : null,
          scrolls: box ? box.scrollWidth > box.clientWidth : false};
}"""


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser-figures")
    content, out = tmp / "content", tmp / "output"
    write_files(content, {"posts/figures.md": POST.replace("{diagram}", fft_diagram())})
    proc = run_pelican(content, out, settings={"FENCES_CACHE_PATH": str(tmp / "cache")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with serve(Path(out)) as url:
        yield url + "posts/figures/"


@pytest.fixture(scope="module")
def browser(chromium):  # conftest's: one driver per test process
    return chromium


def open_post(browser: Browser, url: str, scheme: str = "light", **device):
    context = browser.new_context(color_scheme=scheme, **(device or {}))
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.evaluate("() => { window.__notReloaded = true; }")
    return context, page


def shown_figure(page) -> dict:
    page.wait_for_function("""() => Array.from(document.querySelectorAll('figure.fence-figure img'))
      .filter(i => i.getClientRects().length > 0).every(i => i.complete && i.naturalWidth > 0)""")
    return page.evaluate(JS_FIGURE)


def test_toggle_shows_the_dark_figure_without_a_reload(browser: Browser, base_url: str) -> None:
    context, page = open_post(browser, base_url)
    try:
        light = shown_figure(page)
        assert light["shown"] == 1 and light["variant"] == "fig-full fig-light", light
        assert SUFFIX not in light["src"] and light["hiddenFetched"] == [False]  # never fetched
        page.click(".theme-toggle")
        dark = shown_figure(page)
        assert dark["variant"] == "fig-full fig-dark" and f".{SUFFIX}." in dark["src"], dark
        assert dark["loaded"] and dark["marker"], "the page was reloaded"
        page.click(".theme-toggle")
        assert shown_figure(page)["src"] == light["src"]
    finally:
        context.close()
    # A system in dark mode gets the dark figure with no choice made and no script needed.
    context, page = open_post(browser, base_url, scheme="dark")
    try:
        assert f".{SUFFIX}." in shown_figure(page)["src"]
    finally:
        context.close()


def test_figures_fill_a_phone_and_open_full_size(browser: Browser, base_url: str) -> None:
    context, page = open_post(browser, base_url, **PHONE)
    try:
        figure = shown_figure(page)
        assert abs(figure["width"] - figure["figureWidth"]) <= 1, figure
        assert figure["width"] > 300
        page.locator("figure.fence-figure").tap()  # zooms it (tests/test_phones.py), then:
        page.locator("figure.fence-figure a.fig-light").tap()
        page.wait_for_url("**/fences/*.svg")
        assert page.url == figure["src"]
    finally:
        context.close()


def test_diagram_text_stays_at_least_12px_on_a_phone(browser: Browser, base_url: str) -> None:
    context, page = open_post(browser, base_url, **PHONE)
    try:
        page.focus("figure.diagram .diagram-scroll")  # tapped: the zoomed view (test_phones)
        found = page.evaluate(JS_DIAGRAM_TEXT)
        assert found["sizes"] and min(found["sizes"]) >= 12 - 0.05, found["sizes"]
        assert found["region"] == ["region", 0, "Diagram"] and found["scrolls"], found
        overflow = page.evaluate("() => document.documentElement.scrollWidth"
                                 " <= document.documentElement.clientWidth")
        assert overflow, "the diagram widens the page instead of scrolling in its region"
    finally:
        context.close()
