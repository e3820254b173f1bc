"""Pelican's own features, kept with our theme, and what a blog already has winning over ours.

One real build of a small blog (our settings and plugins, pelicanconf.py's values with a few
overrides): a post and its French translation, a post with ``Modified:``, two categories,
pagination by 2, LINKS, SOCIAL and MENUITEMS, a draft, a hidden page and its own robots.txt
in content/extra/. Its HTML, sitemap.xml, feeds and Pagefind index are read back. Two more
builds: a blog with its own robots.txt, sitemap, 404 and search pages and feed settings, and
a blog in Pelican's own ``notmyidea`` theme (no search page, no 404 template) with no
absolute address.
"""

from __future__ import annotations

import gzip
import json
import runpy
import shutil
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import pytest
from conftest import ROOT, Build, run_pelican, write_files
from execblog.formats.search import build_index, find_pagefind
from execblog.formats.sitefiles.owned import plugin_named
from execblog.themekit.pelican_features import categories_in_use, language_name
from lxml import etree

DEV_BASE = "http://localhost:8000"  # pelicanconf.py's FEED_DOMAIN: the sitemap's base
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
WORD = "zanthoxyl"  # only in the draft and the hidden page
OWN_ROBOTS = "User-agent: *\nDisallow: /private/\n"

FILES = {
    "posts/hello.md": """
        Title: Hello
        Slug: hello
        Lang: en
        Date: 2024-01-01 10:00
        Category: numerics
        Tags: shared

        An English post.
        """,
    "posts/hello-fr.md": """
        Title: Bonjour
        Slug: hello
        Lang: fr
        Date: 2024-01-02 10:00
        Category: numerics
        Tags: shared

        Un billet en français.
        """,
    "posts/revised.md": """
        Title: Revised
        Slug: revised
        Date: 2024-02-01 10:00
        Modified: 2024-06-15 08:30
        Category: gpu
        Tags: shared

        A post revised later.
        """,
    "posts/third.md": """
        Title: Third
        Slug: third
        Date: 2024-03-01 10:00
        Category: gpu
        Tags: shared

        The third post.
        """,
    "posts/fourth.md": """
        Title: Fourth
        Slug: fourth
        Date: 2024-04-01 10:00
        Category: gpu

        The fourth post.
        """,
    "posts/draft.md": f"""
        Title: Draft post
        Slug: draft-post
        Date: 2024-05-01 10:00
        Status: draft
        Category: gpu
        Tags: shared

        Draft words: {WORD}.
        """,
    "pages/about.md": """
        Title: About
        Modified: 2024-02-03 12:00

        About this blog.
        """,
    "pages/secret.md": f"""
        Title: Secret page
        Slug: secret
        Status: hidden

        Hidden words: {WORD}.
        """,
    "extra/robots.txt": OWN_ROBOTS,
}
MENUITEMS = [["Projects", "https://example.org/projects/"]]
LINKS = [["Pelican", "https://getpelican.com/"], ["Python", "https://www.python.org/"]]
SOCIAL = [["Mastodon", "https://mastodon.example/@me"]]
POSTS = ["fourth", "third", "revised", "hello"]  # the default-language posts, newest first


def our_plugins() -> tuple[list[object], list[object]]:
    """PLUGINS and PLUGIN_PATHS as pelicanconf.py has them."""
    conf = runpy.run_path(str(ROOT / "pelicanconf.py"))
    return list(conf["PLUGINS"]), list(conf["PLUGIN_PATHS"])


def build(tmp: Path, files: dict[str, str], settings: dict[str, object]) -> Build:
    content, output = tmp / "content", tmp / "output"
    write_files(content, files)
    merged: dict[str, object] = {"FENCES_CACHE_PATH": str(tmp / "cache"), **settings}
    proc = run_pelican(content, output, settings=merged)
    built = Build(proc.returncode, proc.stdout + proc.stderr, output, content, tmp / "cache")
    assert built.returncode == 0, built.log[-4000:]
    return built


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return build(tmp_path_factory.mktemp("features"), FILES, {
        "DEFAULT_PAGINATION": 2, "MENUITEMS": MENUITEMS, "LINKS": LINKS, "SOCIAL": SOCIAL})


