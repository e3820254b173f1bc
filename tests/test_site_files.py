"""What readers and crawlers expect: sitemap.xml, robots.txt, a 404 page, a favicon, share
metadata and rel=canonical, TeX-free descriptions, one-link cards with a short summary, a
table of contents that is never double-numbered, a year in the footer and a month-grouped
archive. Pure logic is tested directly; the rest in one development and one publish build.
"""

from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, Build, run_pelican, write_files
from lxml import etree

sys.path.insert(0, str(ROOT / "plugins"))

from execblog.formats.sitefiles import base_url, robots_txt, sitemap_entries, sitemap_xml  # noqa: E402
from execblog.themekit import canonical_siteurl  # noqa: E402
from execblog.themekit.filters import toc  # noqa: E402
from execblog.themekit.summaries import (  # noqa: E402
    card_summary,
    first_sentence,
    meta_description,
    plain_text,
    shorten,
    tex_to_text,
    year_span,
)

SITEURL = "https://example.github.io/execblog"  # publishconf.py
DEV_BASE = "http://localhost:8000"  # pelicanconf.py's FEED_DOMAIN (`invoke serve`)
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

POSTS = {
    "posts/fft.md": r"""
        Title: Three ways to write an FFT
        Date: 2024-03-05 09:00
        Modified: 2024-06-01 10:30
        Tags: algorithms

        The FFT computes $X_k = \sum_j x_j e^{-2\pi i jk/n}$ in $O(n \log n)$ operations. It
        rests on one identity, see [the paper](https://example.org/paper).

        ## One identity

        Text.

        ## 1. The recursion

        Text.

        ## 2. In place, with bit reversal

        ### 2.1 The permutation

        Text.

        ## Do they agree?

        Text.
        """,
    "posts/authored.md": r"""
        Title: An authored summary
        Date: 2024-03-20 09:00
        Tags: algorithms
        Summary: Kept whole, math and all: $\alpha \le \tfrac12$. A second sentence stays.

        Body first paragraph. Not shown on the card.

        ## Alpha

        ## Beta
        """,
    "posts/abbrev.md": r"""
        Title: Abbreviations and decimals
        Date: 2024-01-10 09:00

        See Fig. 2 and e.g. the 3.7 GB figure in [a link](https://example.org/). The second
        sentence is not on the card.
        """,
    "posts/old.md": """
        Title: An older post
        Date: 2023-11-02 09:00

        Older text without math. More text.
        """,
    "pages/about.md": """
        Title: About
        Date: 2023-01-01 00:00

        About this blog, in $\\LaTeX$-free words.
        """,
}
SLUGS = ["an-authored-summary", "three-ways-to-write-an-fft", "abbreviations-and-decimals",
         "an-older-post"]  # newest first


def _build(tmp: Path, conf: str) -> Build:
    content, out = tmp / "content", tmp / "output"
    write_files(content, POSTS)
    proc = run_pelican(content, out, conf=conf,
                       settings={"FENCES_CACHE_PATH": str(tmp / "cache")})
    build = Build(proc.returncode, proc.stdout + proc.stderr, out, content, tmp / "cache")
    assert build.returncode == 0, build.log
    return build


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return _build(tmp_path_factory.mktemp("site-dev"), "pelicanconf.py")


