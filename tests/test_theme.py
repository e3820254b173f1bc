"""The site's theme (theme/) and its template filters (plugins/execblog/themekit).

One development build and one publish build per module; every test reads their output.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, Build, run_pelican, write_files

sys.path.insert(0, str(ROOT / "plugins"))

from execblog.themekit.filters import reading_stats, toc  # noqa: E402

META_LINE = re.compile(r"^\d{2} \w{3} \d{4} · \d+ min · \d+ words · .+$")
LONG_WORDS = 600

POSTS = {
    "posts/alpha.md": """
        Title: Alpha post
        Date: 2024-01-05
        Tags: linear algebra, gpu
        Summary: Alpha summary about matrices.

        Alpha opening paragraph.

        ## First section

        Inline math $x^2 + y$ sits here.

        ### A subsection

        More text.

        ## Second section

        Done.
        """,
    # Exactly 10 counted words: prose, headings and code; not the SVG nor the script.
    "posts/beta.md": """
        Title: Beta post
        Date: 2024-02-07
        Tags: gpu

        Beta first paragraph without math.

        ## Only heading

        Text.

        <svg width="10" height="10"><text x="0" y="9">svg label words</text></svg>

        <script>var hiddenWords = "not counted";</script>

        ## Code

        ```python
        print("hi")
        ```
        """,
    "posts/gamma.md": f"""
        Title: Gamma post
        Date: 2024-03-09
        Tags: identities

        Euler wrote $e^{{i\\pi}} + 1 = 0$ in the summary.

        {" ".join(["lorem"] * LONG_WORDS)}
        """,
    "pages/about.md": """
        Title: About

        About this blog.
        """,
}
TITLES = {"alpha": "Alpha post", "beta": "Beta post", "gamma": "Gamma post"}
SUMMARIES = {
    "alpha": "Alpha summary about matrices.",
    "beta": "Beta first paragraph without math.",
    "gamma": "Euler wrote",
}
LOCAL_MATHJAX = "/mathjax/MathJax.js"


def _build(tmp: Path, **kwargs: object) -> Build:
    content, out = tmp / "content", tmp / "output"
    write_files(content, POSTS)
    settings = {"FENCES_CACHE_PATH": str(tmp / "cache"), **kwargs.pop("settings", {})}
    proc = run_pelican(content, out, settings=settings, **kwargs)
    build = Build(proc.returncode, proc.stdout + proc.stderr, out, content, tmp / "cache")
    assert build.returncode == 0, build.log
    return build


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return _build(tmp_path_factory.mktemp("theme-dev"))


@pytest.fixture(scope="module")
def pub(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return _build(
        tmp_path_factory.mktemp("theme-pub"),
        conf="publishconf.py",
        settings={"MATHJAX_SOURCE": LOCAL_MATHJAX, "MATH_RENDERER": "mathjax"},
    )


def _pages(build: Build) -> dict[str, BeautifulSoup]:
    return {
        str(p.relative_to(build.output)): BeautifulSoup(p.read_text("utf-8"), "html.parser")
        for p in sorted(build.output.rglob("*.html"))
    }


def _meta(node: BeautifulSoup) -> str:
    return " ".join(node.select_one("p.post-meta").get_text().split())


def _mathjax_srcs(soup: BeautifulSoup) -> list[str]:
    return [s["src"] for s in soup.select("script[src]") if "MathJax" in s["src"]]


def _norm(path: Path) -> str:
    """Normalise a relative output path ("a/b/../../c" -> "c")."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


# ---------- filters, directly ----------


def test_reading_stats_counts_prose_and_code_only() -> None:
    html = (
        '<h2 id="a">Head <a class="headerlink" href="#a">#</a></h2><p>one two, three = ·</p>'
        "<script>var a = b;</script><style>p { x: y }</style>"
        "<svg><text>label</text></svg><math><mi>x</mi></math><pre><code>x = 1</code></pre>"
    )
    stats = reading_stats(html)
    assert (stats.words, stats.minutes) == (6, 1)  # Head one two, three x 1
    assert reading_stats(" ".join(["w"] * 221)).minutes == 2
    assert reading_stats("").minutes == 1
    # Inline markup does not split a word; block boundaries do.
    assert reading_stats("<p>x<sub>2</sub> and <em>foo</em>bar</p><p>end</p>").words == 4