def absolute(page: str, href: str) -> str:
    """A link on output page `page` as a path from the site root ("/posts/x/")."""
    return urljoin("http://site/" + page, href).removeprefix("http://site")


def sitemap(built: Build) -> dict[str, etree._Element]:
    root = etree.parse(str(built.output / "sitemap.xml")).getroot()
    return {url.findtext(f"{SM}loc"): url for url in root.iter(f"{SM}url")}


def indexed(bundle: Path) -> dict[str, dict]:
    """Pagefind's indexed pages by URL (its fragments are gzip'd JSON behind a signature)."""
    found = {}
    for path in (bundle / "fragment").glob("*.pf_fragment"):
        data = gzip.decompress(path.read_bytes())
        record = json.loads(data[len(b"pagefind_dcd"):])
        found[record["url"]] = record
    return found


# ---------- translations ----------


def test_translations_link_each_other(blog: Build) -> None:
    """Each version has a language switch to the other and names both in its head."""
    en_page, fr_page = "posts/hello/index.html", "posts/hello/fr/index.html"  # *_LANG_SAVE_AS
    en, fr = blog.html(en_page), blog.html(fr_page)
    assert en.html["lang"] == "en" and fr.html["lang"] == "fr"
    for page, soup, here, there in ((en_page, en, "en", "fr"), (fr_page, fr, "fr", "en")):
        switch = soup.select_one("nav.lang-switch")
        assert switch["aria-label"] == "Languages"
        current = switch.select_one('[aria-current="page"]')
        assert current.name == "span" and current["lang"] == here
        link = switch.select_one("a")
        assert link["hreflang"] == there and link["lang"] == there
        assert absolute(page, link["href"]) == ("/posts/hello/fr/" if there == "fr"
                                                else "/posts/hello/")
        alternates = {a["hreflang"]: a["href"] for a in soup.head.select(
            'link[rel="alternate"][hreflang]')}
        assert alternates == {"en": "/posts/hello/", "fr": "/posts/hello/fr/"}, page
    assert [t.get_text() for t in en.select("nav.lang-switch li")] == ["English", "Français"]
    assert en.head.find("meta", property="og:locale:alternate")["content"] == "fr"


def test_translations_are_reachable_from_lists_and_the_sitemap(blog: Build) -> None:
    card = next(c for c in blog.html("index2.html").select("article.entry")
                if c.select_one(".entry-title").get_text(strip=True) == "Hello")
    also = card.select_one(".entry-translations a")
    assert also.get_text() == "Français" and also["hreflang"] == "fr"
    assert absolute("index2.html", also["href"]) == "/posts/hello/fr/"
    urls = sitemap(blog)
    for loc in (f"{DEV_BASE}/posts/hello/", f"{DEV_BASE}/posts/hello/fr/"):
        links = {link.get("hreflang"): link.get("href")
                 for link in urls[loc].findall(f"{XHTML}link") if link.get("rel") == "alternate"}
        assert links == {"en": f"{DEV_BASE}/posts/hello/", "fr": f"{DEV_BASE}/posts/hello/fr/"}
    assert urls[f"{DEV_BASE}/posts/third/"].findall(f"{XHTML}link") == []  # no translation


# ---------- menus, footer, categories ----------


def test_menuitems_pages_and_categories_in_the_header(blog: Build) -> None:
    page = "posts/third/index.html"
    menu = blog.html(page).select(".site-nav .menu a")
    links = {a.get_text(): absolute(page, a["href"]) for a in menu}
    assert links["Projects"] == "https://example.org/projects/"
    assert links["About"] == "/about/"  # DISPLAY_PAGES_ON_MENU
    assert links["gpu"] == "/categories/gpu/" and links["numerics"] == "/categories/numerics/"
    assert "Secret page" not in links  # a hidden page is never listed
    current = blog.html("categories/gpu/index.html").select(
        '.site-nav a[aria-current="page"]')
    assert [a.get_text() for a in current] == ["gpu"]
    assert blog.html(page).select('.site-nav a[aria-current="page"]') == []  # a post of gpu
    crumb = blog.html(page).select_one(".post-header .breadcrumbs a")
    assert crumb.get_text() == "gpu" and absolute(page, crumb["href"]) == "/categories/gpu/"


