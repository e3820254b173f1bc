"""Drills on the files the fence cache derives from results and hands to the output: dark
figures (``variants/``), highlighted sources (``highlight/``), notebooks (``notebooks/``),
the math font and the formula store (``mathkit/``).

Each is damaged or edited between two real builds: the second build says so, naming the
file, serves what the first served (page, feeds, notebook, figure, font), lets nothing
planted into the HTML or the feeds, and rewrites the file. A checksum recomputed on purpose
still does not get markup into a page (highlighted sources and formulas are checked against
what they must be), and ``FENCES_MODE = "rerun"`` reads none of these files. With a cache
that cannot be written, pages preload only a math font that is in the output.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

import feedparser
import nbformat
import pytest
from bs4 import BeautifulSoup
from conftest import run_pelican, write_files
from execblog.engine import darkfigs
from execblog.engine.render import highlighted_code_matches
from execblog.kernel.store import seal, unseal
from fontTools.ttLib import TTFont

PLANTED = "PLANTED-7f3a"
SCRIPT = f'<img src="x" onerror="alert(1)"><script>alert("{PLANTED}")</script>'

POST = r"""
    Title: Drill
    Date: 2026-05-01
    Slug: drill
    Tags: drills, faults

    The drill post, with inline math $e^{i\pi} + 1 = 0$ and a display:

    $$
    \int_0^1 x\,dx = \tfrac{1}{2}
    $$

    ```python exec alt="A line"
    import matplotlib.pyplot as plt
    print("drill output")
    plt.plot([0, 1], [0, 2])
    ```
    """


def only(paths) -> Path:
    found = [p for p in paths if p.is_file()]
    assert len(found) == 1, found
    return found[0]


class Kept:
    """The derived files of the drill site's cache."""

    def __init__(self, cache: Path):
        self.cache = cache

    @property
    def variant(self) -> Path:
        return only((self.cache / "variants").glob(f"*.{darkfigs.SUFFIX}.svg"))

    @property
    def highlight(self) -> Path:
        return only((self.cache / "highlight").glob("*.html"))

    @property
    def notebook(self) -> Path:
        return only((self.cache / "notebooks").glob("*/*.ipynb"))

    @property
    def font(self) -> Path:
        return only((self.cache / "mathkit").glob("*.woff2"))

    @property
    def formulas(self) -> Path:
        return self.cache / "mathkit" / "formulas.json"

    def all(self) -> list[Path]:
        return [self.variant, self.highlight, self.notebook, self.font, self.formulas]


def served(out: Path) -> dict[str, bytes]:
    """What a reader gets: the page, every feed, the notebook, the figures, the font."""
    files = {"page": out / "posts/drill/index.html",
             "notebook": out / "posts/drill/drill.ipynb",
             "font": out / "theme/fonts/math.woff2"}
    files |= {f"feed {p.relative_to(out)}": p for p in sorted((out / "feeds").rglob("*.xml"))}
    files |= {f"figure {p.name}": p for p in (out / "fences").iterdir()}
    return {name: path.read_bytes() for name, path in files.items()}


def warned(log: str, path: Path) -> bool:
    """The located warning of read_derived, naming the file."""
    return bool(re.search(rf"{re.escape(path.name)}: warning: corrupt derived file in the "
                          r"fence cache \([^)]*\); making it again", log))


def assert_nothing_planted(out: Path) -> None:
    """No planted text anywhere in the output; the page and the Atom feed, parsed, hold no
    script, no event handler and no planted element."""
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".ipynb", ".svg"):
            assert PLANTED not in path.read_text("utf-8", "replace"), path
    page = BeautifulSoup((out / "posts/drill/index.html").read_text("utf-8"), "html.parser")
    feed = feedparser.parse(str(out / "feeds/all.atom.xml"), sanitize_html=False,
                            resolve_relative_uris=False)
    assert not feed.bozo, feed.get("bozo_exception")
    (entry,) = feed.entries
    body = BeautifulSoup(entry.content[0].value, "html.parser")
    for soup in (page.select_one("article") or page, body):
        assert not soup.select("script, img[onerror], [onclick]")
        assert not [t for t in soup.find_all(True) if any(a.startswith("on") for a in t.attrs)]
        code = soup.select_one("div.fence-source pre")
        assert code.get_text() == ('import matplotlib.pyplot as plt\nprint("drill output")\n'
                                   "plt.plot([0, 1], [0, 2])\n")
        assert [m["alttext"] for m in soup.find_all("math")] == [
            r"e^{i\pi} + 1 = 0", r"\int_0^1 x\,dx = \tfrac{1}{2}"]


