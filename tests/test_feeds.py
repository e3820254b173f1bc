"""Feeds (plugins/execblog/formats/feeds):
real publish/dev builds, every feed parsed with feedparser.

feedparser is asked not to sanitise or resolve URLs, so the assertions see the HTML that
feedkit wrote, not a cleaned-up copy.
"""

from __future__ import annotations

import runpy
import time
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, run_pelican, write_files
from lxml import etree

SITEURL = "https://blog.example.org/sub"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
ALIGNED = r"\begin{aligned} a &= b \\ c &= d \end{aligned}"

POSTS = {
    "posts/alpha.md": rf"""
        Title: Alpha
        Date: 2024-01-01
        Slug: alpha
        Category: Numerics
        Tags: math, shared

        First paragraph with inline math $a < b^2$ only.

        $$\int_0^1 x\,dx = \frac{{1}}{{2}}$$

        {ALIGNED}

        \begin{{equation}} E = mc^2 \end{{equation}}

        ![relative](images/x.png) and ![static]({{static}}/images/x.png)

        ALPHA-END marks the last paragraph.
        """,
    "posts/beta.md": """
        Title: Beta
        Date: 2024-01-02
        Slug: beta
        Category: GPU
        Tags: gpu, shared

        First paragraph of beta.

        [up](../alpha/), [file]({filename}alpha.md), [fragment](#sec),
        [mail](mailto:someone@example.org), [root](/about/), [ext](https://example.com/x).

        <p><img src="images/y.png" srcset="images/y.png 1x, images/y@2x.png 2x" alt="y"
        onerror="alert(1)"><a href="javascript:alert(1)" onclick="steal()">js</a></p>

        <script>document.write("bad")</script>

        BETA-END marks the last paragraph.
        """,
    "posts/gamma.md": """
        Title: Gamma
        Date: 2024-01-03
        Slug: gamma
        Category: Numerics
        Tags: gpu, shared

        Gamma has $x_1$ inline.

        <video src="clip.mp4" poster="../fences/abc.svg"></video>

        GAMMA-END marks the last paragraph.
        """,
}
MARKERS = {"alpha": "ALPHA-END", "beta": "BETA-END", "gamma": "GAMMA-END"}
TAGS = {"math": {"alpha"}, "shared": {"alpha", "beta", "gamma"}, "gpu": {"beta", "gamma"}}


def build(tmp: Path, files: dict[str, str], conf: str, settings: dict | None = None) -> Path:
    content, out = tmp / "content", tmp / "output"
    write_files(content, files)
    (content / "images").mkdir(parents=True, exist_ok=True)
    (content / "images" / "x.png").write_bytes(PNG)
    merged = {"FENCES_CACHE_PATH": str(tmp / "cache"), **(settings or {})}
    proc = run_pelican(content, out, conf=conf, settings=merged)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def parse(path: Path) -> feedparser.FeedParserDict:
    assert path.is_file(), f"missing feed {path}"
    feed = feedparser.parse(str(path), sanitize_html=False, resolve_relative_uris=False)
    assert not feed.bozo, f"{path}: {feed.get('bozo_exception')}"
    return feed


def entry_html(entry: feedparser.FeedParserDict) -> str:
    """Full content: Atom <content>, or RSS <description> (RSS_FEED_SUMMARY_ONLY=False)."""
    return entry.content[0].value if "content" in entry else entry.description


def slug_of(entry: feedparser.FeedParserDict) -> str:
    return urlsplit(entry.link).path.rstrip("/").rsplit("/", 1)[-1]


def url_values(soup: BeautifulSoup) -> list[str]:
    urls = []
    for tag in soup.find_all(True):
        urls += [tag[a] for a in ("href", "src", "poster") if tag.has_attr(a)]
        if tag.has_attr("srcset"):
            urls += [c.split()[0] for c in tag["srcset"].split(",") if c.strip()]
    return urls


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("feeds-publish")
    return build(tmp, POSTS, "publishconf.py", {"SITEURL": SITEURL})


@pytest.fixture(scope="module")
def feeds(published: Path) -> dict[str, feedparser.FeedParserDict]:
    """Every feed file of the build, by path relative to the output."""
    paths = sorted((published / "feeds").rglob("*.xml"))
    return {p.relative_to(published).as_posix(): parse(p) for p in paths}


def entries(feeds):
    for name, feed in feeds.items():
        for entry in feed.entries:
            yield name, entry, BeautifulSoup(entry_html(entry), "html.parser")


