"""Citations (plugins/execblog/markdown/citations):
`[@key]` and `@key` against a .bib, with real builds."""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
import pytest
from execblog.markdown import prose
from execblog.markdown.citations import scan
from execblog.markdown.citations.bib import BibError, load
from execblog.markdown.citations.style import PostCitations

BIB = r"""
@article{doe2020,
  author = {Doe, Jane and Smith, John},
  title = {A {GPU} Study of {Krylov} Methods},
  journal = {Journal of Things},
  year = {2020},
  volume = {12},
  pages = {1--10},
  doi = {https://doi.org/10.1000/xyz\_123},
}

@misc{Roe2019,
  author = {Roe, Richard},
  title = {Fast things \& the web},
  year = 2019,
  howpublished = {\url{https://example.org/fast?a=1&b=2}},
}

@online{muller2021,
  author = {M{\"u}ller, Jürgen},
  title = {Ünïcode},
  year = {2021},
  url = {https://example.org/m},
}
"""

POST = """
Title: Citing Things
Slug: citing
Date: 2024-01-01
Bibliography: refs.bib

Krylov methods [@doe2020] are old; see [@doe2020; @roe2019, p. 33] and
[see @doe2020, pp. 3-5, and elsewhere]. As @doe2020 showed, and [-@roe2019].

Left alone: jane@example.org, @property, @fig-x and [@fig-x], [@sec-y], `@doe2020`,
$x @doe2020$ and [a link @doe2020](https://example.com/).

An unknown key [@nobody] stays.

```python
@doe2020
```
"""

PLAIN = """
Title: No Bibliography
Slug: plain
Date: 2024-01-02

Mail jane@example.org about @doe2020 and [@doe2020].
"""


def _site_files(**extra: str) -> dict[str, str]:
    return {"posts/refs.bib": BIB, "posts/citing.md": POST, "posts/plain.md": PLAIN,
            **extra}


def _text(node) -> str:
    return re.sub(r"\s+", " ", node.get_text()).strip()


def test_post_citations_references_and_feed(site):
    build = site(_site_files())
    assert build.returncode == 0, build.log
    page = build.post("citing")
    body = page.select_one(".post-content")
    clusters = body.select("span.citations")
    assert [_text(c) for c in clusters] == [
        "(Doe and Smith, 2020)",
        "(Doe and Smith, 2020; Roe, 2019, p. 33)",
        "(see Doe and Smith, 2020, pp. 3–5, and elsewhere)",
        "(2019)",
    ]
    assert [a["href"] for a in clusters[1].select("a.citation")] == ["#ref-doe2020",
                                                                    "#ref-roe2019"]
    narrative = [a for a in body.select("a.citation") if not a.find_parent("span")]
    assert [(_text(a), a["href"]) for a in narrative] == [("Doe and Smith (2020)",
                                                            "#ref-doe2020")]
    # Untouched: addresses, decorators, cross-references, code, math, links, unknown keys.
    prose = _text(body)
    for literal in ("jane@example.org", "@property", "@fig-x and [@fig-x]", "[@sec-y]",
                    "[@nobody] stays"):
        assert literal in prose
    assert body.select_one("code").get_text() == "@doe2020"
    assert "@doe2020" in body.select_one(".math math")["alttext"]  # MathML, TeX kept
    assert _text(body.select_one('a[href="https://example.com/"]')) == "a link @doe2020"
    assert "@doe2020" in body.select_one("pre").get_text()
    assert len(body.select("a.citation")) == 6  # 1 + 2 + 1 + 1 narrative + 1

    # References: last in the post, CSL order (by author), DOI and URL as links.
    refs = body.select_one("section.references#references")
    assert refs is body.find_all(recursive=False)[-1]
    assert _text(refs.h2) == "References"
    entries = refs.select(".references-entry")
    assert [e["id"] for e in entries] == ["ref-doe2020", "ref-roe2019"]
    doi = entries[0].select_one("a")
    assert doi["href"] == "https://doi.org/10.1000/xyz_123"
    assert _text(entries[0]).startswith("Doe, J. and Smith, J. (2020) “A GPU Study of Krylov")
    assert entries[1].select_one("a")["href"] == "https://example.org/fast?a=1&b=2"
    assert "Fast things & the web" in _text(entries[1])

    # Located warning, line of the Markdown source; not an error in a normal build.
    assert "posts/citing.md:12: warning: unknown citation key 'nobody'" in build.log
    assert "citation error" not in build.log

    # A post without a bibliography is unchanged (one warning for its [@...]).
    plain = build.post("plain").select_one(".post-content")
    assert not plain.select("a.citation, .references")
    assert "about @doe2020 and [@doe2020]" in _text(plain)
    assert "posts/plain.md:5: warning: [@doe2020] looks like a citation" in build.log

    # The feed entry carries the same citations and references.
    feed = feedparser.parse(build.read("feeds/all.atom.xml"), sanitize_html=False,
                            resolve_relative_uris=False)
    entry = next(e for e in feed.entries if e.title == "Citing Things")
    html = entry.content[0].value
    assert 'class="references"' in html
    assert 'href="https://doi.org/10.1000/xyz_123"' in html
    assert "Doe and Smith, 2020</a>; <a" in html and 'id="ref-roe2019"' in html


