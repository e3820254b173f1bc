"""Math made at build time (plugins/execblog/markdown/math): real builds, MathML in pages and
feeds, no script; MATH_RENDERER="mathjax" as before; located warnings; the subset math font."""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, run_pelican, write_files
from execblog.kernel.store import unseal
from fontTools.ttLib import TTFont

ALPHA = r"""
    Title: Alpha
    Date: 2024-02-01
    Tags: words

    Alpha starts in plain words. No formula here.

    Inline $e^{2\pi \mathrm{i} k/n}$, a bar $\overline{z}$ and $\bigl( x \bigr)$.

    $$
    E = mc^2 \label{eq:energy}
    $$

    $$
    F = ma \tag{N2}
    $$

    From $\eqref{eq:energy}$, $\ref{eq:energy}$ and $x = \eqref{eq:energy}$.

    A broken formula $\text{a<b}$ here.

    Unknown $\eqref{eq:nope}$ there.

    ![Plot of $x^2$](data:image/png;base64,iVBORw0KGgo=){#fig-plot}
    """

GAMMA = r"""
    Title: Gamma
    Date: 2024-01-01
    Tags: sums

    Gamma sums $\sum_{k=1}^n k = \tfrac{n(n+1)}{2}$ in its first sentence. More.
    """

SOURCE_FONT = ROOT / "plugins/execblog/theme/static/fonts/latinmodern-math.otf"


def _lines(text: str) -> list[str]:
    return [line.removeprefix("    ") for line in text.lstrip("\n").splitlines()]


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(_lines(text), 1) if needle in line)


def _build(tmp: Path, name: str, settings: dict[str, object]):
    content = tmp / "content"
    if not content.exists():
        write_files(content, {"posts/alpha.md": ALPHA, "posts/gamma.md": GAMMA})
    out = tmp / name
    merged = {"FENCES_CACHE_PATH": str(tmp / "cache"), "DEFAULT_PAGINATION": 1}
    merged.update(settings)
    proc = run_pelican(content, out, settings=merged)
    return proc, out


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mathml")
    return {"tmp": tmp, "mathml": _build(tmp, "mathml", {}),
            "mathjax": _build(tmp, "mathjax", {"MATH_RENDERER": "mathjax"})}


def soup(out: Path, rel: str) -> BeautifulSoup:
    return BeautifulSoup((out / rel).read_text(encoding="utf-8"), "html.parser")


def math_scripts(page: BeautifulSoup) -> list:
    return [s for s in page.find_all("script")
            if "mathjax" in (s.get("src") or "").lower() or "mathjax" in (s.get("type") or "")]