@pytest.fixture(scope="module")
def drill(tmp_path_factory) -> dict:
    """A cold build; every derived file damaged, then a warm build; the highlighted source
    and the formulas planted with valid checksums, then a build; a sealed forged dark figure
    and notebook, then a rerun build. Each build into its own output folder."""
    tmp = tmp_path_factory.mktemp("derived")
    content = tmp / "content"
    write_files(content, {"posts/drill.md": POST})
    kept = Kept(tmp / "cache")
    settings = {"FENCES_CACHE_PATH": str(kept.cache)}

    def build(name: str, **extra: object) -> dict:
        out = tmp / name
        proc = run_pelican(content, out, settings={**settings, **extra})
        log = proc.stdout + proc.stderr
        assert proc.returncode == 0, log[-4000:]
        return {"out": out, "log": log, "served": served(out)}

    runs = {"cold": build("cold")}
    runs["sound"] = {p.name: p.read_bytes() for p in kept.all()}

    # 1. damage: garbage with the old checksum line, planted markup, truncations
    variant, highlight, notebook, font, formulas = kept.all()
    damaged = {p.name: p for p in kept.all()}
    head = variant.read_bytes().partition(b"\n")[0]
    variant.write_bytes(head + b"\n<svg>garbage " + PLANTED.encode() + b"</svg>")
    highlight.write_bytes(highlight.read_bytes().replace(b"<pre>", f"<pre>{SCRIPT}".encode()))
    notebook.write_bytes(notebook.read_bytes()[:300])
    font.write_bytes(font.read_bytes()[:1000])
    formulas.write_bytes(formulas.read_bytes().replace(b"<mi>", f"{SCRIPT}<mi>".encode(), 1))
    runs["damaged"] = {**build("damaged"), "files": damaged,
                       "kept": {p.name: p.read_bytes() for p in kept.all()}}

    # 2. planted on purpose, checksums recomputed
    highlight, formulas = kept.highlight, kept.formulas
    html = unseal(highlight.name, highlight.read_bytes()).decode()
    highlight.write_bytes(seal(highlight.name, html.replace("drill output", PLANTED)
                               .replace("<pre>", f"<pre>{SCRIPT}").encode()))
    store = json.loads(unseal(formulas.name, formulas.read_bytes()))
    key = next(iter(store["formulas"]))
    store["formulas"][key]["markup"] = store["formulas"][key]["markup"].replace(
        "<mi>", f'<mi onclick="alert(1)">{PLANTED}', 1)
    formulas.write_bytes(seal(formulas.name, json.dumps(store).encode()))
    runs["forged"] = {**build("forged"), "files": {"highlight": highlight, "formulas": formulas},
                      "kept": {p.name: p.read_bytes() for p in kept.all()}}

    # 3. a forged dark figure and notebook that pass every check: only a rerun ignores them
    variant, notebook = kept.variant, kept.notebook
    svg = unseal(variant.name, variant.read_bytes())
    variant.write_bytes(seal(variant.name, svg.replace(b"</svg>", f"<!-- {PLANTED} --></svg>"
                                                       .encode())))
    ipynb = unseal(notebook.name, notebook.read_bytes())
    notebook.write_bytes(seal(notebook.name, ipynb.replace(b"drill output", PLANTED.encode())))
    runs["trusted"] = build("trusted")
    runs["rerun"] = build("rerun", FENCES_MODE="rerun")
    runs["kept"] = kept
    return runs


def test_a_damaged_derived_file_is_a_warning_and_made_again(drill):
    damaged = drill["damaged"]
    for path in damaged["files"].values():
        assert warned(damaged["log"], path), (path, damaged["log"][-3000:])
    assert "checksum mismatch" in damaged["log"]
    assert damaged["served"] == drill["cold"]["served"]  # page, feeds, notebook, figures, font
    assert_nothing_planted(damaged["out"])
    nbformat.validate(nbformat.read(damaged["out"] / "posts/drill/drill.ipynb", as_version=4))
    font = TTFont(str(damaged["out"] / "theme/fonts/math.woff2"))
    assert font.flavor == "woff2" and "MATH" in font


def test_a_damaged_derived_file_is_rewritten(drill):
    """The build that found them damaged made them again and kept them: the next build
    reads them back, without a word."""
    assert drill["damaged"]["kept"] == drill["sound"]
    assert not re.search(r"variants/.*: warning|notebooks/.*: warning|woff2: warning",
                         drill["forged"]["log"])