def test_links_and_social_in_the_footer(blog: Build) -> None:
    for page in ("index.html", "posts/hello/index.html", "about/index.html", "404.html"):
        footer = blog.html(page).select_one("footer.site-footer")
        blogroll = footer.select_one("nav.blogroll")
        assert blogroll.h2.get_text() == "Links"
        assert [[a.get_text(), a["href"]] for a in blogroll.select("a")] == LINKS
        social = footer.select_one("nav.social")
        assert [[a.get_text(), a["href"]] for a in social.select("a")] == SOCIAL
        assert social.a["rel"] == ["me"]


def test_categories_are_not_shown_when_everything_is_in_the_default_one() -> None:
    assert categories_in_use([("notes", [])], "notes") is False
    assert categories_in_use([], "notes") is False
    assert categories_in_use([("gpu", [])], "notes") is True
    assert categories_in_use([("notes", []), ("gpu", [])], "notes") is True
    assert language_name("fr") == "Français" and language_name("pt-br") == "Português (BR)"
    assert language_name("tlh") == "tlh"


# ---------- dates ----------


def test_a_modified_post_says_updated(blog: Build) -> None:
    soup = blog.post("revised")
    updated = soup.select_one(".post-header .post-meta .updated")
    assert updated.get_text(" ", strip=True) == "Updated 15 Jun 2024"
    assert updated.time["datetime"] == "2024-06-15T08:30:00+00:00"
    modified = soup.head.find("meta", property="article:modified_time")
    assert modified["content"] == "2024-06-15T08:30:00+00:00"
    card = next(c for c in blog.html("index2.html").select("article.entry")
                if "Revised" in c.get_text())
    assert card.select_one(".updated time")["datetime"] == "2024-06-15T08:30:00+00:00"
    # Without Modified: (DEFAULT_DATE = "fs" fills it from the file's mtime) no such line.
    third = blog.post("third")
    assert third.select_one(".updated") is None
    assert third.head.find("meta", property="article:modified_time") is None
    about = blog.html("about/index.html").select_one(".post-header .post-meta .updated")
    assert about.get_text(" ", strip=True) == "Updated 03 Feb 2024"
    assert about.time["datetime"] == "2024-02-03T12:00:00+00:00"
    lastmod = sitemap(blog)[f"{DEV_BASE}/posts/revised/"].findtext(f"{SM}lastmod")
    assert lastmod == "2024-06-15T08:30:00+00:00"
    feed = feedparser.parse(blog.read("feeds/all.atom.xml"))
    entry = next(e for e in feed.entries if e.title == "Revised")
    assert entry.updated.startswith("2024-06-15T08:30:00")


# ---------- pagination ----------


@pytest.mark.parametrize(("first", "second", "titles"), [
    ("index.html", "index2.html", [["Fourth", "Third"], ["Revised", "Hello"]]),
    ("tags/shared/index.html", "tags/shared/index2.html", [["Third", "Revised"], ["Hello"]]),
])
def test_lists_are_paginated_with_prev_and_next(blog: Build, first: str, second: str,
                                                titles: list[list[str]]) -> None:
    pages = [blog.html(first), blog.html(second)]
    assert [[e.select_one(".entry-title").get_text(strip=True) for e in p.select("article.entry")]
            for p in pages] == titles
    first_url = "/" + first.removesuffix("index.html")  # the list's own URL: "/tags/shared/"
    for soup, page, rel, target in ((pages[0], first, "next", "/" + second),
                                    (pages[1], second, "prev", first_url)):
        head = soup.head.find("link", rel=rel)
        assert absolute(page, head["href"]) == target
        visible = soup.select_one(f'nav.pagination a[rel="{rel}"]')
        assert absolute(page, visible["href"]) == target
        other = "prev" if rel == "next" else "next"
        assert soup.head.find("link", rel=other) is None
        assert soup.select_one(".pagination").get_text(" ", strip=True).count("Page") == 1
    assert "Page 2 of 2" in pages[1].select_one("nav.pagination").get_text()
    assert pages[1].title.get_text() == "Page 2 · " + pages[0].title.get_text()


