"""Real-browser tests of the example site: the project's own content in Debian's Chromium.

One cold development build of content/ (fences really run) is served on 127.0.0.1 and every
post linked from the home page and the archives, plus the home page, is opened four times:
desktop (1280 px) and phone (390 px), light and dark. Each visit checks what a reader would
notice, and axe-core checks accessibility (each page in two of the four modes, both widths and
both schemes; EXECBLOG_AXE_ALL=1: all four); full-page screenshots of every visit go to
test-artifacts/screenshots/. The search page is tried on its own.

Needs the `playwright` package, Chromium (`apt-get install chromium`; Playwright's own
browsers are never downloaded) and npm (axe-core is installed from npm, once, into
.cache/node/). Without them the module is skipped with the reason, unless
EXECBLOG_REQUIRE_BROWSER=1 (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

import pytest
from browser_support import (
    CHROMIUM_ARGS,
    INSTALL_HINT,
    JS_AXE,
    JS_BROKEN_IMAGES,
    JS_COLOURS,
    JS_DIAGRAMS,
    JS_HEADING_POSITION,
    JS_IMAGES_SETTLED,
    JS_MATH,
    JS_OVERFLOW,
    JS_SCROLL_THROUGH,
    JS_TOC_TARGETS,
    PageReport,
    SitePage,
    axe_script,
    discover_pages,
    failures,
    find_chromium,
    missing_requirements,
    serve,
)
from bs4 import BeautifulSoup
from conftest import ROOT, run_pelican

_missing = missing_requirements()
if _missing:
    _reason = f"browser tests need {', '.join(_missing)} ({INSTALL_HINT})"
    if os.environ.get("EXECBLOG_REQUIRE_BROWSER") == "1":
        pytest.fail(_reason + "; EXECBLOG_REQUIRE_BROWSER=1", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

# Under pytest-xdist, `--dist loadfile` (pyproject.toml) keeps the module on one worker (one
# build, one survey); the group mark is for `--dist loadgroup`, which pytest 9.2 broke
# (pytest-xdist#1386).
pytestmark = pytest.mark.xdist_group("browser")

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 740},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 1,
    },
}
SCHEMES = ("light", "dark")
TIMEOUT_MS = 20_000
# Browsers working at once: two keep a 2-core machine busy (rendering is multi-process).
SURVEY_THREADS = int(os.environ.get("EXECBLOG_BROWSER_THREADS", "2"))
HEADING_SLACK_PX = 40  # a followed TOC link leaves its heading this close to the top
# axe-core is the slowest check: page i is checked in two modes that together cover both
# widths and both schemes (alternating with i); EXECBLOG_AXE_ALL=1 checks all four.
AXE_MODES = (
    {("phone", "light"), ("desktop", "dark")},
    {("phone", "dark"), ("desktop", "light")},
)
AXE_ALL = os.environ.get("EXECBLOG_AXE_ALL") == "1"


# ---------------------------------------------------------------- fixtures
# Session-scoped: should another module's test run on this worker between two of ours,
# module-scoped fixtures would build and survey the site twice.


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """A cold build of the project's own content with the default settings."""
    tmp = tmp_path_factory.mktemp("browser-site")
    output = tmp / "output"
    proc = run_pelican(
        ROOT / "content",
        output,
        settings={"FENCES_CACHE_PATH": str(tmp / "fence-cache")},
        cwd=tmp,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return output


@pytest.fixture(scope="session")
def base_url(site: Path):
    with serve(site) as url:
        yield url


@pytest.fixture(scope="session")
def pages(site: Path) -> list[SitePage]:
    return discover_pages(site)


@pytest.fixture(scope="session")
def browser(chromium):  # conftest's: one driver per test process
    return chromium


def new_context(browser: Browser, base_url: str, device: str, scheme: str):
    """A fresh profile (no stored theme choice) whose system colour scheme is `scheme`.

    Requests leaving the local server are aborted: the site must make no third-party request.
    """
    context = browser.new_context(color_scheme=scheme, **VIEWPORTS[device])
    context.set_default_timeout(TIMEOUT_MS)
    blocked: list[str] = []

    def leaves_site(url: str) -> bool:
        return url.startswith(("http:", "https:", "ws:", "wss:")) and not url.startswith(base_url)

    def block(route) -> None:
        blocked.append(route.request.url)
        route.abort()

    context.route(leaves_site, block)
    return context, blocked


def open_page(context, blocked: list[str], url: str, report: PageReport, label: str) -> Page:
    """Load url, let lazy images finish; record console errors, bad requests and MathJax."""
    page = context.new_page()
    tag = f"[{label}] "
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and report.add("console", f"{tag}{m.text} ({m.location.get('url', '')})")
        ),
    )
    page.on("pageerror", lambda e: report.add("console", f"{tag}uncaught: {e}"))
    page.on(
        "requestfailed", lambda r: report.add("requests", f"{tag}{r.method} {r.url}: {r.failure}")
    )
    page.on(
        "request",
        lambda r: "mathjax" in r.url.lower()
        and report.add("math", f"{tag}MathJax requested: {r.url}"),
    )
    page.on(
        "response",
        lambda r: r.status >= 400 and report.add("requests", f"{tag}HTTP {r.status} for {r.url}"),
    )
    start = len(blocked)
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200:
        report.add("requests", f"{tag}page itself: {response and response.status}")
    page.evaluate(JS_SCROLL_THROUGH)
    try:
        page.wait_for_function(JS_IMAGES_SETTLED, timeout=10_000)
    except Exception:  # reported below, image by image
        pass
    for url_ in blocked[start:]:
        report.add("requests", f"{tag}third-party request blocked: {url_}")
    return page