def test_default_is_mathml_without_any_script(sites):
    proc, out = sites["mathml"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = soup(out, "posts/alpha/index.html")
    assert math_scripts(page) == []
    maths = page.find_all("math")
    assert len(maths) >= 6 and all(m.get("alttext") for m in maths)
    blocks = [m for m in maths if m.find_parent("div", class_="math")]
    assert blocks and all(m["display"] == "block" for m in blocks)
    assert page.select_one('link[rel="stylesheet"][href$="theme/css/math.css"]')
    preload = page.select_one('link[rel="preload"][as="font"]')
    assert preload["href"].endswith("theme/fonts/math.woff2") and preload.has_attr("crossorigin")
    assert "\\(" not in page.select_one(".post-content, article").get_text()


def test_converter_fixes_reach_the_page(sites):
    _proc, out = sites["mathml"]
    page = soup(out, "posts/alpha/index.html")
    upright = [mi.get_text() for mi in page.find_all("mi", mathvariant="normal")]
    assert "i" in upright
    over = page.find("mover", accent="true")
    assert over.find("mo").get_text() == "\u00af" and over.find("mo")["stretchy"] == "true"
    big = page.find("mo", minsize="1.2em")
    assert big["maxsize"] == "1.2em" and big["stretchy"] == "true"


def test_label_tag_and_references(sites):
    _proc, out = sites["mathml"]
    page = soup(out, "posts/alpha/index.html")
    energy = page.find(id="eq:energy")
    assert "xref-equation" in energy["class"] and energy.find("math")
    assert energy.select_one(".eq-number").get_text() == "(1)"
    tagged = [d for d in page.select("div.xref-equation") if not d.get("id")]
    assert [d.select_one(".eq-number").get_text() for d in tagged] == ["(N2)"]
    for math in page.find_all("math"):
        assert not re.search(r"\\(label|tag|eqref|ref)\b|N2|eq:energy", math.get_text())
    links = [(a["href"], a.get_text()) for a in page.select("a.xref")]
    assert links == [("#eq:energy", "(1)"), ("#eq:energy", "1")]
    inline = page.find("mrow", href="#eq:energy")
    assert inline.get_text() == "(1)"


def test_unconvertible_formula_is_located_and_shown_as_tex(sites):
    proc, out = sites["mathml"]
    log = proc.stdout + proc.stderr
    line = _line(ALPHA, r"\text{a<b}")
    assert (f"content/posts/alpha.md:{line}: warning: cannot convert this formula to MathML"
            in log), log
    unknown = _line(ALPHA, r"\eqref{eq:nope}")
    assert (f"content/posts/alpha.md:{unknown}: warning: unknown equation label in "
            "\\eqref{eq:nope}") in log
    code = soup(out, "posts/alpha/index.html").select("span.math > code.math-tex")
    assert [c.get_text() for c in code] == [r"\text{a<b}"]
    assert "Traceback" not in log


def test_math_machinery_only_where_a_page_or_card_shows_math(sites):
    _proc, out = sites["mathml"]
    # Pagination 1: the home page shows Alpha, whose first sentence has no math.
    for rel, has_math in [("index.html", False), ("index2.html", True),
                          ("tags/words/index.html", False), ("tags/sums/index.html", True),
                          ("posts/gamma/index.html", True), ("archives/index.html", False)]:
        page = soup(out, rel)
        links = page.select('link[href$="math.css"], link[href$="math.woff2"]')
        assert bool(links) == has_math, rel
        assert bool(page.find("math")) == has_math, rel
        assert math_scripts(page) == [], rel


def test_feeds_carry_the_pages_mathml(sites):
    _proc, out = sites["mathml"]
    feed = feedparser.parse(str(out / "feeds/all.atom.xml"), sanitize_html=False)
    alpha = next(e for e in feed.entries if e.title == "Alpha")
    body = BeautifulSoup(alpha.content[0].value, "html.parser")
    page = soup(out, "posts/alpha/index.html")
    assert [str(m) for m in body.find_all("math")] == [str(m) for m in page.find_all("math")]


def test_subset_font_is_small_and_keeps_the_math_table(sites):
    _proc, out = sites["mathml"]
    font_path = out / "theme/fonts/math.woff2"
    assert font_path.stat().st_size < SOURCE_FONT.stat().st_size / 5
    assert not (out / "theme/fonts/latinmodern-math.otf").exists()  # the source stays home
    assert (out / "theme/fonts/GUST-FONT-LICENSE.txt").is_file()
    font = TTFont(str(font_path))
    assert font.flavor == "woff2"
    cmap = font.getBestCmap()
    variants = font["MATH"].table.MathVariants
    vertical = dict(zip(variants.VertGlyphCoverage.glyphs, variants.VertGlyphConstruction,
                        strict=True))
    paren = vertical[cmap[ord("(")]]
    assert len(paren.MathGlyphVariantRecord) > 1 and paren.GlyphAssembly is not None
    horizontal = dict(zip(variants.HorizGlyphCoverage.glyphs, variants.HorizGlyphConstruction,
                          strict=True))
    assert horizontal[cmap[0x00AF]].GlyphAssembly is not None  # \overline stretches
    for char in ("\u03c0", "\U0001d458", "\u2211"):  # pi, italic k, the sum sign
        assert ord(char) in cmap, hex(ord(char))
    assert ord("\u4e00") not in cmap
    css = (out / "theme/css/math.css").read_text(encoding="utf-8")
    assert 'url("../fonts/math.woff2")' in css and "font-display: optional" in css
    assert re.search(r"math\s*\{\s*font-family:[^;]*, math;", css)


def test_warm_build_reuses_the_cached_subset(sites):
    tmp = sites["tmp"]
    (cached,) = (tmp / "cache/mathkit").glob("*.woff2")
    before = (cached.stat().st_ino, cached.read_bytes())
    proc, out = _build(tmp, "again", {})
    assert proc.returncode == 0
    assert [p.name for p in (tmp / "cache/mathkit").glob("*.woff2")] == [cached.name]
    assert (cached.stat().st_ino, cached.read_bytes()) == before  # read, not written again
    assert "corrupt derived file" not in proc.stdout + proc.stderr
    # kept with its checksum (execblog.kernel.store.seal), served as the font itself
    assert (out / "theme/fonts/math.woff2").read_bytes() == unseal(cached.name,
                                                                    cached.read_bytes())
    # The conversions are stored too, and a warm build's MathML is the cold build's.
    assert (tmp / "cache/mathkit/formulas.json").stat().st_size > 0
    cold = soup(sites["mathml"][1], "posts/alpha/index.html").find_all("math")
    assert [str(m) for m in soup(out, "posts/alpha/index.html").find_all("math")] == [
        str(m) for m in cold]


def test_mathjax_renderer_keeps_the_script_and_the_tex(sites):
    proc, out = sites["mathjax"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = soup(out, "posts/alpha/index.html")
    scripts = math_scripts(page)
    assert any("MathJax.js" in (s.get("src") or "") for s in scripts)
    assert page.find("math") is None and "\\(e^{2\\pi" in page.get_text()
    assert not page.select('link[href$="math.css"]')
    assert not (out / "theme/fonts/math.woff2").exists()
    assert not (out / "theme/fonts/latinmodern-math.otf").exists()
    assert "cannot convert this formula" not in proc.stdout + proc.stderr
    # Feeds still get MathML, from the same converter.
    feed = feedparser.parse(str(out / "feeds/all.atom.xml"), sanitize_html=False)
    alpha = next(e for e in feed.entries if e.title == "Alpha")
    body = BeautifulSoup(alpha.content[0].value, "html.parser")
    assert body.find("mi", mathvariant="normal").get_text() == "i"
    # TeX in a caption (here an image's alt text) is marked for MathJax, and MathML in feeds.
    caption = page.select_one("figure figcaption span.math")
    assert caption.get_text() == "\\(x^2\\)"
    assert page.select_one("figure img")["alt"] == "Plot of x²"
    assert body.select_one("figcaption math")["alttext"] == "x^2"


def test_strict_build_fails_on_an_unconvertible_formula(site):
    post = "Title: Strict\nDate: 2024-01-01\n\nFine $x$.\n\nBad $\\frobnicate y$.\n"
    build = site({"posts/s.md": post}, settings={"FENCES_STRICT": True})
    assert build.returncode == 1, build.log
    located = ("content/posts/s.md:6: error: cannot convert this formula to MathML "
               "(unsupported command \\frobnicate)")
    assert located in build.log
    assert "1 site error(s) (strict mode): " + located in build.log
    assert "Traceback" not in build.log


def test_a_fence_printing_math_of_its_own_gets_its_characters_in_the_font(tmp_path):
    """The font is made ahead from the prose's math while fences run; a fence whose output
    adds a character (aleph, here) gets a font made for the final characters instead."""
    post = ("Title: Beta\nDate: 2024-01-02\n\nProse with $x^2$.\n\n"
            "```python exec output=asis\nprint(r'Printed $\\aleph_0$.')\n```\n")
    write_files(tmp_path / "content", {"posts/beta.md": post})
    out = tmp_path / "out"
    proc = run_pelican(tmp_path / "content", out,
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "\u2135" in soup(out, "posts/beta/index.html").find("div", class_="fence").get_text()
    cmap = TTFont(str(out / "theme/fonts/math.woff2")).getBestCmap()
    assert ord("\u2135") in cmap and ord("x") in cmap
    kept = sorted((tmp_path / "cache/mathkit").glob("*.woff2"))
    assert len(kept) == 2  # the guess from the prose, and the font for every character
    served = (out / "theme/fonts/math.woff2").read_bytes()
    assert served in [unseal(k.name, k.read_bytes()) for k in kept]
