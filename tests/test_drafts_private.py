"""Drafts and hidden content stay private: real builds, a real `invoke publish`.

A site with a published post and page, and a draft and a hidden post and page that all
carry one unique word. A publish deploys no file holding the word (pages, notebooks,
feeds, the search index, gzip'd or not) and its sitemap lists the published content only;
a development build writes the drafts for preview, but its search index and sitemap leave
them out too; and a publish told to write them (WRITE_DRAFTS / WRITE_HIDDEN) still keeps
them out of lists, feeds, the sitemap and the search index.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, Build, write_files
from execblog.formats.search import find_pagefind, indexed_pages
from lxml import etree
from test_tasks import ENV, log

WORD = "quixotrelm"  # in every draft and hidden post and page, nowhere else
SITEURL = "https://example.github.io/execblog"

FILES = {
    "posts/public.md": """
        Title: Public post
        Slug: public
        Date: 2026-03-01 10:00
        Tags: numerics

        Published words about a wallaby.

        ```python exec
        print(sum(range(10)))
        ```
        """,
    "pages/about.md": """
        Title: About

        A published page.
        """,
    "posts/draft.md": f"""
        Title: Draft {WORD}
        Slug: draft-post
        Date: 2026-03-02 10:00
        Status: draft
        Tags: numerics

        Draft prose: {WORD}.

        ```python exec
        print("{WORD}" + "-output")
        ```
        """,
    "posts/hidden.md": f"""
        Title: Hidden post
        Slug: hidden-post
        Date: 2026-03-03 10:00
        Status: hidden
        Tags: numerics

        Hidden prose: {WORD}.

        ```python exec
        print("{WORD}" + "-hidden-output")
        ```

        ```python exec alt="A line"
        import matplotlib.pyplot as plt
        plt.plot([0, 1])
        ```
        """,
    "pages/draft-page.md": f"""
        Title: Draft page
        Slug: draft-page
        Status: draft

        Draft page prose: {WORD}.
        """,
    "pages/hidden-page.md": f"""
        Title: Hidden page
        Slug: hidden-page
        Status: hidden

        Hidden page prose: {WORD}.
        """,
}
UNLISTED_PAGES = {"drafts/draft-post.html", "posts/hidden-post/index.html",
                  "drafts/pages/draft-page.html", "hidden-page/index.html"}

needs_pagefind = pytest.mark.skipif(find_pagefind() is None,
                                    reason="Pagefind is not installed (pip install -e '.[test]')")


def file_bytes(path: Path) -> bytes:
    """A file's bytes, decompressed when gzip'd (Pagefind's index and fragments are, behind
    their signature: gzip first)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def holding(tree: Path, word: str = WORD) -> list[str]:
    """Every file under tree whose (decompressed) bytes contain word."""
    return sorted(str(p.relative_to(tree)) for p in tree.rglob("*")
                  if p.is_file() and word.encode() in file_bytes(p))


def search(output: Path, word: str) -> list[str]:
    """What a Pagefind query for word can find: the URLs of the indexed pages whose content
    or title holds it, and whether its word index holds it at all (then a URL stands for
    the index)."""
    bundle = output / "pagefind"
    found = []
    for path in (bundle / "fragment").glob("*.pf_fragment"):
        record = json.loads(file_bytes(path).removeprefix(b"pagefind_dcd"))
        if word in record["content"].lower() or word in record["meta"]["title"].lower():
            found.append(record["url"])
    stem = word[:6].encode()  # the word index holds stems ("sums" -> "sum")
    if any(stem in file_bytes(p) for p in (bundle / "index").glob("*.pf_index")):
        found.append("<word index>")
    return sorted(found)


def sitemap_urls(output: Path) -> set[str]:
    root = etree.fromstring((output / "sitemap.xml").read_bytes())
    return {loc.text for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}


# --- a real publish --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("private")
    write_files(base / "content", FILES)
    proc = subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), "publish",
         "--content", str(base / "content"), "--output", str(base / "output"),
         "--set", f"FENCES_CACHE_PATH={base / 'cache'}", "--set", f"SITEURL={SITEURL}",
         "--method", "directory",
         "--directory", str(base / "deploy")],
        cwd=base, capture_output=True, text=True, timeout=300, env=ENV)
    return {"proc": proc, "output": base / "output", "deploy": base / "deploy"}