def check_content(page: Page, report: PageReport) -> None:
    """Images, diagrams, math: the desktop light visit."""
    for src in page.evaluate(JS_BROKEN_IMAGES):
        report.add("images", f"not loaded: {src}")
    report.facts["images"] = page.evaluate("() => document.images.length")

    diagrams = page.evaluate(JS_DIAGRAMS)
    report.facts["diagrams"] = len(diagrams)
    for d in diagrams:
        where = f"figure.diagram #{d['index']}" + (f" (id={d['id']})" if d["id"] else "")
        if not d["shown"]:
            report.add("diagrams", f"{where} is hidden")
        if not d["hasArt"]:
            report.add("diagrams", f"{where} holds no svg or visible img")
        elif min(d["width"], d["height"], d["artWidth"], d["artHeight"]) <= 0:
            report.add(
                "diagrams",
                f"{where} has no size: figure {d['width']}x{d['height']}, "
                f"drawing {d['artWidth']}x{d['artHeight']}",
            )

    math = page.evaluate(JS_MATH)
    report.facts["math"] = math["count"]
    for text in math["empty"]:
        report.add("math", f"<math> laid out with no size: {text!r}")
    for text in math["errors"]:
        report.add("math", f"<merror> in MathML: {text!r}")
    for text in math["raw"]:
        report.add("math", f"raw TeX delimiter in visible text: ...{text}...")
    if math["mathjax"]:
        report.add("math", "window.MathJax is defined: MathJax ran on this page")


def check_axe(page: Page, report: PageReport, label: str) -> None:
    """Inject axe-core and record every violated rule with the elements it names."""
    page.add_script_tag(path=str(axe_script()))
    violations = page.evaluate(JS_AXE)
    report.facts.setdefault("axe", []).append(label)
    for v in violations:
        report.add("axe", f"[{label}] {v['id']} ({v['impact']}, {v['nodes']} element(s)): "
                          f"{v['help']}: " + " | ".join(v["targets"]))


def check_toc(page: Page, report: PageReport) -> None:
    """Follow every TOC link from the top of the page; its heading must reach the top."""
    targets = page.evaluate(JS_TOC_TARGETS)
    report.facts["toc"] = len(targets)
    for href in targets:
        page.evaluate("() => window.scrollTo(0, 0)")
        page.locator(f'.toc a[href="{href}"]').first.click()
        pos = page.evaluate(JS_HEADING_POSITION, unquote(href[1:]))
        if pos is None:
            report.add("toc", f"{href}: no element with that id")
            continue
        if pos["hash"] != unquote(href):
            report.add("toc", f"{href}: location hash is {pos['hash']!r}")
        near_top = abs(pos["top"]) <= HEADING_SLACK_PX
        # A heading near the end of the page cannot reach the top: it must be on screen.
        visible_at_end = pos["atBottom"] and 0 <= pos["top"] < pos["viewport"]
        if not (near_top or visible_at_end):
            report.add("toc", f"{href}: heading at y={pos['top']:.0f} after the click")