def test_every_tag_has_both_formats_at_exact_paths(published: Path, feeds) -> None:
    tag_files = {p.name for p in (published / "feeds" / "tags").iterdir()}
    assert tag_files == {f"{t}.{kind}.xml" for t in TAGS for kind in ("atom", "rss")}
    for tag, slugs in TAGS.items():
        for kind in ("atom", "rss"):
            feed = feeds[f"feeds/tags/{tag}.{kind}.xml"]
            assert {slug_of(e) for e in feed.entries} == slugs
    assert {slug_of(e) for e in feeds["feeds/all.atom.xml"].entries} == set(MARKERS)
    assert {slug_of(e) for e in feeds["feeds/all.rss.xml"].entries} == set(MARKERS)


def test_tag_and_category_with_same_slug_keep_separate_feeds(feeds) -> None:
    # Tag "gpu" and category "GPU" share the slug "gpu".
    assert {slug_of(e) for e in feeds["feeds/categories/gpu.atom.xml"].entries} == {"beta"}
    assert {slug_of(e) for e in feeds["feeds/tags/gpu.atom.xml"].entries} == {"beta", "gamma"}
    assert "feeds/authors/the-execblog-team.rss.xml" in feeds


def test_entries_carry_full_content(feeds) -> None:
    for name, entry, soup in entries(feeds):
        assert MARKERS[slug_of(entry)] in soup.get_text(), name
        assert entry.link.startswith(f"{SITEURL}/posts/"), name


def test_every_url_is_absolute_and_internal_ones_under_siteurl(feeds) -> None:
    allowed_outside = {"https://blog.example.org/about/", "https://example.com/x"}
    seen = 0
    for name, _entry, soup in entries(feeds):
        for url in url_values(soup):
            seen += 1
            parts = urlsplit(url)
            if parts.scheme in ("mailto", "data"):
                continue
            assert parts.scheme == "https" and parts.netloc, (name, url)
            assert url.startswith(SITEURL + "/") or url in allowed_outside, (name, url)
    assert seen > 20


def test_urls_resolve_against_the_entry_link(published: Path, feeds) -> None:
    by_slug = {slug_of(e): e for e in feeds["feeds/all.atom.xml"].entries}
    alpha = BeautifulSoup(entry_html(by_slug["alpha"]), "html.parser")
    srcs = {img["alt"]: img["src"] for img in alpha.find_all("img")}
    assert srcs == {
        "relative": f"{SITEURL}/posts/alpha/images/x.png",
        "static": f"{SITEURL}/images/x.png",
    }
    assert (published / "images" / "x.png").read_bytes() == PNG

    beta = BeautifulSoup(entry_html(by_slug["beta"]), "html.parser")
    hrefs = [a.get("href") for a in beta.find_all("a")]
    assert hrefs[:6] == [
        f"{SITEURL}/posts/alpha/",
        f"{SITEURL}/posts/alpha/",
        f"{SITEURL}/posts/beta/#sec",
        "mailto:someone@example.org",
        "https://blog.example.org/about/",
        "https://example.com/x",
    ]
    img = beta.find("img", alt="y")
    assert img["srcset"] == (
        f"{SITEURL}/posts/beta/images/y.png 1x, {SITEURL}/posts/beta/images/y@2x.png 2x"
    )

    gamma = BeautifulSoup(entry_html(by_slug["gamma"]), "html.parser")
    video = gamma.find("video")
    assert video["src"] == f"{SITEURL}/posts/gamma/clip.mp4"
    assert video["poster"] == f"{SITEURL}/posts/fences/abc.svg"


def test_no_scripts_or_handlers(feeds) -> None:
    for name, _entry, soup in entries(feeds):
        assert soup.find("script") is None, name
        for tag in soup.find_all(True):
            assert not [a for a in tag.attrs if a.startswith("on")], (name, tag)
            assert not str(tag.get("href", "")).startswith("javascript:"), (name, tag)
    beta = next(e for e in feeds["feeds/all.rss.xml"].entries if slug_of(e) == "beta")
    assert "document.write" not in entry_html(beta)
    assert ">js</a>" in entry_html(beta)  # the link text stays, only the hook goes


def test_math_is_mathml_without_tex_delimiters(feeds) -> None:
    for name, entry, soup in entries(feeds):
        html = entry_html(entry)
        assert "\\(" not in html and "$$" not in html, name
        if slug_of(entry) in ("alpha", "gamma"):
            assert "<math" in html, name
        for math in soup.find_all("math"):
            etree.fromstring(str(math))  # well-formed XML, usable by XHTML readers too
            assert math.get("alttext"), name