def test_strict_errors_and_site_wide_bibliography(site):
    files = _site_files(**{
        "site.bib": BIB,
        "posts/missing.md": """
            Title: Missing
            Slug: missing
            Date: 2024-01-03
            Bibliography: nowhere.bib

            Text [@doe2020].
            """,
        "posts/sitewide.md": """
            Title: Site Wide
            Slug: sitewide
            Date: 2024-01-04

            As @muller2021 says [@roe2019].
            """,
    })
    del files["posts/plain.md"]
    build = site(files, settings={"FENCES_STRICT": True, "BIBLIOGRAPHY": "site.bib"})
    assert build.returncode != 0
    assert "posts/citing.md:12: error: unknown citation key 'nobody'" in build.log
    assert re.search(r"posts/missing\.md:4: error: Bibliography: cannot read "
                     r"\S*nowhere\.bib", build.log)
    assert "2 citation error(s)" in build.log

    page = build.post("sitewide").select_one(".post-content")
    assert [_text(a) for a in page.select("a.citation")] == ["Müller (2021)", "Roe, 2019"]
    entries = page.select(".references-entry")
    assert [e["id"] for e in entries] == ["ref-muller2021", "ref-roe2019"]
    assert entries[0].select_one("a")["href"] == "https://example.org/m"
    # The post's own Bibliography wins over the site's; the missing one cites nothing.
    assert not build.post("missing").select("a.citation")


# -- pure logic -----------------------------------------------------------------------------

@pytest.mark.parametrize(("suffix", "expected"), [
    (", p. 33", ("page", "33", "")),
    (", pp. 33-35, and elsewhere", ("page", "33-35", ", and elsewhere")),
    (" chap. 3", ("chapter", "3", "")),
    (", 12", ("page", "12", "")),
    (", sec. 2.1", ("section", "2.1", "")),
    (", and elsewhere", (None, None, ", and elsewhere")),
    ("", (None, None, "")),
])
def test_parse_locator(suffix, expected):
    assert scan.parse_locator(suffix) == expected


def test_find_syntax():
    found = list(scan.find("a [see @a1, p. 2; -@b:c] b@x.org @c_d. [x@y] @e [p. 4] @f [below]"))
    assert [m.text for m in found] == ["[see @a1, p. 2; -@b:c]", "@c_d", "[x@y]",
                                       "@e [p. 4]", "@f"]
    first = found[0].items
    assert (first[0].key, first[0].prefix, first[0].label, first[0].locator) == \
        ("a1", "see", "page", "2")
    assert first[1].key == "b:c" and first[1].suppress_author
    assert found[2].items == ()  # an address in brackets is no citation
    assert (found[3].items[0].label, found[3].items[0].locator) == ("page", "4")


def test_text_runs_skip_code_math_links_and_keep_offsets():
    html = ('<p>A &amp; @k <code>@k</code> <span class="math">\\(@k\\)</span> '
            '<a href="x">@k</a><br>\n<em>@k</em></p><pre>@k</pre>')
    runs = prose.text_runs(html)
    assert [r.text for r in runs] == ["A & @k ", " ", " ", "\n", "@k"]
    assert all(html[r.start:r.end].replace("&amp;", "&") == r.text for r in runs)
    edited = prose.apply(html, [prose.Edit(runs[-1].start, runs[-1].end, "X")])
    assert edited == html.replace("<em>@k</em>", "<em>X</em>")


def test_bib_parsing_and_rendering(tmp_path: Path):
    path = tmp_path / "refs.bib"
    path.write_text(BIB + "@article{doe2020b, author={Doe, Jane and Smith, John}, "
                          "title={Other}, journal={J}, year={2020}}\n", encoding="utf-8")
    source = load(str(path))
    assert source["doe2020"]["DOI"] == "10.1000/xyz_123"
    assert source["roe2019"]["URL"] == "https://example.org/fast?a=1&b=2"
    assert source["muller2021"]["type"] == "webpage"
    cites = PostCitations(source)
    assert cites.prepare(["doe2020b", "roe2019", "doe2020"]) == ["doe2020", "doe2020b",
                                                                 "roe2019"]
    # Two entries that would cite alike get year suffixes (citeproc-py makes none).
    assert cites.cite_html("narrative", "doe2020", None, None) == "Doe and Smith (2020a)"
    assert cites.cite_html("item", "doe2020b", "page", "3") == "Doe and Smith, 2020b, p. 3"
    html = dict(cites.bibliography_html())
    assert "Fast things &amp; the web" in html["roe2019"]  # escaped once
    assert "<i>Journal of Things</i>" in html["doe2020"]

    broken = tmp_path / "broken.bib"
    broken.write_text("@article{x, title = {unclosed\n", encoding="utf-8")
    with pytest.raises(BibError, match="cannot parse"):
        load(str(broken))
    with pytest.raises(BibError, match="cannot read"):
        load(str(tmp_path / "absent.bib"))