def test_publish_deploys_nothing_of_drafts_or_hidden_content(published):
    proc, deploy = published["proc"], published["deploy"]
    assert proc.returncode == 0, log(proc)
    assert (deploy / "posts/public/index.html").is_file()  # the published post is there
    assert (deploy / "about/index.html").is_file()
    assert holding(deploy) == [], "draft or hidden text was deployed"
    assert holding(published["output"]) == []
    for rel in UNLISTED_PAGES:
        assert not (deploy / rel).exists(), rel
    assert not (deploy / "drafts").exists()
    assert not list(deploy.glob("fences/*.svg")), "the hidden post's figure was deployed"
    assert not list(deploy.rglob("*draft*")) and not list(deploy.rglob("*hidden*"))
    for line in ("left out 1 draft post(s) (WRITE_DRAFTS is False)",
                 "left out 1 draft page(s) (WRITE_DRAFTS is False)",
                 "left out 1 hidden post(s) (WRITE_HIDDEN is False)",
                 "left out 1 hidden page(s) (WRITE_HIDDEN is False)"):
        assert f"sitefiles: {line}" in proc.stdout, log(proc)


@needs_pagefind
def test_publish_search_index_finds_published_content_only(published):
    deploy = published["deploy"]
    assert search(deploy, WORD) == []
    assert search(deploy, "wallaby") == ["/posts/public/", "<word index>"]


def test_publish_sitemap_and_feeds_list_published_content_only(published):
    deploy = published["deploy"]
    assert sitemap_urls(deploy) == {f"{SITEURL}/", f"{SITEURL}/posts/public/",
                                    f"{SITEURL}/about/"}
    feeds = [p for p in deploy.joinpath("feeds").rglob("*.xml")]
    assert feeds and not [p for p in feeds if WORD.encode() in p.read_bytes()]


# --- development builds ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev(tmp_path_factory) -> Build:
    from conftest import run_pelican

    base = tmp_path_factory.mktemp("dev-private")
    write_files(base / "content", FILES)
    proc = run_pelican(base / "content", base / "output",
                       settings={"FENCES_CACHE_PATH": str(base / "cache")})
    return Build(proc.returncode, proc.stdout + proc.stderr, base / "output",
                 base / "content", base / "cache")


def test_development_build_writes_drafts_for_preview(dev):
    assert dev.returncode == 0, dev.log[-3000:]
    for rel in UNLISTED_PAGES:
        assert WORD in dev.read(rel), rel
    assert list(dev.output.glob("fences/*.svg")), "the hidden post's figure, for preview"


@needs_pagefind
def test_development_search_index_leaves_drafts_out(dev):
    assert dev.returncode == 0, dev.log[-3000:]
    assert search(dev.output, WORD) == []
    assert search(dev.output, "wallaby") == ["/posts/public/", "<word index>"]


def test_development_sitemap_feeds_and_lists_leave_drafts_out(dev):
    assert dev.returncode == 0, dev.log[-3000:]
    base = "http://localhost:8000"  # FEED_DOMAIN
    assert sitemap_urls(dev.output) == {f"{base}/", f"{base}/posts/public/", f"{base}/about/"}
    listed = ["index.html", "archives/index.html", "tags/numerics/index.html",
              *(str(p.relative_to(dev.output)) for p in dev.output.joinpath("feeds").rglob("*"))]
    for rel in listed:
        if (dev.output / rel).is_file():
            assert WORD not in dev.read(rel), rel


@needs_pagefind
def test_publish_build_told_to_write_them_keeps_them_unlisted(site):
    """WRITE_DRAFTS / WRITE_HIDDEN = True in a publish build: the pages are written, and
    still out of the sitemap, the feeds and the search index."""
    build = site(FILES, conf="publishconf.py",
                 settings={"WRITE_DRAFTS": True, "WRITE_HIDDEN": True})
    assert build.returncode == 0, build.log[-3000:]
    for rel in UNLISTED_PAGES:
        assert WORD in build.read(rel), rel
    assert search(build.output, WORD) == []
    assert sitemap_urls(build.output) == {f"{SITEURL}/", f"{SITEURL}/posts/public/",
                                          f"{SITEURL}/about/"}
    assert not [p for p in build.output.joinpath("feeds").rglob("*")
                if p.is_file() and WORD.encode() in p.read_bytes()]


def test_indexed_pages_leave_out_unlisted_pages_and_the_index(tmp_path):
    write_files(tmp_path, {"index.html": "", "posts/a/index.html": "", "drafts/b.html": "",
                           "pagefind/x.html": "", "posts/a/data.json": "",
                           "hidden/index.html": ""})
    assert indexed_pages(tmp_path, "pagefind", {"drafts/b.html", "hidden/index.html"}) == [
        "index.html", "posts/a/index.html"]