def test_toc_nests_h3_and_strips_permalinks() -> None:
    html = (
        '<h2 id="a">A<a class="headerlink" href="#a">#</a></h2><h3 id="b">B &amp; c</h3>'
        '<h3>no id</h3><h2 id="d">D</h2>'
    )
    nav = BeautifulSoup(str(toc(html)), "html.parser").nav
    assert nav["class"] == ["toc"] and nav["aria-label"] == "Contents"
    top = nav.ol.find_all("li", recursive=False)
    assert [li.a.get_text() for li in top] == ["A", "D"]
    assert [(a["href"], a.get_text()) for a in top[0].ol.find_all("a")] == [("#b", "B & c")]
    assert toc('<h2 id="a">only one</h2><h4 id="x">deep</h4>') == ""


# ---------- development build ----------


def test_home_lists_every_post_with_summary_and_meta(dev: Build) -> None:
    soup = dev.html("index.html")
    entries = {
        e.select_one(".entry-title").get_text(strip=True): e for e in soup.select("article.entry")
    }
    assert list(entries) == ["Gamma post", "Beta post", "Alpha post"]  # newest first
    for slug, title in TITLES.items():
        entry = entries[title]
        assert SUMMARIES[slug] in entry.get_text()
        assert META_LINE.match(_meta(entry)), _meta(entry)
    assert _meta(entries["Beta post"]) == "07 Feb 2024 · 1 min · 10 words · The Execblog Team"
    gamma_words = int(re.search(r"(\d+) words", _meta(entries["Gamma post"])).group(1))
    assert LONG_WORDS < gamma_words < LONG_WORDS + 20
    assert f"· {math.ceil(gamma_words / 220)} min ·" in _meta(entries["Gamma post"])


def test_post_page_meta_toc_tags_and_neighbours(dev: Build) -> None:
    soup = dev.post("alpha-post")
    assert soup.h1.get_text(strip=True) == "Alpha post"
    assert META_LINE.match(_meta(soup.select_one("header.post-header")))
    nav = soup.select_one("nav.toc")
    links = [(a["href"], a.get_text()) for a in nav.find_all("a")]
    assert links == [
        ("#first-section", "First section"),
        ("#a-subsection", "A subsection"),
        ("#second-section", "Second section"),
    ]
    for href, _ in links:
        assert soup.find(id=href[1:]) is not None
    tags = {a.get_text(): a["href"] for a in soup.select(".post-tags a")}
    assert tags == {"linear algebra": "../../tags/linear-algebra/", "gpu": "../../tags/gpu/"}

    def neighbours(slug: str) -> dict[str, str]:
        page = dev.post(slug)
        return {
            a["rel"][0]: a.select_one(".title").get_text() for a in page.select("nav.paginav a")
        }

    assert neighbours("beta-post") == {"prev": "Alpha post", "next": "Gamma post"}
    assert neighbours("alpha-post") == {"next": "Beta post"}
    assert neighbours("gamma-post") == {"prev": "Beta post"}


def test_tag_page_links_its_feeds(dev: Build) -> None:
    page = "tags/gpu/index.html"
    soup = dev.html(page)
    assert [e.select_one(".entry-title").get_text(strip=True) for e in soup.select(".entry")] == [
        "Beta post",
        "Alpha post",
    ]
    expected = {"atom": "feeds/tags/gpu.atom.xml", "rss": "feeds/tags/gpu.rss.xml"}
    for kind, path in expected.items():
        head = soup.head.find(
            "link", rel="alternate", type=f"application/{kind}+xml", href=re.compile("tags")
        )
        visible = soup.select_one(f'main .feed-links a[type="application/{kind}+xml"]')
        assert _norm(Path(page).parent / head["href"]) == path
        assert _norm(Path(page).parent / visible["href"]) == path
        assert (dev.output / path).is_file()


def test_list_pages(dev: Build) -> None:
    tags = {
        a.contents[0].strip(): a.select_one(".count").get_text()
        for a in dev.html("tags/index.html").select(".terms a")
    }
    assert tags == {"gpu": "2", "identities": "1", "linear algebra": "1"}
    archive = dev.html("archives/index.html")
    assert [h.contents[0].strip() for h in archive.select(".archive-year h2")] == ["2024"]
    assert len(archive.select(".archive-list li")) == 3
    assert dev.html("about/index.html").h1.get_text() == "About"


def test_every_page_has_site_feeds_and_landmarks(dev: Build) -> None:
    pages = _pages(dev)
    assert len(pages) >= 10
    for name, soup in pages.items():
        feeds = {
            link["type"]: _norm(Path(name).parent / link["href"])
            for link in soup.head.select('link[rel="alternate"][type]')
            if "tags" not in link["href"]
            and "categories" not in link["href"]
            and "authors" not in link["href"]
        }
        assert feeds == {
            "application/atom+xml": "feeds/all.atom.xml",
            "application/rss+xml": "feeds/all.rss.xml",
        }, name
        assert soup.html["lang"] == "en"
        for landmark in ("header", "nav", "main", "footer"):
            assert soup.find(landmark) is not None, (name, landmark)
        assert soup.select_one('a.skip-link[href="#main"]') and soup.find(id="main")
        assert soup.select_one("button.theme-toggle")["aria-label"]
        for img in soup.find_all("img"):
            assert img.has_attr("alt"), name


