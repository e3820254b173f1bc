"""Clean feeds (plugins/execblog/formats/feeds):
no heading permalinks, honest `updated`, aligned numbers.

One real publish build; every feed is parsed with feedparser (no sanitising, no URL
resolution) and entry HTML with BeautifulSoup. Every source file's mtime is set to "now"
before the build, so a date taken from the file system would show up as today. git is a
real repository in which one undated post is committed at a fixed date and another is not;
``GIT_TRACE`` counts the git commands the build ran.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import run_pelican, write_files
from execblog.benchtables.html import render_html
from execblog.benchtables.model import BenchData
from execblog.formats.feeds.dates import HonestDates, parse_git_date
from execblog.formats.feeds.headings import permalink_class
from execblog.formats.feeds.rewrite import EntryRewriter
from execblog.formats.feeds.tables import text_align, with_right_alignment

SITEURL = "https://blog.example.org/sub"
UTC = datetime.UTC
GIT_DATE = "2025-06-07T08:09:10+02:00"

BIB = """
@article{doe2020,
  author = {Doe, Jane},
  title = {A Study},
  journal = {Journal of Things},
  year = {2020},
}
"""

# Numeric cells (class "num", for reading the test only) say their alignment one way or the
# other, as benchmark and Markdown tables do; the feed spells it both ways.
BENCH = """
<div class="bench-wrap"><table class="bench"><caption>Sums</caption>
<thead><tr><th scope="col">Case</th><th class="num" scope="col" align="right">n</th>
<th class="num" scope="col" style="text-align: right">Median</th></tr></thead>
<tbody><tr><td>sum</td><td class="num" style="text-align:right">1,000</td>
<td class="num" style="color: red; text-align: right">1.5 ms</td></tr>
<tr><td>sum</td><td class="num" style="TEXT-ALIGN:center;">10,000</td>
<td class="num" align="right">2.5 ms</td></tr></tbody></table>
<p class="bench-foot">NumPy.</p></div>