def test_display_math_and_fallback_for_bad_latex2mathml_output(feeds) -> None:
    alpha = next(e for e in feeds["feeds/all.atom.xml"].entries if slug_of(e) == "alpha")
    soup = BeautifulSoup(entry_html(alpha), "html.parser")
    inline = soup.find("span", class_="math").find("math")
    assert inline["display"] == "inline" and inline["alttext"] == "a < b^2"
    blocks = soup.find_all("div", class_="math")
    assert len(blocks) == 3
    assert blocks[0].find("math")["display"] == "block"
    assert blocks[0].find("mfrac") is not None
    # latex2mathml has no aligned (it left a bare "&"): mathkit converts it as split, a
    # table (formulas it cannot convert are shown as TeX: tests/test_mathml.py).
    assert blocks[1].find("math").find("mtable") is not None
    assert blocks[1].find("math")["alttext"] == ALIGNED
    assert blocks[2].find("math")["alttext"].startswith("\\begin{equation}")
    # The Atom summary (first paragraph) is converted too.
    summary = BeautifulSoup(alpha.summary, "html.parser")
    assert summary.find("math") is not None and "\\(" not in alpha.summary


CONTROL = {
    "posts/ctl.md": "Title: Bell\x07 and\x0b escape\x1b title\n"
    "Date: 2024-02-01\nSlug: ctl\nTags: shared\n\n"
    "Body with a vertical tab\x0b, an escape\x1b[31m and a form feed\x0c inside; "
    "math $y\x0b = 1$ too.\n\nCTL-END\x1b here.\n",
}


def test_control_characters_never_reach_feed_xml(tmp_path: Path) -> None:
    out = build(tmp_path, CONTROL, "publishconf.py", {"SITEURL": SITEURL})
    paths = sorted((out / "feeds").rglob("*.xml"))
    assert len(paths) >= 4
    for path in paths:
        raw = path.read_text(encoding="utf-8")
        assert not any(c in raw for c in "\x07\x0b\x0c\x1b"), path
        feed = parse(path)
        assert feed.entries, path
        entry = feed.entries[0]
        assert entry.title == "Bell and escape title"
        assert "CTL-END here." in entry_html(entry)
        assert "escape[31m" in entry_html(entry)


def test_dev_build_still_produces_feeds(tmp_path: Path) -> None:
    out = build(tmp_path, POSTS, "pelicanconf.py")
    for rel in ("feeds/all.atom.xml", "feeds/all.rss.xml", "feeds/tags/gpu.rss.xml"):
        feed = parse(out / rel)
        assert feed.entries, rel
    atom = parse(out / "feeds/all.atom.xml")
    alpha = next(e for e in atom.entries if slug_of(e) == "alpha")
    soup = BeautifulSoup(entry_html(alpha), "html.parser")
    assert soup.find("math") is not None
    # No SITEURL: Pelican wrote both "images/x.png", one relative to the page, one to the
    # site root ({static}); each resolves where it points, under FEED_DOMAIN.
    assert [img["src"] for img in soup.find_all("img")] == [
        f"{DEV_DOMAIN}/posts/alpha/images/x.png", f"{DEV_DOMAIN}/images/x.png"]


# -- the default (development) build: absolute feeds under FEED_DOMAIN ------------------------
DEV_DOMAIN = runpy.run_path(str(ROOT / "pelicanconf.py"))["FEED_DOMAIN"]
FIGURE_POSTS = {
    "posts/figs.md": """
        Title: Figures in feeds
        Date: 2024-05-06
        Slug: figs
        Tags: plots

        A plot, @fig-wave, and [the other post]({filename}other.md).

        ```python exec id=fig-wave caption="A wave"
        import numpy as np
        import matplotlib.pyplot as plt
        plt.plot(np.sin(np.linspace(0, 6, 50)))
        ```

        ![static]({static}/images/x.png), ![relative](../../images/x.png),
        [up](../other/), [root](/tags/plots/), [figure](#fig-wave).
        """,
    "posts/other.md": """
        Title: Other
        Date: 2024-05-07
        Slug: other
        Tags: plots
        Summary: See [the figures]({filename}figs.md) and ![a dot]({static}/images/x.png).

        Other body, [back]({filename}figs.md).
        """,
}


