"""Cross-references (plugins/execblog/markdown/xrefs): Quarto's fig-/tbl-/eq-/sec- labels numbered
per post, ``@label`` references linked, in pages, summaries and feeds; unknown ones located."""

from __future__ import annotations

import re

import feedparser
import pytest
from bs4 import BeautifulSoup
from execblog.markdown.xrefs.core import process, reference_lines, set_aside

POST = r"""
    Title: Xrefs
    Date: 2024-03-01
    Tags: refs

    See @fig-line and [@fig-two], @eq-energy, -@eq-second, @tbl-scores and @sec-method.

    ## Method {#sec-method}

    ```python exec id=fig-line caption="A line"
    import matplotlib.pyplot as plt
    plt.plot([1, 2, 3])
    ```

    ```python exec id=fig-two
    import matplotlib.pyplot as plt
    plt.plot([3, 1, 2])
    ```

    Energy is
    $$E = mc^2$$ {#eq-energy}
    as usual.

    $$
    a^2 + b^2 = c^2
    $$ {#eq-second}

    | run | score |
    |-----|-------|
    | 1   | 0.5   |

    : Scores of *each* run {#tbl-scores}

    ```python exec id=tbl-html
    class T:
        def _repr_html_(self):
            return "<table><tr><td>42</td></tr></table>"
    T()
    ```

    Both @fig-line and @fig-two; [@fig-line; @fig-two]; also @tbl-html and @Someone.
    Mail me at a@fig-line.com or `@fig-line` in code, [a link @fig-two](https://x.org/),
    $@eq-energy$ in math.

    A typo: @fig-lines here.
    """

SITEURL = "https://blog.example.org/sub"
PAGE = r"""
    Title: Notes

    $$x = 1$$ {#eq-one}

    From @eq-one, and @sec-nope.
    """


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import run_pelican, write_files

    tmp = tmp_path_factory.mktemp("xrefs")
    write_files(tmp / "content", {"posts/xrefs.md": POST, "pages/notes.md": PAGE})
    # Published (absolute feed links), not strict: the unknown references are warnings.
    proc = run_pelican(tmp / "content", tmp / "output", conf="publishconf.py",
                       settings={"FENCES_CACHE_PATH": str(tmp / "cache"), "SITEURL": SITEURL,
                                 "FENCES_STRICT": False})
    return proc, tmp / "output"


def soup_of(output, rel: str) -> BeautifulSoup:
    return BeautifulSoup((output / rel).read_text(encoding="utf-8"), "html.parser")


def links(node) -> list[tuple[str, str]]:
    return [(a["href"], a.get_text()) for a in node.select("a.xref")]


def test_figures_equations_tables_sections_numbered_and_linked(built):
    proc, output = built
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = soup_of(output, "posts/xrefs/index.html").select_one(".post-content")
    first = page.find("p")
    assert links(first) == [("#fig-line", "Figure 1"), ("#fig-two", "Figure 2"),
                            ("#eq-energy", "Equation (1)"), ("#eq-second", "2"),
                            ("#tbl-scores", "Table 1"), ("#sec-method", "Method")]
    # [@fig-two] loses its brackets; -@eq-second is the bare number, as in Quarto.
    assert first.get_text().startswith("See Figure 1 and Figure 2, Equation (1), 2, Table 1")
    # Figures: the fence div keeps the id; captions are numbered, a bare figure gets one.
    captions = [page.select_one(f"#{i} figure figcaption").get_text() for i in
                ("fig-line", "fig-two")]
    assert captions == ["Figure 1: A line", "Figure 2"]
    assert page.select_one("#fig-line").get("class") == ["fence", "fence-python"]
    # Equations: the label is gone from the text, the block has the id and its number.
    for label, number in (("eq-energy", "(1)"), ("eq-second", "(2)")):
        block = page.select_one(f"div.xref-equation#{label}")
        assert block.select_one("div.math") is not None
        assert block.select_one(".eq-number").get_text() == number
    assert "{#eq" not in page.get_text() and "{#tbl" not in page.get_text()
    assert "as usual." in page.get_text()
    # Tables: the Markdown caption and a fence's table.
    scores = page.select_one("table#tbl-scores")
    assert scores.caption.get_text() == "Table 1: Scores of each run"
    assert scores.caption.find("em").get_text() == "each"
    assert page.find("dl") is None
    assert page.select_one("#tbl-html table caption").get_text() == "Table 2"
    # Section links say the heading's text (no permalink "#").
    assert page.select_one("h2#sec-method") is not None