def test_markup_planted_with_a_recomputed_checksum_never_reaches_a_page(drill):
    forged = drill["forged"]
    for path in forged["files"].values():
        assert warned(forged["log"], path), forged["log"][-3000:]
    assert "not the highlighted code of this fence" in forged["log"]
    assert "is not this converter's" in forged["log"]
    assert forged["served"] == drill["cold"]["served"]
    assert_nothing_planted(forged["out"])
    assert forged["kept"] == drill["sound"]  # and rewritten


def test_rerun_reads_no_derived_file(drill):
    """A forged dark figure and notebook with valid checksums pass a normal build's checks
    (what a checksum cannot tell); a rerun makes every derived file again, serves the right
    ones and rewrites the forged ones."""
    trusted, rerun = drill["trusted"], drill["rerun"]
    assert PLANTED.encode() in trusted["served"]["notebook"]
    assert any(PLANTED.encode() in data for name, data in trusted["served"].items()
               if name.startswith("figure "))
    assert rerun["served"] == drill["cold"]["served"]
    assert "warning: corrupt derived file" not in rerun["log"]
    assert_nothing_planted(rerun["out"])
    assert {p.name: p.read_bytes() for p in drill["kept"].all()} == drill["sound"]


# ---------------------------------------------------------------- a cache that cannot be written

BAD_ONLY = "Title: Bad\nDate: 2026-05-02\n\nOnly $\\frobnicate y$ here.\n"


@pytest.mark.parametrize("posts", [{"posts/drill.md": POST}, {"posts/bad.md": BAD_ONLY}],
                         ids=["math", "only-a-formula-that-fails"])
def test_pages_preload_only_a_math_font_that_is_in_the_output(tmp_path, posts):
    """The fence cache below a regular file (chmod does not stop root): nothing can be kept,
    and the math font is still written, so the pages that preload it find it; so does a
    page whose only formula cannot be converted (it still holds math, shown as TeX)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    write_files(tmp_path / "content", posts)
    out = tmp_path / "out"
    proc = run_pelican(tmp_path / "content", out,
                       settings={"FENCES_CACHE_PATH": str(blocker / "cache")})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert "cannot make the math font" not in log
    preloads = []
    for page in out.rglob("*.html"):
        soup = BeautifulSoup(page.read_text("utf-8"), "html.parser")
        for link in soup.select('link[rel="preload"][as="font"]'):
            rel = posixpath.normpath(posixpath.join(
                posixpath.dirname(page.relative_to(out).as_posix()), link["href"]))
            preloads.append(rel)
            assert (out / rel).is_file(), (page, link)
    assert "theme/fonts/math.woff2" in preloads
    assert TTFont(str(out / "theme/fonts/math.woff2")).flavor == "woff2"


# ---------------------------------------------------------------- the highlighted-source check

def pygments_html(code: str, lines: list[int] | None = None, language: str = "python") -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name

    return highlight(code, get_lexer_by_name(language),
                     HtmlFormatter(cssclass="highlight", hl_lines=lines or []))


@pytest.mark.parametrize("code", [
    'print("hi")',
    "\n\nx = 1  # <b>&amp; \"quoted\" 'single'\r\n\tif a<b>c:\r  pass\n\n",
    "",
    "\ufeffy = 2",
    "s = '&copy; &#60;script&#62;'",
])
def test_pygments_html_is_recognised(code):
    for lines in (None, [1, 2]):
        assert highlighted_code_matches(pygments_html(code, lines), code)
    assert highlighted_code_matches(pygments_html(code, language="text"), code)


@pytest.mark.parametrize("edit", [
    lambda h: h.replace("<pre>", f"<pre>{SCRIPT}"),  # planted markup
    lambda h: h.replace('class="nb"', 'class="nb" onclick="alert(1)"'),  # an attribute
    lambda h: h.replace("hi", "bye"),  # other code shown
    lambda h: h.replace("hi", "&lt;b&gt;"),  # escaped, but not the code
    lambda h: h.replace("</pre>", "</span></span></pre>"),  # closes what it did not open
    lambda h: h.replace("</pre></div>", "</pre></div><p>after</p>"),
    lambda h: "<div>" + h,
])
def test_anything_but_pygments_html_of_the_code_is_refused(edit):
    code = 'print("hi")'
    html = pygments_html(code)
    assert highlighted_code_matches(html, code)
    assert not highlighted_code_matches(edit(html), code)
