"""Search (plugins/execblog/formats/search + theme/templates/search.html): a real build indexes the
posts and pages with Pagefind into output/pagefind/, the search page loads Pagefind's UI from
there, and every page's nav links to it. Without Pagefind a build warns and goes on; a strict
build fails. (The browser test of the UI itself is in tests/test_browser.py.)
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from urllib.parse import urljoin

import pytest
from bs4 import BeautifulSoup
from conftest import run_pelican, write_files
from execblog.formats.search import find_pagefind

if find_pagefind() is None:
    pytest.skip("Pagefind is not installed (pip install -e '.[test]')", allow_module_level=True)

FILES = {
    "posts/alpha.md": """
        Title: Alpha post
        Slug: alpha
        Date: 2026-03-01 10:00
        Tags: one

        The quokka is a small marsupial.

        ## A heading with a permalink

        More words about wallabies.
        """,
    "posts/beta.md": """
        Title: Beta post
        Slug: beta
        Date: 2026-03-02 10:00

        Nothing about that animal here: only platypus.
        """,
    "pages/about.md": """
        Title: About

        This page mentions the echidna.
        """,
}


def build(tmp: Path, settings: dict[str, object] | None = None,
          env: dict[str, str] | None = None):
    write_files(tmp / "content", FILES)
    output = tmp / "output"
    merged: dict[str, object] = {"FENCES_CACHE_PATH": str(tmp / "cache")}
    merged.update(settings or {})
    proc = run_pelican(tmp / "content", output, settings=merged, env=env)
    return proc, output


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    proc, output = build(tmp_path_factory.mktemp("search"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return output


def html(output: Path, rel: str) -> BeautifulSoup:
    return BeautifulSoup((output / rel).read_text(encoding="utf-8"), "html.parser")


def fragments(output: Path) -> dict[str, dict]:
    """Pagefind's indexed pages by URL: its fragments are gzip'd JSON behind a signature."""
    found = {}
    for path in (output / "pagefind" / "fragment").glob("*.pf_fragment"):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd"), path
        record = json.loads(data[len(b"pagefind_dcd"):])
        found[record["url"]] = record
    return found


def test_the_index_holds_posts_and_pages_only(site: Path) -> None:
    entry = json.loads((site / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert entry["languages"]["en"]["page_count"] == 3
    indexed = fragments(site)
    assert set(indexed) == {"/posts/alpha/", "/posts/beta/", "/about/"}
    alpha = indexed["/posts/alpha/"]
    assert alpha["meta"]["title"] == "Alpha post"
    assert "quokka" in alpha["content"] and "wallabies" in alpha["content"]
    # The post's content only: no nav, footer or tag list; no heading permalink sign.
    assert "Archives" not in alpha["content"] and "Built with Pelican" not in alpha["content"]
    assert "#" not in alpha["content"]
    assert "echidna" in indexed["/about/"]["content"]


def test_the_search_page_loads_pagefind_ui_from_the_site(site: Path) -> None:
    page = html(site, "search/index.html")
    assert page.h1.get_text(strip=True) == "Search"
    assert page.select_one("#search") is not None
    assert page.find("meta", attrs={"name": "robots", "content": "noindex"}) is not None
    base = "http://site/search/"
    assets = [urljoin(base, t["href"]) for t in page.select('link[rel="stylesheet"]')]
    assets += [urljoin(base, t["src"]) for t in page.select("script[src]")]
    for name in ("pagefind/pagefind-ui.css", "pagefind/pagefind-ui.js"):
        assert f"http://site/{name}" in assets, assets
    for url in assets:  # everything from the site itself, and there
        assert url.startswith("http://site/"), url
        assert (site / url.removeprefix("http://site/")).is_file(), url
    assert (site / "pagefind" / "pagefind.js").is_file()


def test_only_the_search_page_loads_pagefind(site: Path) -> None:
    for rel in ("index.html", "posts/alpha/index.html", "about/index.html"):
        page = html(site, rel)
        loaded = [t.get("href") or t.get("src") for t in page.select("link[href], script[src]")]
        assert not [u for u in loaded if "pagefind" in u or "search" in u], (rel, loaded)


@pytest.mark.parametrize(("rel", "current"), [
    ("index.html", None), ("posts/alpha/index.html", None), ("archives/index.html", "Archives"),
    ("search/index.html", "Search"),
])
def test_the_nav_links_to_the_search_page(site: Path, rel: str, current: str | None) -> None:
    """Every page's nav has the Search link; the page the reader is on is marked current."""
    page = html(site, rel)
    link = next(a for a in page.select(".site-nav .menu a") if a.get_text() == "Search")
    base = "http://site/" + rel.removesuffix("index.html")
    assert urljoin(base, link["href"]) == "http://site/search/"
    marked = [a.get_text() for a in page.select('.site-nav a[aria-current="page"]')]
    assert marked == ([current] if current else []), marked


def test_a_build_without_pagefind_warns_and_goes_on(tmp_path: Path) -> None:
    proc, output = build(tmp_path, env={"PAGEFIND_BINARY_PATH": str(tmp_path / "no-pagefind")})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert "searchkit: Pagefind is not installed: pip install 'pagefind[bin]" in log, log[-3000:]
    assert (output / "search" / "index.html").is_file()
    assert not (output / "pagefind").exists()


def test_a_strict_build_without_pagefind_fails(tmp_path: Path) -> None:
    proc, _ = build(tmp_path, settings={"FENCES_STRICT": True},
                    env={"PAGEFIND_BINARY_PATH": str(tmp_path / "no-pagefind")})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 1, log[-3000:]
    assert "error: searchkit: Pagefind is not installed" in log