def test_references_left_alone_where_they_are_not_prose(built):
    _proc, output = built
    page = soup_of(output, "posts/xrefs/index.html").select_one(".post-content")
    last = page.find_all("p")[-2]
    assert links(last) == [("#fig-line", "Figure 1"), ("#fig-two", "Figure 2"),
                           ("#fig-line", "Figure 1"), ("#fig-two", "Figure 2"),
                           ("#tbl-html", "Table 2")]
    text = last.get_text()
    assert "@Someone" in text and "a@fig-line.com" in text
    assert last.find("code").get_text() == "@fig-line"
    assert last.find("a", href="https://x.org/").get_text() == "a link @fig-two"
    assert "@eq-energy" in last.select_one(".math math")["alttext"]  # MathML, TeX kept
    assert "A typo: @fig-lines here." in page.get_text()  # unknown: left as written


def test_unknown_reference_is_a_located_warning(built):
    proc, _output = built
    log = proc.stdout + proc.stderr
    line = POST.lstrip("\n").splitlines().index("    A typo: @fig-lines here.") + 1
    assert (f"content/posts/xrefs.md:{line}: warning: unknown cross-reference @fig-lines: "
            "no figure in this post has that label; did you mean @fig-line?") in log
    assert "content/pages/notes.md:5: warning: unknown cross-reference @sec-nope" in log
    assert log.count("unknown cross-reference") == 2


def test_pages_summaries_and_feeds(built):
    _proc, output = built
    page = soup_of(output, "notes/index.html")
    assert links(page) == [("#eq-one", "Equation (1)")]
    assert page.select_one("#eq-one .eq-number").get_text() == "(1)"
    # Index pages show the first paragraph: the references' text, no links into the index.
    summary = soup_of(output, "index.html").select_one(".entry-summary")
    assert "See Figure 1 and Figure 2, Equation (1)" in summary.get_text()
    assert not summary.select("a.xref") and summary.select("span.xref")
    feed = feedparser.parse(str(output / "feeds/all.atom.xml"), sanitize_html=False,
                            resolve_relative_uris=False)
    (entry,) = feed.entries
    assert entry.link == f"{SITEURL}/posts/xrefs/"
    body = BeautifulSoup(entry.content[0].value, "html.parser")
    assert links(body.find("p"))[:3] == [(f"{SITEURL}/posts/xrefs/#fig-line", "Figure 1"),
                                         (f"{SITEURL}/posts/xrefs/#fig-two", "Figure 2"),
                                         (f"{SITEURL}/posts/xrefs/#eq-energy", "Equation (1)")]
    summary = BeautifulSoup(entry.summary, "html.parser")
    assert "See Figure 1 and Figure 2" in summary.get_text() and not summary.select("a.xref")
    assert body.select_one("#eq-energy math") is not None  # MathML, number kept beside it
    assert body.select_one("#eq-energy .eq-number").get_text() == "(1)"
    assert body.select_one("#fig-line figcaption").get_text() == "Figure 1: A line"


def test_strict_build_fails_on_an_unknown_reference(site):
    build = site({"posts/s.md": "Title: Strict\n\n## Top {#sec-top}\n\nSee @sec-top and\n"
                  "@fig-missing.\n"}, settings={"FENCES_STRICT": True})
    assert build.returncode == 1, build.log
    located = "content/posts/s.md:6: error: unknown cross-reference @fig-missing"
    assert located in build.log
    assert "1 site error(s) (strict mode): " + located in build.log
    assert "Traceback" not in build.log
    assert 'href="#sec-top">Top</a>' in build.read("posts/strict/index.html")