def dev_build(site, tmp_path: Path, settings: dict | None = None):
    images = tmp_path / "content" / "images"
    images.mkdir(parents=True, exist_ok=True)
    (images / "x.png").write_bytes(PNG)
    build = site(FIGURE_POSTS, settings=settings)  # the project's pelicanconf.py
    assert build.returncode == 0, build.log
    return build


def html_fields(entry: feedparser.FeedParserDict) -> list[str]:
    """Every HTML field of an entry: Atom content and summary, RSS description."""
    fields = [c.value for c in entry.get("content", [])]
    return fields + ([entry.summary] if entry.get("summary") else [])


def test_default_build_feeds_are_absolute_under_feed_domain(site, tmp_path: Path) -> None:
    assert DEV_DOMAIN.startswith("http")  # pelicanconf.py's FEED_DOMAIN, the feeds' domain
    build = dev_build(site, tmp_path)
    paths = sorted((build.output / "feeds").rglob("*.xml"))
    assert len(paths) >= 6
    images = links = 0
    for path in paths:
        feed = parse(path)
        name = path.relative_to(build.output).as_posix()
        assert feed.feed.link == f"{DEV_DOMAIN}/", name
        assert feed.entries, name
        for entry in feed.entries:
            slug, day = slug_of(entry), time.strftime("%Y-%m-%d", entry.published_parsed)
            assert entry.link == f"{DEV_DOMAIN}/posts/{slug}/", name
            assert "None" not in entry.id, (name, entry.id)
            assert entry.id == f"tag:{urlsplit(DEV_DOMAIN).hostname},{day}:/posts/{slug}/"
            for html in html_fields(entry):
                soup = BeautifulSoup(html, "html.parser")
                for img in soup.find_all("img"):
                    images += 1
                    src = img["src"]
                    assert src.startswith(DEV_DOMAIN + "/"), (name, src)
                    # It resolves: the file is in the output, where the URL says.
                    rel = urlsplit(src).path.removeprefix(urlsplit(DEV_DOMAIN).path)
                    assert (build.output / rel.lstrip("/")).is_file(), (name, src)
                for a in soup.find_all("a", href=True):
                    links += 1
                    assert urlsplit(a["href"]).scheme in ("http", "https"), (name, a)
                    assert a["href"].startswith(DEV_DOMAIN + "/"), (name, a["href"])
    assert images >= 2 * 4 and links >= 6 * 4

    atom = parse(build.output / "feeds/all.atom.xml")
    figs = next(e for e in atom.entries if slug_of(e) == "figs")
    soup = BeautifulSoup(entry_html(figs), "html.parser")
    srcs = [img["src"] for img in soup.find_all("img")]
    assert any(s.startswith(f"{DEV_DOMAIN}/fences/") for s in srcs), srcs  # the figure
    assert srcs[-2:] == [f"{DEV_DOMAIN}/images/x.png", f"{DEV_DOMAIN}/images/x.png"]
    hrefs = [a["href"] for a in soup.find_all("a") if not a.find("img")]
    assert hrefs == [f"{DEV_DOMAIN}/posts/figs/#fig-wave", f"{DEV_DOMAIN}/posts/other/",
                     f"{DEV_DOMAIN}/posts/other/", f"{DEV_DOMAIN}/tags/plots/",
                     f"{DEV_DOMAIN}/posts/figs/#fig-wave"]
    other = next(e for e in atom.entries if slug_of(e) == "other")
    summary = BeautifulSoup(other.summary, "html.parser")  # the author's Summary:
    assert summary.find("a")["href"] == f"{DEV_DOMAIN}/posts/figs/"
    assert summary.find("img")["src"] == f"{DEV_DOMAIN}/images/x.png"
    rss = parse(build.output / "feeds/all.rss.xml")
    assert rss.feed.link == f"{DEV_DOMAIN}/"


def test_without_any_absolute_domain_one_warning_and_urls_as_written(
        site, tmp_path: Path) -> None:
    build = dev_build(site, tmp_path, {"FEED_DOMAIN": ""})
    assert build.log.count("feedkit: warning: neither FEED_DOMAIN") == 1, build.log
    atom = parse(build.output / "feeds/all.atom.xml")
    figs = next(e for e in atom.entries if slug_of(e) == "figs")
    assert figs.link == "posts/figs/"
    srcs = [img["src"] for img in BeautifulSoup(entry_html(figs), "html.parser")("img")]
    assert srcs[-2:] == ["images/x.png", "../../images/x.png"]