def check_overflow(page: Page, report: PageReport, label: str) -> None:
    o = page.evaluate(JS_OVERFLOW)
    if o["scrollWidth"] > o["clientWidth"]:
        report.add(
            "overflow",
            f"[{label}] scrollWidth {o['scrollWidth']} > clientWidth "
            f"{o['clientWidth']}; sticking out: {', '.join(o['culprits'])}",
        )


def screenshot_path(name: str, device: str, scheme: str) -> Path:
    return SCREENSHOTS / f"{name}-{device}-{scheme}.png"


def launch(playwright) -> Browser:
    return playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)


def survey_pass(base_url: str, device: str, scheme: str, reports: list[PageReport]) -> None:
    """Visit every page in one mode, in its own browser (passes run in parallel threads)."""
    label = f"{device} {scheme}"
    with sync_playwright() as p:
        browser = launch(p)
        context, blocked = new_context(browser, base_url, device, scheme)
        try:
            for index, report in enumerate(reports):
                try:
                    page = open_page(context, blocked, base_url + report.page.path, report, label)
                    page.screenshot(
                        path=str(screenshot_path(report.page.name, device, scheme)),
                        full_page=True,
                    )
                    if device == "phone":
                        check_overflow(page, report, label)
                    if (device, scheme) == ("desktop", "light"):
                        check_content(page, report)
                    if AXE_ALL or (device, scheme) in AXE_MODES[index % 2]:
                        check_axe(page, report, label)
                    if (device, scheme) == ("desktop", "light"):
                        check_toc(page, report)  # scrolls and follows links: last
                    page.close()
                except Exception as exc:  # one broken page must not hide the others
                    report.add("visit", f"[{label}] {type(exc).__name__}: {exc}")
        finally:
            context.close()
            browser.close()