# ---------- drafts and hidden content ----------


def test_drafts_and_hidden_pages_are_written_but_never_listed(blog: Build) -> None:
    assert WORD in blog.read("drafts/draft-post.html")  # WRITE_DRAFTS: preview
    assert WORD in blog.read("secret/index.html")  # WRITE_HIDDEN
    urls = sitemap(blog)
    assert not [u for u in urls if "draft" in u or "secret" in u], list(urls)
    for feed in ("feeds/all.atom.xml", "feeds/all.rss.xml", "feeds/tags/shared.atom.xml",
                 "feeds/categories/gpu.atom.xml"):
        parsed = feedparser.parse(blog.read(feed))
        assert parsed.entries and not [e for e in parsed.entries if "Draft" in e.title], feed
        assert WORD not in blog.read(feed)


@pytest.mark.skipif(find_pagefind() is None, reason="Pagefind is not installed")
def test_search_index_leaves_drafts_and_hidden_pages_out(blog: Build, tmp_path: Path) -> None:
    published = {"/posts/hello/", "/posts/hello/fr/", "/posts/revised/", "/posts/third/",
                 "/posts/fourth/", "/about/"}
    records = indexed(blog.output / "pagefind")
    assert set(records) == published
    assert not [r for r in records.values() if WORD in r["content"]]
    assert "Un billet en français." in records["/posts/hello/fr/"]["content"]
    # Pagefind run by hand over every page, drafts too: the theme marks only published
    # content for indexing.
    copy = tmp_path / "site"
    shutil.copytree(blog.output, copy, ignore=shutil.ignore_patterns("pagefind"))
    assert WORD in (copy / "drafts" / "draft-post.html").read_text(encoding="utf-8")
    ok, message = build_index(copy, "by-hand")
    assert ok, message
    assert set(indexed(copy / "by-hand")) == published


# ---------- what the blog already has wins ----------


def test_its_own_robots_txt_from_content_extra_wins(blog: Build) -> None:
    assert blog.read("robots.txt") == OWN_ROBOTS
    assert "sitefiles: the blog's own robots.txt (extra/robots.txt) is written to robots.txt" \
        in blog.log
    assert (blog.output / "sitemap.xml").is_file()  # ours, as the blog has none


OWN_SITEMAP_PLUGIN = '''
from pathlib import Path
from pelican import signals

def _write(pelican):
    Path(pelican.output_path, "sitemap.xml").write_text("<urlset>their own</urlset>")

def register():
    signals.finalized.connect(_write)
'''
OWN_FILES = {
    "posts/one.md": """
        Title: One
        Date: 2024-01-01

        A post.
        """,
    "pages/missing.md": """
        Title: Lost?
        Save_as: 404.html
        URL: 404.html
        Status: hidden

        Our very own 404 page.
        """,
    "pages/find.md": """
        Title: Find
        Save_as: search/index.html
        URL: search/

        Our very own search page.
        """,
    "static/robots-own.txt": OWN_ROBOTS,
}


@pytest.fixture(scope="module")
def owned(tmp_path_factory: pytest.TempPathFactory) -> Build:
    tmp = tmp_path_factory.mktemp("owned")
    write_files(tmp / "plugins", {"own_sitemap.py": OWN_SITEMAP_PLUGIN})
    plugins, paths = our_plugins()
    return build(tmp, OWN_FILES, {
        "PLUGINS": [*plugins, "own_sitemap"], "PLUGIN_PATHS": [*paths, str(tmp / "plugins")],
        "STATIC_PATHS": ["static"],
        "EXTRA_PATH_METADATA": {"static/robots-own.txt": {"path": "robots.txt"}},
        "WRITE_HIDDEN": False,  # as in publishconf: still, the hidden 404 page is written
        "FEED_ALL_ATOM": "atom.xml", "FEED_ALL_RSS": None})