# -- TeX in BibTeX, and any CSL style --------------------------------------------------------

TEX_BIB = r"""
@article{alpha,
  author = {Doe, Jane},
  title = {Convergence of {$A^\alpha$} iterations and $X_k$ bounds},
  journal = {J},
  year = {2020},
}
@book{knuth,
  author = {Knuth, Donald},
  title = {The {\TeX}book},
  year = {1984},
  publisher = {Addison-Wesley},
}
@misc{roe,
  author = {Roe, Richard},
  title = {Cost of \$5, \emph{and} the \unknownmacro{square} law},
  year = {2021},
}
"""

# A small numeric style in the manner of IEEE: "[1]" per item, entries numbered in the
# order of first citation.
NUMERIC_CSL = """<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0"
       default-locale="en-US">
  <info><title>Tiny numeric</title><id>tiny-numeric</id>
    <updated>2024-01-01T00:00:00+00:00</updated></info>
  <citation collapse="citation-number">
    <sort><key variable="citation-number"/></sort>
    <layout delimiter=", ">
      <group prefix="[" suffix="]" delimiter=", ">
        <text variable="citation-number"/>
        <group delimiter=" "><label variable="locator" form="short"/>
          <text variable="locator"/></group>
      </group>
    </layout>
  </citation>
  <bibliography>
    <layout suffix=".">
      <text variable="citation-number" prefix="[" suffix="]"/>
      <names variable="author" prefix=" "><name initialize-with=". " and="text"/></names>
      <text variable="title" prefix=", \u201c" suffix=",\u201d"/>
      <date variable="issued" prefix=" "><date-part name="year"/></date>
    </layout>
  </bibliography>
</style>
"""


def test_tex_in_bibtex_titles_is_kept_as_math_and_logos_parse(tmp_path: Path):
    path = tmp_path / "tex.bib"
    path.write_text(TEX_BIB, encoding="utf-8")
    source = load(str(path))  # "{\TeX}" made citeproc-py raise StopIteration: no bib at all
    cites = PostCitations(source)
    cites.prepare(["alpha", "knuth", "roe"])
    html = dict(cites.bibliography_html())
    assert ('Convergence of <span class="math">\\(A^\\alpha\\)</span> iterations and '
            '<span class="math">\\(X_k\\)</span> bounds') in html["alpha"]
    assert "<i>The TeXbook</i>" in html["knuth"]
    assert "Cost of $5, and the square law" in html["roe"]  # a literal dollar, no math
    assert "\\" not in html["roe"] and "{" not in html["roe"]


def test_a_numeric_csl_style_numbers_citations_in_citation_order(tmp_path: Path):
    from execblog.markdown.citations.style import StyleError, styles

    bib = tmp_path / "tex.bib"
    bib.write_text(TEX_BIB, encoding="utf-8")
    csl = tmp_path / "numeric.csl"
    csl.write_text(NUMERIC_CSL, encoding="utf-8")
    cites = PostCitations(load(str(bib)), styles(str(csl)))
    assert cites.prepare(["roe", "alpha", "knuth"]) == ["roe", "alpha", "knuth"]
    assert cites.cite_html("item", "alpha", None, None) == "[2]"
    assert cites.cite_html("item", "knuth", "page", "3") == "[3, p. 3]"
    assert cites.cite_html("narrative", "roe", None, None) == "Roe [1]"
    assert cites.cite_html("year", "roe", None, None) == "[1]"  # [-@roe]: nothing to drop
    entries = cites.bibliography_html()
    assert [key for key, _ in entries] == ["roe", "alpha", "knuth"]
    assert entries[0][1].startswith("[1] R. Roe, “Cost of $5")
    (tmp_path / "broken.csl").write_text("<style>", encoding="utf-8")
    with pytest.raises(StyleError, match="is not XML"):
        styles(str(tmp_path / "broken.csl"))
    (tmp_path / "other.csl").write_text("<nothing/>", encoding="utf-8")
    with pytest.raises(StyleError, match="is not a CSL style"):
        styles(str(tmp_path / "other.csl"))