# -- pure logic -------------------------------------------------------------------------------
def test_kept_blocks_are_byte_identical():
    svg = '<svg viewBox="0 0 1 1"><svg><use xlink:href="#a"/></svg>@fig-a</svg>'
    html = (f'<div class="fence" id="fig-a"><figure>{svg}</figure></div>'
            '<pre>@fig-a &quot;</pre><p>@fig-a</p>')
    out = process(html).html
    assert svg in out and "<pre>@fig-a &quot;</pre>" in out
    assert out.endswith('<p><a class="xref" href="#fig-a">Figure 1</a></p>')
    text, kept = set_aside(html)
    assert "svg" not in text and len(kept) == 2


def test_subfigures_share_one_number():
    html = ('<div class="fence" id="fig-s"><figure class="fence-subfigures">'
            '<figure class="fence-subfigure"><img><figcaption>(a)</figcaption></figure>'
            '<figure class="fence-subfigure"><img><figcaption>(b)</figcaption></figure>'
            '<figcaption>Both</figcaption></figure></div>'
            '<div class="fence" id="fig-t"><figure><img><figcaption>x</figcaption></figure>'
            '<figure><img><figcaption>(b) y</figcaption></figure></div>')
    soup = BeautifulSoup(process(html).html, "html.parser")
    outer = soup.select_one("#fig-s > figure > figcaption")
    assert outer.get_text() == "Figure 1: Both"
    assert [c.get_text() for c in soup.select(".fence-subfigure figcaption")] == ["(a)", "(b)"]
    assert [c.get_text() for c in soup.select("#fig-t figcaption")] == [
        "Figure 2(a): x", "Figure 2(b) y"]


def test_reference_lines_skip_code():
    source = ("Title: t\n\n```python\n@fig-a\n```\n\n`@fig-a` and @fig-a.\n"
              "x@fig-a, @fig-ab\n@fig-a @fig-a\n")
    assert reference_lines(source, "fig-a") == [7, 9, 9]


def test_image_with_label_becomes_a_figure_and_duplicates_warn():
    result = process('<p><img alt="Cat" id="fig-cat" src="c.png"></p><p>@fig-cat</p>'
                     '<h2 id="sec-a">A</h2><h3 id="sec-a">B</h3>')
    soup = BeautifulSoup(result.html, "html.parser")
    assert soup.select_one("figure#fig-cat figcaption").get_text() == "Figure 1: Cat"
    assert [p.message.split(":")[0] for p in result.problems] == ["duplicate label 'sec-a'"]
    assert re.search(r'<p><a class="xref" href="#fig-cat">Figure 1</a></p>', result.html)


def test_theorems_numbered_per_kind_and_callouts_with_labels():
    html = ('<p>@thm-a, @lem-a, @thm-b, -@thm-b, @tip-fast and @thm-aa.</p>'
            '<div class="theorem thm" id="thm-a"><p><span class="theorem-title"><strong>'
            '<span class="theorem-kind">Theorem</span></strong></span> A.</p></div>'
            '<div class="theorem lem" id="lem-a"><p><span class="theorem-title"><strong>'
            '<span class="theorem-kind">Lemma</span></strong></span> B.</p></div>'
            '<div class="theorem thm" id="thm-b"><p><span class="theorem-title"><strong>'
            '<span class="theorem-kind">Theorem</span><span class="theorem-name"> (Named)'
            '</span></strong></span> C.</p></div>'
            '<div class="admonition tip" id="tip-fast"><p class="admonition-title"><strong>'
            'Faster</strong></p></div><div id="def-loose">not a definition div</div>')
    result = process(html)
    soup = BeautifulSoup(result.html, "html.parser")
    assert links(soup.find("p")) == [("#thm-a", "Theorem 1"), ("#lem-a", "Lemma 1"),
                                     ("#thm-b", "Theorem 2"), ("#thm-b", "2"),
                                     ("#tip-fast", "Tip 1")]
    assert soup.select_one("#thm-b .theorem-title").get_text() == "Theorem 2 (Named)"
    assert soup.select_one("#tip-fast .admonition-title").get_text() == "Tip 1: Faster"
    messages = sorted(p.message for p in result.problems)
    assert messages == [
        "label 'def-loose' is not on a definition div (::: {#def-loose} ... :::); it is not "
        "numbered",
        "unknown cross-reference @thm-aa: no theorem in this post has that label; did you "
        "mean @thm-a?"]