@pytest.fixture(scope="session")
def survey(base_url: str, pages: list[SitePage]) -> list[PageReport]:
    """Visit every page in all four modes once; the tests below read the findings."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):  # a renamed or removed post leaves no stale shot
        old.unlink()
    reports = [PageReport(p) for p in pages]
    modes = [(device, scheme) for device in VIEWPORTS for scheme in SCHEMES]
    with ThreadPoolExecutor(max_workers=SURVEY_THREADS) as pool:
        for done in [pool.submit(survey_pass, base_url, d, s, reports) for d, s in modes]:
            done.result()
    return reports


def assert_clean(reports: list[PageReport], check: str) -> None:
    problems = failures(reports, check) + failures(reports, "visit")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


# ---------------------------------------------------------------- tests


def test_every_post_is_discovered(site: Path, pages: list[SitePage]) -> None:
    """The home page and archives link every post page that was written, and nothing else."""
    written = {p.parent.relative_to(site).as_posix() + "/" for p in site.glob("posts/*/index.html")}
    linked = {p.path for p in pages if p.name != "home"}
    assert written, "the build wrote no post"
    assert linked == written
    assert len({p.name for p in pages}) == len(pages), "two pages would share a screenshot"


def test_no_console_errors(survey: list[PageReport]) -> None:
    assert_clean(survey, "console")


def test_no_failed_or_third_party_requests(survey: list[PageReport]) -> None:
    assert_clean(survey, "requests")


def test_every_image_loads(survey: list[PageReport]) -> None:
    assert_clean(survey, "images")


def test_every_diagram_is_visible(survey: list[PageReport]) -> None:
    assert_clean(survey, "diagrams")


def test_math_is_typeset(survey: list[PageReport]) -> None:
    """Math needs no script: MathML from the build, laid out by the browser, and no page
    requests MathJax (the default settings)."""
    assert_clean(survey, "math")
    assert any(r.facts.get("math") for r in survey), "no page has <math>: the check checks nothing"


def test_no_accessibility_violations(survey: list[PageReport]) -> None:
    """axe-core finds nothing on any page, at 390 and 1280 px, light and dark."""
    assert_clean(survey, "axe")
    checked = {mode for r in survey for mode in r.facts.get("axe", [])}
    assert checked == {f"{d} {s}" for d in VIEWPORTS for s in SCHEMES}, checked


def test_no_horizontal_overflow_on_a_phone(survey: list[PageReport]) -> None:
    assert_clean(survey, "overflow")


def test_toc_links_reach_their_headings(survey: list[PageReport]) -> None:
    assert_clean(survey, "toc")
    assert any(r.facts.get("toc") for r in survey), "no page has a table of contents"


def test_screenshots_saved(survey: list[PageReport]) -> None:
    expected = {
        screenshot_path(r.page.name, device, scheme).name
        for r in survey
        for device in VIEWPORTS
        for scheme in SCHEMES
    }
    saved = {p.name for p in SCREENSHOTS.glob("*.png") if p.stat().st_size > 0}
    assert expected <= saved, sorted(expected - saved)


def _colours(page: Page) -> dict:
    return page.evaluate(JS_COLOURS)


def test_theme_toggle_changes_colours_and_survives_reload(
    browser: Browser, base_url: str, pages: list[SitePage]
) -> None:
    post = next((p for p in pages if p.name != "home"), pages[0])
    url = base_url + post.path

    context, _ = new_context(browser, base_url, "desktop", "light")
    try:
        page = context.new_page()
        page.goto(url)
        light = _colours(page)
        assert light["theme"] is None and light["pressed"] == "false", light

        page.click(".theme-toggle")
        dark = _colours(page)
        assert dark["background"] != light["background"], (light, dark)
        assert dark["color"] != light["color"], (light, dark)
        assert (dark["theme"], dark["pressed"], dark["stored"]) == ("dark", "true", "dark")

        page.reload()
        assert _colours(page) == dark, "the dark choice did not survive a reload"

        page.click(".theme-toggle")
        back = _colours(page)
        assert back["background"] == light["background"] and back["stored"] == "light", back
        page.reload()
        assert _colours(page)["background"] == light["background"]
    finally:
        context.close()

    # A reader whose system is dark gets the same dark palette without choosing anything,
    # and can still pick light, which then wins over the system setting.
    context, _ = new_context(browser, base_url, "desktop", "dark")
    try:
        page = context.new_page()
        page.goto(url)
        system_dark = _colours(page)
        assert system_dark["theme"] is None and system_dark["stored"] is None
        for key in ("background", "color", "pre"):
            assert system_dark[key] == dark[key], (key, system_dark, dark)
        assert system_dark["pressed"] == "true"
        page.click(".theme-toggle")
        page.reload()
        chosen = _colours(page)
        assert chosen["background"] == light["background"] and chosen["theme"] == "light"
    finally:
        context.close()


JS_CODE_BLOCKS = """() => {
  const blocks = Array.from(document.querySelectorAll('.highlight'))
    .filter(b => !b.closest('.fence-outputs'));
  const pres = blocks.map(b => Array.from(b.querySelectorAll('pre'))
    .find(p => !p.closest('.linenos, .linenodiv')));
  const regions = Array.from(document.querySelectorAll('main [role=region]'));
  return {
    blocks: blocks.length,
    plain: blocks.filter(b => !b.closest('.fence')).length,
    buttons: blocks.filter(b => b.querySelectorAll(':scope > .copy-button').length === 1).length,
    inOutputs: document.querySelectorAll('.fence-outputs .copy-button').length,
    unfocusable: pres.filter(p => !(p && p.tabIndex === 0 && p.getAttribute('role') === 'region'
      && /^Code\\b/.test(p.getAttribute('aria-label') || ''))).length,
    names: regions.map(r => r.getAttribute('aria-label')),
  };
}"""


def test_code_blocks_scroll_and_copy_on_a_phone(
    browser: Browser, base_url: str, site: Path, pages: list[SitePage]
) -> None:
    """At 390 px every code block is a focusable, named region with one copy button, and
    the button puts the block's source (only) on the clipboard."""
    posts = [p for p in pages if p.name != "home"]
    html = {p.path: (site / p.path / "index.html").read_text(encoding="utf-8") for p in posts}
    # A post with a plain Markdown block (named by the script) if there is one.
    post = max(posts, key=lambda p: ('<div class="highlight"><pre><span>' in html[p.path],
                                     html[p.path].count('class="highlight"')))
    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url.rstrip("/"))
    try:
        page = context.new_page()
        page.goto(base_url + post.path, wait_until="load")
        found = page.evaluate(JS_CODE_BLOCKS)
        assert found["blocks"] > 0, f"{post.name} has no code block"
        assert found["unfocusable"] == 0 and found["inOutputs"] == 0, found
        assert found["buttons"] == found["blocks"], found
        assert len(set(found["names"])) == len(found["names"]), found["names"]  # unique landmarks

        block = page.locator(".highlight:not(.fence .highlight)" if found["plain"]
                             else ".fence-source .highlight").first
        button = block.locator(".copy-button")
        assert button.get_attribute("aria-label") == "Copy code"
        button.focus()
        assert page.evaluate("() => document.activeElement.className") == "copy-button"
        source = block.locator("pre").first.evaluate("p => p.textContent.replace(/\\n$/, '')")
        button.click()
        page.wait_for_function("b => b.textContent === 'Copied'", arg=button.element_handle())
        assert button.get_attribute("data-copied") == source
        assert page.evaluate("() => navigator.clipboard.readText()") == source
    finally:
        context.close()