def test_its_own_robots_sitemap_404_and_search_win(owned: Build) -> None:
    assert owned.read("robots.txt") == OWN_ROBOTS
    assert owned.read("sitemap.xml") == "<urlset>their own</urlset>"
    assert "Our very own 404 page." in owned.read("404.html")
    assert "Our very own search page." in owned.read("search/index.html")
    assert not (owned.output / "pagefind").exists()
    lines = [line for line in owned.log.splitlines() if "the blog's own" in line]
    assert lines == [
        "sitefiles: the blog's own 404 page (pages/missing.md) is kept at 404.html; "
        "Execblog's is not written",
        "searchkit: the blog's own search page (pages/find.md) is kept at search/index.html; "
        "Execblog's is not written; no Pagefind index is built",
        "sitefiles: the blog's own sitemap (own_sitemap) is kept; Execblog's is not written",
        "sitefiles: the blog's own robots.txt (static/robots-own.txt) is kept; Execblog's is "
        "not written",
    ], owned.log[-3000:]
    assert "is to be overwritten" not in owned.log


def test_its_own_feed_settings_are_kept(owned: Build) -> None:
    head = owned.html("index.html").head
    feeds = {link["type"]: link["href"] for link in head.select('link[rel="alternate"][type]')}
    assert feeds == {"application/atom+xml": "./atom.xml"}
    assert feedparser.parse(owned.read("atom.xml")).entries[0].title == "One"
    assert not (owned.output / "feeds" / "all.atom.xml").exists()
    assert not (owned.output / "feeds" / "all.rss.xml").exists()


def test_another_search_or_sitemap_plugin_is_recognised() -> None:
    settings = {"PLUGINS": ["execblog.formats.search", "execblog.formats.sitefiles", "tipue_search",
                            "pelican.plugins.sitemap"]}
    assert plugin_named(settings, "search") == "tipue_search"
    assert plugin_named(settings, "sitemap") == "pelican.plugins.sitemap"
    assert plugin_named({"PLUGINS": ["execblog.formats.search"]}, "search") is None
    assert plugin_named({"PLUGINS": ["research_notes", "sitemaps_extra"]}, "search") is None
    assert plugin_named({"PLUGINS": ["pelican-search"]}, "search") == "pelican-search"


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return build(tmp_path_factory.mktemp("notmyidea"), {
        "posts/one.md": "Title: One\nDate: 2024-01-01\n\nA post.\n"},
        {"THEME": "notmyidea", "FEED_DOMAIN": ""})  # and no absolute address: SITEURL is ""


def test_a_theme_without_search_or_404_pages_builds_without_them(foreign: Build) -> None:
    assert (foreign.output / "posts/one/index.html").is_file()
    assert not (foreign.output / "pagefind").exists()
    assert not (foreign.output / "search").exists() and not (foreign.output / "404.html").exists()
    said = [line for line in foreign.log.splitlines()
            if line.startswith(("sitefiles:", "searchkit:"))]
    assert said == [
        "sitefiles: the theme has no 404 page (404.html template); none is written",
        "searchkit: the theme has no search page (search.html template); none is written; "
        "no Pagefind index is built",
        "sitefiles: no sitemap.xml: a sitemap needs absolute URLs, and neither SITEURL nor "
        "FEED_DOMAIN is one (an absolute SITEURL in publishconf.py makes it)",
    ], foreign.log[-3000:]
    assert not (foreign.output / "sitemap.xml").exists()
    assert foreign.read("robots.txt") == "User-agent: *\nAllow: /\n"
    assert "Traceback" not in foreign.log