<table class="other"><tr><td class="num">7</td></tr></table>
"""

DATED = textwrap.dedent("""
        Title: Dated
        Date: 2024-01-05 10:00
        Slug: dated
        Tags: clean
        Bibliography: refs.bib

        A post with headings [@doe2020], see @sec-method and @eq-energy.

        ## Method {#sec-method}

        Energy is
        $$E = mc^2$$ {#eq-energy}
        as usual.

        ### Details

        > [!NOTE]
        > A note with $x^2$ inside.

        BENCH_HTML

        DATED-END
        """).replace("BENCH_HTML", BENCH)

POSTS = {
    "posts/dated.md": DATED,
    "posts/refs.bib": BIB,
    "posts/modified.md": """
        Title: Modified
        Date: 2024-01-01 08:00
        Modified: 2024-03-04 12:30
        Slug: modified
        Tags: clean

        ## Only heading

        MODIFIED-END
        """,
    "posts/undated.md": """
        Title: Undated
        Slug: undated
        Tags: undated

        No Date: git knows when it was last committed.
        """,
    "posts/nogit.md": """
        Title: No git
        Slug: nogit
        Tags: undated

        No Date and no git history.
        """,
}

EXPECTED_UPDATED = {
    "dated": datetime.datetime(2024, 1, 5, 10, 0, tzinfo=UTC),
    "modified": datetime.datetime(2024, 3, 4, 12, 30, tzinfo=UTC),
    "undated": datetime.datetime.fromisoformat(GIT_DATE),
}

@pytest.fixture(scope="module")
def built(tmp_path_factory) -> SimpleNamespace:
    tmp = tmp_path_factory.mktemp("feeds-clean")
    content, out = tmp / "content", tmp / "output"
    write_files(content, POSTS)
    now = time.time()
    for path in content.rglob("*"):
        os.utime(path, (now, now))  # a fresh clone: every file modified just now
    def git(*args: str, **env: str) -> None:
        subprocess.run(["git", *args], cwd=content, check=True, capture_output=True,
                       env={**os.environ, **env})

    git("init", "-q")
    git("add", "posts/undated.md")  # nogit.md stays untracked: no history
    git("-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-q", "-m", "post",
        GIT_AUTHOR_DATE=GIT_DATE, GIT_COMMITTER_DATE=GIT_DATE)
    trace = tmp / "git-trace.log"
    proc = run_pelican(
        content, out, conf="publishconf.py",
        settings={"SITEURL": SITEURL, "FENCES_CACHE_PATH": str(tmp / "cache")},
        env={"GIT_TRACE": str(trace)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    calls = [line.split("trace: built-in: ", 1)[1] for line in
             (trace.read_text().splitlines() if trace.exists() else [])
             if "trace: built-in: git log" in line]
    return SimpleNamespace(
        out=out, now=datetime.datetime.fromtimestamp(now, UTC),
        git_calls=calls,
    )


def parse(path: Path) -> feedparser.FeedParserDict:
    feed = feedparser.parse(str(path), sanitize_html=False, resolve_relative_uris=False)
    assert not feed.bozo, f"{path}: {feed.get('bozo_exception')}"
    return feed


@pytest.fixture(scope="module")
def feeds(built) -> dict[str, feedparser.FeedParserDict]:
    paths = sorted((built.out / "feeds").rglob("*.xml"))
    assert len(paths) >= 6
    return {p.relative_to(built.out).as_posix(): parse(p) for p in paths}


def slug(entry) -> str:
    return entry.link.rstrip("/").rsplit("/", 1)[-1]


def html_of(entry) -> str:
    return entry.content[0].value if "content" in entry else entry.description


def soups(feeds):
    for name, feed in feeds.items():
        for entry in feed.entries:
            yield name, entry, BeautifulSoup(html_of(entry), "html.parser")
            if entry.get("summary") and "content" in entry:
                yield name, entry, BeautifulSoup(entry.summary, "html.parser")


def when(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def entry_by_slug(feed, name: str):
    return next(e for e in feed.entries if slug(e) == name)


# --- heading permalinks ------------------------------------------------------------------


def test_no_heading_permalinks_or_bare_hash_links(built, feeds) -> None:
    headings = 0
    for name, _entry, soup in soups(feeds):
        assert not soup.select(".headerlink"), name
        for a in soup.find_all("a"):
            assert a.get_text(strip=True) != "#", (name, a)
            assert a.get("href", "").strip() not in ("", "#"), (name, a)
        for h in soup.find_all(["h2", "h3"]):
            assert not h.get_text().endswith("#"), (name, h)
            if h.find_parent("section", class_="references") is None:
                headings += 1
                assert h.get("id"), (name, h)  # the anchor target stays
    assert headings >= 8
    # Pages keep their permalinks: only feeds lose them.
    page = BeautifulSoup((built.out / "posts/dated/index.html").read_text(), "html.parser")
    assert len(page.select("h2 a.headerlink, h3 a.headerlink")) == 2


# --- updated ------------------------------------------------------------------------------


def test_updated_is_modified_or_date_never_the_mtime(feeds) -> None:
    checked = 0
    for name, feed in feeds.items():
        for entry in feed.entries:
            if name.endswith(".atom.xml") and slug(entry) in EXPECTED_UPDATED:
                assert when(entry.updated) == EXPECTED_UPDATED[slug(entry)], name
                checked += 1
    assert checked >= 3 * 4  # all, tag, category and author feeds
    atom = feeds["feeds/all.atom.xml"]
    assert when(entry_by_slug(atom, "dated").published) == EXPECTED_UPDATED["dated"]
    assert when(entry_by_slug(atom, "modified").published) == datetime.datetime(
        2024, 1, 1, 8, 0, tzinfo=UTC)


def test_feed_updated_is_the_latest_entry_not_today(feeds) -> None:
    # Dated posts only: an undated post's *published* is the file's time (DEFAULT_DATE =
    # "fs"), and a feed's updated is the latest published or updated of its entries.
    latest = EXPECTED_UPDATED["modified"]
    assert when(feeds["feeds/tags/clean.atom.xml"].feed.updated) == latest
    rss = feeds["feeds/tags/clean.rss.xml"]
    assert rss.feed.updated_parsed[:6] == latest.astimezone(UTC).timetuple()[:6]


def test_mtime_does_not_leak_where_the_post_has_a_date(built, feeds) -> None:
    today = built.now.date()
    for name, feed in feeds.items():
        for entry in feed.entries:
            if slug(entry) in EXPECTED_UPDATED and "updated" in entry:
                assert when(entry.updated).date() != today, (name, slug(entry))
    # Without Date, git and Modified the file's time is the post's date (Pelican's
    # DEFAULT_DATE = "fs"), and `updated` claims no later update than that.
    nogit = entry_by_slug(feeds["feeds/tags/undated.atom.xml"], "nogit")
    assert nogit.updated == nogit.published


def test_git_is_asked_only_about_undated_posts(built) -> None:
    assert built.git_calls, "git was never asked"
    assert all("--format=%cI" in c for c in built.git_calls)
    named = {c.rsplit(" ", 1)[-1] for c in built.git_calls}
    assert named == {"undated.md", "nogit.md"}
    assert len(built.git_calls) == 2  # memoised: one look-up per file, not per feed


def test_honest_dates_keep_the_authors_modified(tmp_path) -> None:
    source = tmp_path / "p.md"
    source.write_text("x")
    mtime = datetime.datetime.fromtimestamp(source.stat().st_mtime)
    date = datetime.datetime(2024, 1, 1, tzinfo=UTC)
    own = datetime.datetime(2024, 2, 2, tzinfo=UTC)
    calls = []
    dates = HonestDates({"DEFAULT_DATE": "fs", "TIMEZONE": "UTC"},
                        git=lambda p: calls.append(p) or None)

    def post(**kw):
        return SimpleNamespace(source_path=str(source), date_format="%Y-%m-%d",
                               metadata={"modified": kw.get("modified")}, **kw)

    kept = post(date=date, modified=own)
    dates.fix(kept)
    assert kept.modified == own and not calls
    from_fs = post(date=date, modified=mtime.replace(tzinfo=UTC))
    dates.fix(from_fs)
    assert from_fs.modified == date and from_fs.locale_modified == "2024-01-01"
    assert from_fs.metadata["modified"] == date and not calls
    undated = post(date=mtime.replace(tzinfo=UTC), modified=mtime.replace(tzinfo=UTC))
    dates.fix(undated)
    assert undated.modified == mtime.replace(tzinfo=UTC) and calls == [str(source)]
    # Not DEFAULT_DATE = "fs": nothing came from the file system, nothing changes.
    other = post(date=date, modified=mtime.replace(tzinfo=UTC))
    HonestDates({"DEFAULT_DATE": None}).fix(other)
    assert other.modified == mtime.replace(tzinfo=UTC)


def test_parse_git_date() -> None:
    assert parse_git_date(GIT_DATE + "\n") == datetime.datetime.fromisoformat(GIT_DATE)
    assert parse_git_date("2024-01-02T03:04:05Z") == datetime.datetime(
        2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_git_date("") is None
    assert parse_git_date("fatal: bad revision") is None
    assert parse_git_date("2024-01-02T03:04:05") is None  # no offset: not git's %cI


# --- benchmark tables ----------------------------------------------------------------------


def styles(cell) -> list[str]:
    return [d.strip().lower().replace(" ", "") for d in cell.get("style", "").split(";")
            if d.strip()]


def test_aligned_cells_are_aligned_both_ways(feeds) -> None:
    seen = 0
    for name, entry, soup in soups(feeds):
        if slug(entry) != "dated" or not soup.select("table.bench"):
            continue
        for cell in soup.select("table.bench th, table.bench td"):
            aligns = [s for s in styles(cell) if s.startswith("text-align:")]
            if "num" not in cell.get("class", []):
                assert not aligns and not cell.get("align"), (name, cell)
                continue
            seen += 1
            assert len(aligns) == 1, (name, cell)  # never a second text-align
            if cell.get_text() == "10,000":  # the author's own alignment wins
                assert aligns == ["text-align:center"] and cell.get("align") is None
            else:
                assert aligns == ["text-align:right"], (name, cell)
                assert cell.get("align") == "right", (name, cell)
            if cell.get_text() == "1.5 ms":
                assert "color:red" in styles(cell)  # other inline styles stay
        other = soup.select_one("table.other td.num")
        assert other is not None and not other.get("style"), name
    assert seen >= 5 * 4  # five numeric cells in each full-content entry of four feeds


def test_real_benchtables_markup_gets_aligned() -> None:
    row = {"case": "sum", "params": {"n": 1000}, "backend": "numpy", "median_s": 1e-3,
           "p25_s": 9e-4, "p75_s": 1.1e-3, "repeats": 5, "loops": 1, "timer": "perf_counter",
           "gbps": 4.0, "gflops": None, "speedup": None}
    table = BenchData(rows=[row], title="Sums", param_names=["n"], has_bytes=True,
                      requested=["numpy"], pretty={"numpy": "NumPy"})
    page = render_html(table)
    soup = BeautifulSoup(EntryRewriter()(page, SITEURL + "/posts/x/"), "html.parser")
    numeric = soup.select("table.bench .num")
    assert len(numeric) == 2 * 4  # n, Median, IQR, GB/s: header and cell
    for cell in numeric:
        assert styles(cell).count("text-align:right") == 1, cell
    assert all(not c.get("style") for c in soup.select("table.bench td:not(.num)"))
    # Feeding the feed version through again adds nothing.
    again = EntryRewriter()(str(soup), SITEURL + "/posts/x/")
    assert again.count("text-align") == str(soup).count("text-align")


def test_with_right_alignment() -> None:
    assert with_right_alignment(None) == "text-align:right"
    assert with_right_alignment("color: red") == "color: red;text-align:right"
    assert with_right_alignment("color:red;") == "color:red;text-align:right"
    assert with_right_alignment("text-align: right") == "text-align: right"
    assert with_right_alignment("x:1; Text-Align :left") == "x:1; Text-Align :left"
    assert with_right_alignment("--text-align-x: 1") == "--text-align-x: 1;text-align:right"
    assert with_right_alignment("", "center") == "text-align:center"
    assert text_align("color:red; text-align: Right !important") == "right"
    assert text_align("color:red") is None


# --- other plugins in feeds --------------------------------------------------------------


def test_callouts_citations_and_xrefs_read_sensibly(feeds) -> None:
    entry = entry_by_slug(feeds["feeds/all.atom.xml"], "dated")
    soup = BeautifulSoup(html_of(entry), "html.parser")
    note = soup.select_one(".admonition")
    assert note is not None and note.select_one(".admonition-title").get_text() == "Note"
    assert note.find("math") is not None
    refs = soup.select_one("section.references")
    assert refs is not None and "Doe" in refs.get_text() and refs.find("h2")
    citation = soup.select_one("a.citation")
    assert citation["href"] == f"{SITEURL}/posts/dated/#ref-doe2020"
    xrefs = {a.get_text(): a["href"] for a in soup.select("a.xref")}
    assert xrefs, html_of(entry)
    for text, href in xrefs.items():
        assert "#" not in text and text.strip(), xrefs  # never the permalink's "#"
        assert href.startswith(f"{SITEURL}/posts/dated/#"), xrefs
        assert soup.find(id=href.split("#", 1)[1]) is not None, href  # target is there


def test_permalink_class_follows_the_toc_setting() -> None:
    assert permalink_class({}) == "headerlink"
    toc = {"markdown.extensions.toc": {"permalink": "¶", "permalink_class": "anchor"}}
    assert permalink_class({"MARKDOWN": {"extension_configs": toc}}) == "anchor"
    rewriter = EntryRewriter(permalink_class="anchor")
    out = rewriter('<h2 id="a">A<a class="anchor" href="#a">¶</a> tail</h2>', "")
    assert out == '<h2 id="a">A tail</h2>'


def test_a_markdown_tables_right_aligned_column_is_aligned_both_ways() -> None:
    import markdown

    page = markdown.markdown("| x | n |\n|:--|--:|\n| a | 12 |\n", extensions=["tables"])
    soup = BeautifulSoup(EntryRewriter()(page, SITEURL + "/posts/x/"), "html.parser")
    left, right = soup.select("tbody td")
    assert right.get("align") == "right" and styles(right) == ["text-align:right"]
    assert left.get("align") is None and styles(left) == ["text-align:left"]