def _search_word(site: Path, pages: list[SitePage]) -> tuple[str, str]:
    """(a word, the path of the post it comes from): the longest word of a post's title."""
    best = ("", "")
    for p in pages:
        if p.name == "home":
            continue
        title = BeautifulSoup((site / p.path / "index.html").read_text(encoding="utf-8"),
                              "html.parser").select_one("h1.post-title").get_text()
        for word in re.findall(r"[A-Za-z]{4,}", title):
            if len(word) > len(best[0]):
                best = (word.lower(), p.path)
    assert best[0], "no post title has a word to search for"
    return best


def _search(page: Page, url: str | None, word: str, expected: str) -> list[str]:
    """Type word into the search page (at url, unless it is open); the result links' hrefs
    once the expected one is shown (Pagefind's UI shows results as each one loads), or
    those shown after 10 s."""
    if url:
        page.goto(url, wait_until="load")
    page.fill(".pagefind-ui__search-input", word)
    try:
        page.wait_for_selector(f'.pagefind-ui__result-link[href="{expected}"]', timeout=10_000)
    except PlaywrightTimeout:
        pass  # the caller's assertion lists what was found
    return page.eval_on_selector_all(".pagefind-ui__result-link",
                                     "links => links.map(a => a.getAttribute('href'))")


def test_search_finds_a_word_from_a_post(
    browser: Browser, base_url: str, site: Path, pages: list[SitePage]
) -> None:
    """The Pagefind UI on the search page finds a post by a word of its title, loading only
    the site's own files, with no axe-core violation (390 px, light and dark); a result
    leads to the post. Served under a sub-path, results keep the sub-path; opened from a
    file, the page says why it cannot search."""
    word, path = _search_word(site, pages)
    for scheme in SCHEMES:
        context, blocked = new_context(browser, base_url, "phone", scheme)
        report = PageReport(SitePage("search", "search/"))
        try:
            page = open_page(context, blocked, base_url + "search/", report, f"phone {scheme}")
            hrefs = _search(page, None, word, f"/{path}")
            assert f"/{path}" in hrefs, (word, path, hrefs)
            page.screenshot(path=str(SCREENSHOTS / f"search-phone-{scheme}.png"))
            check_overflow(page, report, f"phone {scheme}")
            check_axe(page, report, f"phone {scheme}")
            assert blocked == [] and not report.problems, report.problems
            if scheme == "light":
                page.click(f'.pagefind-ui__result-link[href="/{path}"]')
                page.wait_for_url(base_url + path)
        finally:
            context.close()

    with serve(site.parent) as parent_url:  # the site at <server>/output/
        context, _ = new_context(browser, parent_url, "desktop", "light")
        try:
            page = context.new_page()
            hrefs = _search(page, parent_url + f"{site.name}/search/", word,
                            f"/{site.name}/{path}")
            assert f"/{site.name}/{path}" in hrefs, hrefs
        finally:
            context.close()

    context, _ = new_context(browser, base_url, "desktop", "light")
    try:
        page = context.new_page()
        page.goto((site / "search" / "index.html").as_uri(), wait_until="load")
        assert "served over HTTP" in page.locator("#search-status").inner_text()
    finally:
        context.close()
