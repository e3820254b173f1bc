"""Quarto's cross-reference forms (plugins/execblog/markdown/xrefs), as Quarto renders them
(quarto-cli ``src/resources/filters/crossref/refs.lua``; quarto.org "Cross References"):

- ``-@fig-x`` and ``[-@fig-x]``: the bare number, "1", for every kind, equations included
  ("Eqn. (-@eq-x)" reads "Eqn. (1)", not "Eqn. ((1))");
- a bracketed group loses its brackets: ``[@fig-a; @fig-b]`` "Figure 1, Figure 2";
- a prefix written in the brackets replaces the kind's: ``[See @fig-a]`` "See 1" and
  ``[Fig. @fig-b]`` "Fig. 2", prefix and number one link; text after the label follows it;
- ``@Fig-x`` names fig-x;
- an id Markdown's toc made from a heading's text ("## fig-like heading") is no label: no
  false warning.

A real build with the project's pelicanconf.py; pages parsed with BeautifulSoup.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from execblog.markdown.xrefs.core import process, reference_lines

POST = r"""
    Title: Reference forms
    Date: 2024-04-01
    Slug: forms
    Tags: forms

    Intro paragraph.

    ## fig-like heading

    ## tbl-of contents

    ```python exec id=fig-a caption="First"
    import matplotlib.pyplot as plt
    plt.plot([1, 2, 3])
    ```

    ```python exec id=fig-b caption="Second"
    import matplotlib.pyplot as plt
    plt.plot([3, 1, 2])
    ```

    $$E = mc^2$$ {#eq-e}

    | a | b |
    |---|---|
    | 1 | 2 |

    : Numbers {#tbl-n}

    ## Method {#sec-method}

    BARE: Eqn. (-@eq-e), -@fig-b, -@tbl-n and [-@fig-a].

    GROUPS: [See @fig-a] and [@fig-a; @fig-b].

    PREFIXES: [Fig. @fig-b, left] and [see @fig-a; and -@fig-b]; @Fig-a, [see @sec-method].

    ALONE: [a@fig-a.com] and `[@fig-a]` stay.
    """


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import run_pelican, write_files

    tmp = tmp_path_factory.mktemp("forms")
    write_files(tmp / "content", {"posts/forms.md": POST})
    proc = run_pelican(tmp / "content", tmp / "output",
                       settings={"FENCES_CACHE_PATH": str(tmp / "cache")})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    page = BeautifulSoup((tmp / "output/posts/forms/index.html").read_text(encoding="utf-8"),
                         "html.parser").select_one(".post-content")
    return log, page


def paragraph(page, marker: str):
    return next(p for p in page.find_all("p") if p.get_text().startswith(marker))


def links(node) -> list[tuple[str, str]]:
    return [(a["href"], a.get_text()) for a in node.select("a.xref")]


def test_minus_gives_the_bare_number_for_every_kind(built):
    _log, page = built
    bare = paragraph(page, "BARE:")
    assert links(bare) == [("#eq-e", "1"), ("#fig-b", "2"), ("#tbl-n", "1"), ("#fig-a", "1")]
    assert bare.get_text() == "BARE: Eqn. (1), 2, 1 and 1."
    # The equation itself still shows "(1)" beside it.
    assert page.select_one("#eq-e .eq-number").get_text() == "(1)"


def test_bracketed_references_lose_their_brackets(built):
    _log, page = built
    groups = paragraph(page, "GROUPS:")
    assert groups.get_text() == "GROUPS: See 1 and Figure 1, Figure 2."
    assert links(groups) == [("#fig-a", "See 1"), ("#fig-a", "Figure 1"),
                             ("#fig-b", "Figure 2")]
    prefixes = paragraph(page, "PREFIXES:")
    assert prefixes.get_text() == ("PREFIXES: Fig. 2, left and see 1, and 2; Figure 1, "
                                   "see Method.")
    assert links(prefixes) == [("#fig-b", "Fig. 2"), ("#fig-a", "see 1"), ("#fig-b", "and 2"),
                               ("#fig-a", "Figure 1"), ("#sec-method", "see Method")]
    for node in (groups, prefixes):
        assert "[" not in node.get_text() and "]" not in node.get_text()
        assert "@" not in node.get_text()


def test_not_references_stay_as_written(built):
    _log, page = built
    alone = paragraph(page, "ALONE:")
    assert alone.get_text() == "ALONE: [a@fig-a.com] and [@fig-a] stay."
    assert not alone.select("a.xref") and alone.find("code").get_text() == "[@fig-a]"


def test_headings_named_like_labels_raise_no_warning(built):
    log, page = built
    assert page.select_one("h2#fig-like-heading") is not None
    assert page.select_one("h2#tbl-of-contents") is not None
    assert "fig-like-heading" not in log and "tbl-of-contents" not in log
    assert "cross-reference" not in log and "label '" not in log, log
    # The real figures are numbered as before.
    assert page.select_one("#fig-a figcaption").get_text() == "Figure 1: First"


# -- pure logic -------------------------------------------------------------------------------
FIGS = ('<div class="fence" id="fig-a"><figure><img><figcaption>A</figcaption></figure></div>'
        '<div class="fence" id="fig-b"><figure><img><figcaption>B</figcaption></figure></div>')


def test_a_label_written_on_a_heading_still_warns():
    result = process('<h2 id="fig-results">Results</h2><h2 id="fig-x_1">fig-x</h2>'
                     '<p>@fig-results</p>')
    messages = [p.message for p in result.problems]
    assert messages[0] == ("label 'fig-results' has no figure (does the fence show an image?); "
                           "it is not numbered")
    assert messages[1].startswith("unknown cross-reference @fig-results")
    assert len(messages) == 2  # "fig-x_1" is toc's id for a second "fig-x" heading


@pytest.mark.parametrize(("written", "text", "hrefs"), [
    ("[@fig-a;@fig-b]", "Figure 1, Figure 2", ["#fig-a", "#fig-b"]),
    ("[ -@fig-a ; -@fig-b ]", "1, 2", ["#fig-a", "#fig-b"]),
    ("[@fig-a, p. 3]", "Figure 1, p. 3", ["#fig-a"]),
    ("(-@fig-b)", "(2)", ["#fig-b"]),
    ("[@fig-a @fig-b]", "[Figure 1 Figure 2]", ["#fig-a", "#fig-b"]),  # not one group
    ("[@fig-a; @fig-none]", "[@fig-a; @fig-none]", []),  # unknown: the group stays
    ("[see x@fig-a]", "[see x@fig-a]", []),
])
def test_forms(written, text, hrefs):
    soup = BeautifulSoup(process(f"{FIGS}<p>{written}</p>").html, "html.parser")
    paragraph = soup.find("p")
    assert paragraph.get_text() == text
    assert [a["href"] for a in paragraph.select("a.xref")] == hrefs


def test_reference_lines_find_capitalised_references():
    source = "Title: t\n\n@Fig-a and -@fig-a\n[See @fig-a]\n"
    assert reference_lines(source, "fig-a") == [3, 3, 4]
