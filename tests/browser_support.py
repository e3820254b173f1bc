"""Helpers for tests/test_browser.py: find the browser, build and serve the site, survey pages.

The browser is the system Chromium (Debian's `chromium` package) driven by Playwright through
its executable path: Playwright's own browser downloads are never used. Math is MathML written
at build time (no MathJax is loaded by default); accessibility is checked with axe-core, from
npm at an exact version (AXE_VERSION), installed once into the ignored .cache/node/ folder.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

from bs4 import BeautifulSoup

from tools.nodetools import ToolMissing, ensure_npm_package

# ---------------------------------------------------------------- what this machine has

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
# Flags for a quiet, offline, container-friendly Chromium.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_VERSION = "4.14.1"
INSTALL_HINT = ("apt-get install -y chromium nodejs npm, and pip install -e '.[test]' "
                f"(axe-core@{AXE_VERSION} is installed from npm on first use)")


def find_chromium() -> str | None:
    """The Chromium executable: $EXECBLOG_CHROMIUM, else Debian's, else one on PATH."""
    env = os.environ.get("EXECBLOG_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@functools.cache
def axe_script() -> Path | str:
    """axe-core's axe.min.js ($EXECBLOG_AXE_JS, else npm's, installed on first use), or the
    reason it cannot be had."""
    env = os.environ.get("EXECBLOG_AXE_JS")
    if env:
        return Path(env) if Path(env).is_file() else f"$EXECBLOG_AXE_JS={env} is not a file"
    try:
        return ensure_npm_package("axe-core", AXE_VERSION, "axe.min.js")
    except ToolMissing as exc:
        return str(exc)


def missing_requirements() -> list[str]:
    """What prevents the browser tests from running here (empty: nothing)."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package")
    if find_chromium() is None:
        missing.append("Chromium (/usr/bin/chromium or $EXECBLOG_CHROMIUM)")
    axe = axe_script()
    if not isinstance(axe, Path):
        missing.append(f"axe-core {AXE_VERSION} ({axe})")
    return missing


# ---------------------------------------------------------------- serving


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve folder on 127.0.0.1 (a free port) from a background thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---------------------------------------------------------------- discovering pages


@dataclass(frozen=True)
class SitePage:
    name: str  # "home" or the post's slug: also the screenshot file stem
    path: str  # URL path relative to the site root, e.g. "posts/x/"


def post_links(html: str, page_path: str) -> list[str]:
    """Site-relative paths of the posts linked from one listing page, in page order."""
    soup = BeautifulSoup(html, "html.parser")
    base = "http://site/" + page_path
    found = []
    for a in soup.select(".entry-title a[href], .archive-list a[href]"):
        path = urlparse(urljoin(base, a["href"])).path.lstrip("/")
        if path.startswith("posts/") and path not in found:
            found.append(path)
    return found


def discover_pages(output: Path) -> list[SitePage]:
    """The home page, then every post linked from the archives or any home page.

    Links are followed the way a reader would (relative URLs resolved against the page);
    nothing is hard-coded, so new posts are picked up as they are written.
    """
    listings = [("archives/", output / "archives" / "index.html")]
    listings += [("", p) for p in sorted(output.glob("index*.html"))]  # paginated home
    paths: list[str] = []
    for page_path, file in listings:
        if file.is_file():
            for path in post_links(file.read_text(encoding="utf-8"), page_path):
                if path not in paths:
                    paths.append(path)
    pages = [SitePage("home", "")]
    for path in paths:
        pages.append(SitePage(unquote(path.rstrip("/").split("/")[-1]), path))
    return pages


# ---------------------------------------------------------------- in-page JavaScript

# Scroll down a viewport at a time (lazy images load), then back to the top.
JS_SCROLL_THROUGH = """async () => {
  const pause = () => new Promise(r => setTimeout(r, 25));
  const step = Math.max(200, Math.floor(window.innerHeight * 0.8));
  for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
    window.scrollTo(0, y);
    await pause();
  }
  window.scrollTo(0, document.documentElement.scrollHeight);
  await pause();
  window.scrollTo(0, 0);
}"""

# Images not rendered (display:none, `hidden`: the feed copy of a diagram) never load lazily.
JS_IMAGES_SETTLED = """() => Array.from(document.images)
  .every(i => i.complete || i.getClientRects().length === 0)"""

# Rendered images must have pixels; images that are not rendered (never fetched when lazy)
# must at least exist on the server. A rendered lazy image still loading (a loaded machine:
# the scroll went by faster than the fetch) is given 15 s more, eagerly, before it counts.
JS_BROKEN_IMAGES = """async () => {
  const broken = [];
  const late = ms => new Promise(r => setTimeout(r, ms));
  for (const i of document.images) {
    const src = i.currentSrc || i.src;
    if (!src) { broken.push('(no src)'); continue; }
    if (i.getClientRects().length > 0) {
      if (!(i.complete && i.naturalWidth > 0)) {
        i.loading = 'eager';
        await Promise.race([i.decode().catch(() => null), late(15000)]);
      }
      if (!(i.complete && i.naturalWidth > 0)) broken.push(src);
    } else {
      const r = await fetch(src).catch(e => ({ok: false, status: String(e)}));
      if (!r.ok) broken.push(`${src} [not rendered; fetch: ${r.status}]`);
    }
  }
  return broken;
}"""

JS_DIAGRAMS = """() => Array.from(document.querySelectorAll('figure.diagram')).map((f, i) => {
  const r = f.getBoundingClientRect();
  const art = f.querySelector('svg, img:not([hidden])');
  const a = art ? art.getBoundingClientRect() : {width: 0, height: 0};
  const s = getComputedStyle(f);
  return {index: i, id: f.id || '', width: r.width, height: r.height,
          artWidth: a.width, artHeight: a.height, hasArt: !!art,
          shown: s.display !== 'none' && s.visibility !== 'hidden' && +s.opacity > 0};
})"""

# Math is MathML written at build time: every <math> is laid out (has a box), none holds an
# <merror>, no MathJax ran, and visible prose shows no TeX delimiter (untranslated math).
JS_MATH = """() => {
  const maths = Array.from(document.querySelectorAll('math'));
  const empty = maths.filter(m => {
    const r = m.getBoundingClientRect();
    return m.getClientRects().length > 0 && (r.width <= 0 || r.height <= 0);
  }).map(m => (m.getAttribute('alttext') || m.textContent).trim().slice(0, 60));
  const errors = Array.from(document.querySelectorAll('merror'))
    .map(e => e.textContent.trim().slice(0, 60));
  // Visible prose only: code may legitimately show TeX delimiters, annotations hold TeX.
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, .highlight, annotation, annotation-xml')
    .forEach(e => e.remove());
  const text = clone.textContent;
  const raw = [];
  for (const d of ['\\\\(', '\\\\)', '\\\\[', '\\\\]', '$$']) {
    const i = text.indexOf(d);
    if (i >= 0) raw.push(text.slice(Math.max(0, i - 30), i + 40).replace(/\\s+/g, ' '));
  }
  return {count: maths.length, empty, errors, raw, mathjax: typeof window.MathJax !== 'undefined'};
}"""

# Horizontal overflow, and the outermost elements that stick out (to name the culprit).
JS_OVERFLOW = """() => {
  const root = document.documentElement;
  const limit = root.clientWidth;
  const culprits = [];
  if (root.scrollWidth > limit) {
    // Content clipped or scrolled by an ancestor (a wide code block) does not widen the page.
    const clipped = (el) => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== 'visible') return true;
      }
      return false;
    };
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      const p = el.parentElement ? el.parentElement.getBoundingClientRect() : null;
      if (r.right > limit + 1 && (!p || p.right <= limit + 1) && culprits.length < 5
          && !clipped(el)) {
        const cls = el.className && el.className.baseVal === undefined ? el.className : '';
        culprits.push(`<${el.tagName.toLowerCase()}${cls ? ' class="' + cls + '"' : ''}>`
          + ` right=${Math.round(r.right)}`);
      }
    }
  }
  return {scrollWidth: root.scrollWidth, clientWidth: limit, culprits};
}"""

JS_TOC_TARGETS = """() => Array.from(document.querySelectorAll('.toc a[href^="#"]'))
  .map(a => a.getAttribute('href'))"""

# Wait until scrolling stopped (two frames at the same position), then measure the heading.
JS_HEADING_POSITION = """async (id) => {
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  let last = -1;
  for (let i = 0; i < 60 && window.scrollY !== last; i++) {
    last = window.scrollY;
    await frame();
    await frame();
  }
  const h = document.getElementById(id);
  if (!h) return null;
  const r = h.getBoundingClientRect();
  const root = document.documentElement;
  return {top: r.top, viewport: window.innerHeight, hash: decodeURIComponent(location.hash),
          atBottom: window.scrollY + window.innerHeight >= root.scrollHeight - 2};
}"""

JS_COLOURS = """() => {
  const body = getComputedStyle(document.body);
  const preEl = document.querySelector('pre');
  const pre = preEl ? getComputedStyle(preEl) : null;
  return {background: body.backgroundColor, color: body.color,
          pre: pre ? pre.backgroundColor : null,
          theme: document.documentElement.getAttribute('data-theme'),
          pressed: (document.querySelector('.theme-toggle') || {getAttribute: () => null})
                     .getAttribute('aria-pressed'),
          stored: localStorage.getItem('theme')};
}"""


# axe-core (injected by the test) on the whole page: one entry per violated rule, with the
# first few elements it names.
JS_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.length,
    targets: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + n.html.slice(0, 100)),
  }));
}"""


# ---------------------------------------------------------------- results


@dataclass
class PageReport:
    """Problems found on one page, by check; an empty list means the check passed."""

    page: SitePage
    problems: dict[str, list[str]] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)

    def add(self, check: str, message: str) -> None:
        messages = self.problems.setdefault(check, [])
        if message not in messages:  # a resource requested twice is one problem
            messages.append(message)


def failures(reports: list[PageReport], check: str) -> list[str]:
    """One line per problem of this check, prefixed by the page's name."""
    return [f"{r.page.name}: {m}" for r in reports for m in r.problems.get(check, [])]