def test_figure_div_subfigures_lettered_with_aliases():
    html = ('<p>[@fig-pair; @fig-left; @fig-pair-2; -@fig-pair-1]</p>'
            '<figure class="quarto-figure" id="fig-pair">'
            '<figure class="quarto-subfigure" id="fig-left"><img><figcaption>Left'
            '</figcaption></figure><figure class="quarto-subfigure"><img></figure>'
            '<figcaption>Pair</figcaption></figure>'
            '<figure class="quarto-float quarto-table" id="tbl-img"><figcaption>As a table'
            '</figcaption><p><img></p></figure><p>@tbl-img</p>')
    soup = BeautifulSoup(process(html).html, "html.parser")
    assert links(soup.find("p")) == [("#fig-pair", "Figure 1"), ("#fig-left", "Figure 1(a)"),
                                     ("#fig-pair-2", "Figure 1(b)"), ("#fig-left", "1(a)")]
    assert [(f.get("id"), f.figcaption.get_text()) for f in soup.select(".quarto-subfigure")] \
        == [("fig-left", "(a) Left"), ("fig-pair-2", "(b)")]
    assert soup.select_one("#fig-pair > figcaption").get_text() == "Figure 1: Pair"
    assert soup.select_one("#tbl-img > figcaption").get_text() == "Table 1: As a table"
    assert links(soup.find_all("p")[-1]) == [("#tbl-img", "Table 1")]


def test_heading_whose_text_starts_with_a_prefix_is_no_label():
    html = ('<h2 id="fig-like-text">fig-like text<a class="headerlink" href="#fig-like-text">'
            '#</a></h2><h3 id="thm-of-the-day">thm of the day</h3>'
            '<h2 id="fig-written">Written {#fig-written}</h2>')
    result = process(html)
    assert [p.label for p in result.problems] == ["fig-written"]  # an author's own label


def test_subfigure_aliases_never_take_a_written_label_and_linked_images_are_figures():
    html = ('<figure class="quarto-figure" id="fig-a"><figure id="fig-a-one"><img>'
            '<figcaption>One</figcaption></figure><figure><img></figure>'
            '<figcaption>A</figcaption></figure>'
            '<figure class="quarto-figure" id="fig-a-2"><img><figcaption>Own</figcaption>'
            '</figure>'
            '<p><a href="https://example.org"><img alt="Linked" id="fig-link" src="l.png"></a>'
            '</p><p>@fig-a-1 @fig-a-2 @fig-link</p>')
    result = process(html)
    soup = BeautifulSoup(result.html, "html.parser")
    assert result.problems == []
    assert links(soup.find_all("p")[-1]) == [("#fig-a-one", "Figure 1(a)"),
                                             ("#fig-a-2", "Figure 2"), ("#fig-link", "Figure 3")]
    second = soup.select("#fig-a figure")[1]
    assert second.get("id") is None and second.figcaption.get_text() == "(b)"
    linked = soup.select_one("figure#fig-link")
    assert linked.a["href"] == "https://example.org" and linked.a.img["alt"] == "Linked"
    assert linked.figcaption.get_text() == "Figure 3: Linked"