@pytest.fixture(scope="module")
def pub(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return _build(tmp_path_factory.mktemp("site-pub"), "publishconf.py")


def _meta(soup: BeautifulSoup, key: str) -> str | None:
    node = soup.head.find("meta", attrs={"property": key}) or soup.head.find(
        "meta", attrs={"name": key})
    return node["content"] if node else None


def _sitemap(build: Build) -> dict[str, str | None]:
    root = etree.parse(str(build.output / "sitemap.xml")).getroot()
    assert root.tag == f"{SM}urlset"
    return {
        url.findtext(f"{SM}loc"): url.findtext(f"{SM}lastmod") for url in root.iter(f"{SM}url")
    }


# ---------- pure logic ----------


@pytest.mark.parametrize(("tex", "text"), [
    (r"\omega_n = e^{-2\pi i/n}", "ωₙ = e^(-2π i/n)"),
    (r"X_k = \sum_{j} x_j\, \omega_n^{jk}", "Xₖ = ∑ⱼ xⱼ ωₙʲᵏ"),
    (r"\tfrac12 x^\top A x", "1/2 xᵀ A x"),
    (r"\eta < 2/\lambda_{\max}(A)", "η < 2/λₘₐₓ(A)"),
    (r"\frac{a+b}{2} \cdot \sqrt{x}", "(a+b)/2 · √x"),
    (r"\mathrm{fl}(a+b) = (a+b)(1+\delta)", "fl(a+b) = (a+b)(1+δ)"),
    (r"\operatorname{sign} G", "sign G"),
    (r"\mathbb{R}^{n \times n}", "ℝ^(n × n)"),
    (r"E = mc^2 \label{eq:e} \tag{1}", "E = mc²"),
    (r"\left( \bigl[ x \bigr] \right) \$5 \unknown", "( [ x ]) 5 unknown"),
])
def test_tex_becomes_readable_text(tex: str, text: str) -> None:
    assert tex_to_text(tex) == text


def test_plain_text_reads_every_kind_of_math() -> None:
    assert plain_text('<p>Let <span class="math">\\(x^2\\)</span> be.</p>') == "Let x² be."
    assert plain_text('<div class="math">$$\\alpha$$</div>') == "α"
    assert plain_text('<code class="math-tex">\\beta</code>') == "β"
    mathml = ('<math alttext="\\pi r^2"><mi>π</mi></math> and <math><semantics><mrow><msup>'
              '<mi>x</mi><mn>2</mn></msup></mrow><annotation encoding="application/x-tex">'
              "y_1</annotation></semantics></math> and <math><mfrac><mi>a</mi><mi>b</mi>"
              "</mfrac><msub><mi>c</mi><mn>0</mn></msub></math>")
    assert plain_text(mathml) == "π r² and y₁ and a/bc₀"
    assert plain_text("Plain $a \\le b$ and \\(c\\) text") == "Plain a ≤ b and c text"
    assert shorten("one two three four", 12) == "one two…"


def test_first_sentence_keeps_math_and_skips_abbreviations() -> None:
    html = ('<p>On <span class="math">\\(f(x) = x. Y\\)</span> it works. Next.</p>'
            "<p>Second paragraph.</p>")
    assert first_sentence(html) == '<p>On <span class="math">\\(f(x) = x. Y\\)</span> it works.</p>'
    assert first_sentence("<p>See Fig. 2, e.g. 3.7 GB. Then more.</p>") == (
        "<p>See Fig. 2, e.g. 3.7 GB.</p>")
    assert first_sentence("<p>Ends <em>inside. Emphasis</em> and more.</p>") == (
        "<p>Ends <em>inside.</em></p>")
    assert first_sentence("<p>J. Smith wrote it. Yes.</p>") == "<p>J. Smith wrote it.</p>"
    assert first_sentence("<p>Only one sentence</p>") == "<p>Only one sentence</p>"
    assert first_sentence("") == ""


def test_cards_and_descriptions_from_content_objects() -> None:
    body = '<p>First <a href="x">link</a> here. Second.</p>'
    read = SimpleNamespace(summary=body, metadata={}, themekit_summary_is_authored=False)
    assert str(card_summary(read)) == "<p>First link here.</p>"
    authored = SimpleNamespace(summary=body, metadata={"summary": body},
                               themekit_summary_is_authored=True)
    assert str(card_summary(authored)) == "<p>First link here. Second.</p>"
    described = SimpleNamespace(summary=body, metadata={"description": "Uses $\\pi$."})
    assert meta_description(described) == "Uses π."


def test_toc_moves_a_headings_own_number_into_the_marker() -> None:
    html = ('<h2 id="a">One identity</h2><h2 id="b">1. The recursion</h2>'
            '<h3 id="c">1.1 Details</h3><h2 id="d">2) In place</h2><h2 id="e">3D plots</h2>')
    nav = BeautifulSoup(str(toc(html)), "html.parser")
    items = nav.select("li")
    assert [li.a.get_text() for li in items] == [
        "One identity", "The recursion", "Details", "In place", "3D plots"]
    assert [li.get("value") for li in items] == [None, "1", "1", "2", None]
    assert items[0]["class"] == ["toc-unnumbered"] and items[4]["class"] == ["toc-unnumbered"]
    plain = BeautifulSoup(str(toc('<h2 id="a">2024 results</h2><h2 id="b">B</h2>')),
                          "html.parser")
    assert [li.attrs for li in plain.select("li")] == [{}, {}]  # nothing numbers itself


def test_year_span_and_site_urls() -> None:
    def post(y: int) -> SimpleNamespace:
        return SimpleNamespace(date=datetime.datetime(y, 1, 1))

    assert year_span([post(2026), post(2024), post(2025)]) == "2024–2026"
    assert year_span([post(2026)]) == "2026"
    assert year_span([], fallback=2030) == "2030"
    assert canonical_siteurl(SITEURL + "/") == SITEURL
    assert canonical_siteurl("") == canonical_siteurl("..") == ""
    assert base_url({"SITEURL": SITEURL}) == SITEURL
    assert base_url({"SITEURL": "", "FEED_DOMAIN": DEV_BASE}) == DEV_BASE
    assert robots_txt(None) == "User-agent: *\nAllow: /\n"


def test_sitemap_xml_escapes_and_dates() -> None:
    when = datetime.datetime(2024, 5, 1, 9, tzinfo=datetime.UTC)
    posts = [SimpleNamespace(url="posts/a&b/", date=when, status="published"),
             SimpleNamespace(url="posts/draft/", date=when, status="draft")]
    entries = sitemap_entries("https://x.org", posts, [])
    assert [(e.loc, e.lastmod, e.alternates) for e in entries] == [
        ("https://x.org/", when, ()), ("https://x.org/posts/a&b/", when, ())]
    root = etree.fromstring(sitemap_xml(entries))
    assert [u.findtext(f"{SM}loc") for u in root] == ["https://x.org/", "https://x.org/posts/a&b/"]
    assert root[0].findtext(f"{SM}lastmod") == "2024-05-01T09:00:00+00:00"


# ---------- development build ----------


def test_dev_sitemap_and_robots(dev: Build) -> None:
    sitemap = _sitemap(dev)
    expected = [f"{DEV_BASE}/"] + [f"{DEV_BASE}/posts/{s}/" for s in SLUGS]
    assert list(sitemap) == expected + [f"{DEV_BASE}/about/"]
    robots = dev.read("robots.txt")
    assert robots.startswith("User-agent: *\n") and f"Sitemap: {DEV_BASE}/sitemap.xml" in robots


def test_dev_canonical_is_root_relative(dev: Build) -> None:
    post = dev.post("three-ways-to-write-an-fft")
    assert post.head.find("link", rel="canonical")["href"] == "/posts/three-ways-to-write-an-fft/"
    assert dev.html("index.html").head.find("link", rel="canonical")["href"] == "/"


def test_cards_are_one_link_with_a_short_summary(dev: Build) -> None:
    soup = dev.html("index.html")
    cards = soup.select("main article.entry")
    assert len(cards) == len(SLUGS)
    for card, slug in zip(cards, SLUGS, strict=True):
        links = card.find_all("a")
        assert len(links) == 1, card
        title = card.select_one(".entry-title").get_text(strip=True)
        assert links[0].get_text(strip=True) == title and links[0]["href"].endswith(f"/{slug}/")
    by_slug = {slug: card.select_one(".entry-summary") for card, slug in zip(cards, SLUGS,
                                                                               strict=True)}
    fft = by_slug["three-ways-to-write-an-fft"]
    assert fft.get_text().strip().endswith("operations.") and "rests on" not in fft.get_text()
    assert len(fft.select("span.math")) == 2  # math still rendered on the page
    authored = by_slug["an-authored-summary"].get_text()
    assert "A second sentence stays." in authored and "Body first" not in authored
    abbrev = by_slug["abbreviations-and-decimals"].get_text(" ", strip=True)
    assert abbrev == "See Fig. 2 and e.g. the 3.7 GB figure in a link."
    css = dev.read("theme/css/main.css")
    assert re.search(r"\.entry-link::after\s*\{[^}]*position:\s*absolute;[^}]*inset:\s*0", css)


def test_toc_is_never_double_numbered(dev: Build) -> None:
    nav = dev.post("three-ways-to-write-an-fft").select_one("nav.toc")
    items = nav.select("li")
    assert [li.a.get_text() for li in items] == [
        "One identity", "The recursion", "In place, with bit reversal", "The permutation",
        "Do they agree?"]
    for li in items:
        assert not re.match(r"\d", li.a.get_text()), li
    assert [li.get("value") for li in items] == [None, "1", "2", "1", None]


def test_toc_css_opens_on_wide_screens_without_script(dev: Build) -> None:
    css = dev.read("theme/css/main.css")
    wide = re.search(r"@media \(min-width: 768px\) \{\s*\.toc-box::details-content \{([^}]*)\}",
                     css)
    assert wide and "content-visibility: visible" in wide.group(1)
    assert re.search(r"\.toc li\.toc-unnumbered \{\s*list-style: none;", css)


def test_toc_is_closed_by_default_on_a_phone(dev: Build) -> None:
    box = dev.post("three-ways-to-write-an-fft").select_one("details.toc-box")
    assert box is not None and not box.has_attr("open")


def test_archive_groups_by_year_then_month(dev: Build) -> None:
    soup = dev.html("archives/index.html")
    years = soup.select("section.archive-year")
    assert [y.h2.contents[0].strip() for y in years] == ["2024", "2023"]
    months = {
        y.h2.contents[0].strip(): [
            (m.h3.contents[0].strip(), [a.get_text() for a in m.select(".archive-list a")])
            for m in y.select("section.archive-month")
        ]
        for y in years
    }
    assert months == {
        "2024": [("March", ["An authored summary", "Three ways to write an FFT"]),
                 ("January", ["Abbreviations and decimals"])],
        "2023": [("November", ["An older post"])],
    }
    assert years[0].select_one(".archive-month .count").get_text() == "2"
    assert soup.select_one(".archive-list time")["datetime"].startswith("2024-03-20")


def test_footer_shows_the_years_and_favicon_is_linked(dev: Build) -> None:
    for page in ("index.html", "posts/an-older-post/index.html", "404.html"):
        soup = dev.html(page)
        assert "© 2023–2024 " in soup.select_one("footer.site-footer").get_text(), page
        icon = soup.head.find("link", rel="icon")
        assert icon["type"] == "image/svg+xml"
        assert (dev.output / Path(page).parent / icon["href"]).resolve().is_file()
    svg = etree.parse(str(dev.output / "theme/favicon.svg")).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox") == "0 0 32 32"


# ---------- publish build ----------


def test_publish_sitemap_is_absolute_with_content_dates(pub: Build) -> None:
    sitemap = _sitemap(pub)
    assert list(sitemap) == (
        [f"{SITEURL}/"] + [f"{SITEURL}/posts/{s}/" for s in SLUGS] + [f"{SITEURL}/about/"])
    assert sitemap[f"{SITEURL}/posts/three-ways-to-write-an-fft/"] == "2024-06-01T10:30:00+00:00"
    assert sitemap[f"{SITEURL}/posts/an-authored-summary/"] == "2024-03-20T09:00:00+00:00"
    assert sitemap[f"{SITEURL}/"] == "2024-06-01T10:30:00+00:00"  # the newest change
    assert sitemap[f"{SITEURL}/about/"] == "2023-01-01T00:00:00+00:00"
    assert pub.read("robots.txt") == (
        f"User-agent: *\nAllow: /\n\nSitemap: {SITEURL}/sitemap.xml\n")


def test_publish_head_metadata(pub: Build) -> None:
    pages = {f"posts/{s}/index.html": f"{SITEURL}/posts/{s}/" for s in SLUGS}
    pages |= {"index.html": f"{SITEURL}/", "about/index.html": f"{SITEURL}/about/"}
    for rel, url in pages.items():
        soup = pub.html(rel)
        assert soup.head.find("link", rel="canonical")["href"] == url, rel
        assert _meta(soup, "og:url") == url
        assert _meta(soup, "og:site_name") == "Execblog"
        assert _meta(soup, "twitter:card") == "summary"
        is_post = rel.startswith("posts/")
        assert _meta(soup, "og:type") == ("article" if is_post else "website"), rel
        title = soup.h1.get_text(strip=True)
        assert _meta(soup, "og:title") == title and _meta(soup, "twitter:title") == title
        description = _meta(soup, "description")
        assert description and _meta(soup, "og:description") == description, rel
        assert "$" not in description and "\\" not in description and "<" not in description
    fft = pub.post("three-ways-to-write-an-fft")
    assert _meta(fft, "description") == (
        "The FFT computes Xₖ = ∑ⱼ xⱼ e^(-2π i jk/n) in O(n log n) operations.")
    assert _meta(pub.post("an-authored-summary"), "description") == (
        "Kept whole, math and all: α ≤ 1/2. A second sentence stays.")
    assert _meta(fft, "article:published_time") == "2024-03-05T09:00:00+00:00"
    assert _meta(fft, "article:modified_time") == "2024-06-01T10:30:00+00:00"
    assert _meta(pub.html("about/index.html"), "description") == (
        "About this blog, in LaTeX-free words.")


def test_publish_404_page(pub: Build) -> None:
    soup = pub.html("404.html")
    assert soup.h1.get_text(strip=True) == "Page not found"
    assert _meta(soup, "robots") == "noindex" and soup.head.find("link", rel="canonical") is None
    links = {a["href"] for a in soup.select("main a")}
    assert {f"{SITEURL}/", f"{SITEURL}/archives/"} <= links
    for node in soup.select("link[href], script[src], a[href]"):
        url = node.get("href") or node.get("src")
        assert url.startswith((SITEURL + "/", "#")), url  # works at any missing path
    assert f"{SITEURL}/404.html" not in _sitemap(pub)