def test_theme_applied_before_stylesheets(dev: Build) -> None:
    head = dev.html("index.html").head
    first_css = head.find("link", rel="stylesheet")
    inline = head.find("script", src=False)
    assert "localStorage" in inline.string and "data-theme" in inline.string
    assert inline.sourceline < first_css.sourceline
    hrefs = [link["href"].rsplit("/", 1)[1] for link in head.find_all("link", rel="stylesheet")]
    # The home page shows a card with math: math.css (mathkit) comes last, from its block.
    # The cards are plain summaries: none of the sheets for code, fences, diagrams, benchmarks.
    assert hrefs == ["main.css", "math.css"]


def test_dark_mode_css(dev: Build) -> None:
    main = dev.read("theme/css/main.css")
    assert '[data-theme="dark"]' in main and "prefers-color-scheme: dark" in main
    pyg = dev.read("theme/css/pygments.css")
    assert re.search(r"^\.highlight \.k \{", pyg, re.M)
    assert re.search(r'^\[data-theme="dark"\] \.highlight \.k \{', pyg, re.M)
    assert "@media (prefers-color-scheme: dark)" in pyg
    assert (dev.output / "theme/js/theme.js").is_file()


def test_no_third_party_requests_except_mathjax(dev: Build) -> None:
    mathjax_host = urlparse(dev_setting("MATHJAX_SOURCE")).netloc
    for name, soup in _pages(dev).items():
        for node in soup.select("script[src], link[href]"):
            url = node.get("src") or node["href"]
            host = urlparse(url).netloc
            assert host in ("", mathjax_host), (name, url)


# alpha has math in its body, gamma in its summary, which the lists of all posts show.
WITH_MATH = {
    "posts/alpha-post/index.html",
    "posts/gamma-post/index.html",
    "index.html",
    "tags/identities/index.html",
    "categories/notes/index.html",
    "authors/the-execblog-team/index.html",
}


def test_math_stylesheet_only_where_math_is(dev: Build) -> None:
    # MATH_RENDERER "mathml" (the default): MathML in the page, math.css, never MathJax.
    for name, soup in _pages(dev).items():
        assert _mathjax_srcs(soup) == [], name
        assert soup.find("script", type="text/x-mathjax-config") is None, name
        css = soup.select('link[rel="stylesheet"][href$="theme/css/math.css"]')
        assert len(css) == (1 if name in WITH_MATH else 0), name
        assert bool(soup.find("math")) == (name in WITH_MATH), name


def test_mathjax_only_where_math_is(pub: Build) -> None:
    # MATH_RENDERER "mathjax": the script, as configured, only where math is.
    for name, soup in _pages(pub).items():
        srcs = _mathjax_srcs(soup)
        if name in WITH_MATH:
            assert srcs == [LOCAL_MATHJAX], name
            config = soup.find("script", type="text/x-mathjax-config").string
            assert "processEnvironments: true" in config and 'messageStyle: "none"' in config
        else:
            assert srcs == [] and soup.find("script", type="text/x-mathjax-config") is None, name
        assert not soup.select('link[href$="math.css"]') and not soup.find("math"), name


# ---------- publish build ----------


def test_publish_uses_absolute_urls_and_configured_mathjax(pub: Build) -> None:
    siteurl = "https://example.github.io/execblog"
    alpha = pub.post("alpha-post")
    assert _mathjax_srcs(alpha) == [LOCAL_MATHJAX]
    assert alpha.head.find("link", rel="stylesheet")["href"] == f"{siteurl}/theme/css/main.css"
    assert (
        alpha.head.find("link", type="application/atom+xml")["href"]
        == f"{siteurl}/feeds/all.atom.xml"
    )
    tag = pub.html("tags/gpu/index.html")
    assert tag.select_one('.feed-links a[type="application/rss+xml"]')["href"] == (
        f"{siteurl}/feeds/tags/gpu.rss.xml"
    )
    for name, soup in _pages(pub).items():
        for node in soup.select("script[src], link[href]"):
            url = node.get("src") or node["href"]
            assert url == LOCAL_MATHJAX or url.startswith(siteurl + "/"), (name, url)


def dev_setting(name: str) -> str:
    """A value from pelicanconf.py, read the way Pelican reads it."""
    from pelican.settings import read_settings

    return read_settings(str(ROOT / "pelicanconf.py"))[name]
