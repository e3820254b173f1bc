"""Quarto documents as posts (execblog.sources.quarto) and Quarto's body syntax
(execblog.markdown.pandoc): one real build of a small site with .qmd posts, then the pure parts."""

from __future__ import annotations

import datetime

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import located, run_pelican, write_files
from execblog.markdown.pandoc import conditional
from execblog.markdown.pandoc.attributes import parse_opener
from execblog.markdown.pandoc.layout import LayoutError, rows_for
from execblog.sources.quarto import kernel_language, split_front_matter

POST = r"""
---
title: "Lines and *planes*"
subtitle: A subtitle
date: "March 1, 2024"
author:
  - name: Ada Lovelace
  - Grace Hopper
categories: [math, quarto]
description: A post about *lines*.
bibliography: refs.bib
execute:
  echo: false
  freeze: auto
jupyter: python3
format: html
---

See @fig-elephants, @fig-surus, @fig-elephants-2, @thm-line, [@knuth84] and @fig-plots-1.

::: {.callout-tip}
## Faster *way*
Tip body.
:::

::: {.callout-warning title="Careful"}
Warning body.
:::

::: {#fig-elephants layout-ncol=2}
![Surus](surus.png){#fig-surus}

![Hanno](hanno.png)

Famous elephants
:::

::: {layout="[[1,1],[1]]"}
CELL-A

CELL-B

CELL-C
:::

::: {#thm-line}
## Line
Every line is $y = mx + b$.
:::

::: {.proof}
By inspection.
:::

:::: {.outer}
::: {.unknown-class}
KEPT-CONTENT
:::
::::

## fig-like text

``` {.html style="font-size: 0.9em;"}
<p>STYLED-CODE</p>
```

{{< include _setup.qmd >}}

```{python}
#| label: fig-plots
#| fig-cap: "Plots"
#| fig-subcap: ["Rising", "Falling"]
import matplotlib.pyplot as plt
plt.figure(); plt.plot([1, 2])
plt.figure(); plt.plot([2, 1])
```

{{< video https://example.com/v.mp4 >}}

```{python}
#| echo: true
print("TWICE", VALUE * 2)
```

```{python}
#| bogus: 1
pass
```

{{< include _missing.qmd >}}
"""

SETUP = """
Included prose.

{{< include _nested/text.txt >}}

```{python}
VALUE = 21
print("FROM-INCLUDE")
```
"""

DRAFT = """
---
title: Unfinished
draft: true
date: 2024-02-01
---

Draft body.
"""

BROKEN = """
---
title: Broken divs
---

:::

::: {.note}
Never closed.
"""

PLAIN = """
Title: Plain markdown
Date: 2024-01-01

::: {.callout-important}
## Heads up
Body.
:::

{{< include _setup.qmd >}}
"""

BIB = """
@book{knuth84, author = {Donald Knuth}, title = {The TeXbook}, year = {1984},
  publisher = {Addison-Wesley}}
"""


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.lstrip("\n").splitlines(), 1) if needle in line)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quarto")
    write_files(tmp / "content", {"posts/lines.qmd": POST, "posts/_setup.qmd": SETUP,
                                  "posts/draft.qmd": DRAFT, "posts/refs.bib": BIB,
                                  "posts/broken.qmd": BROKEN, "posts/plain.md": PLAIN,
                                  "posts/_nested/text.txt": "NESTED-TEXT\n"})
    # execblog.markdown.pandoc is one of the Markdown extensions Execblog adds to the site's
    proc = run_pelican(tmp / "content", tmp / "output",
                       settings={"FENCES_CACHE_PATH": str(tmp / "cache")})
    return proc, tmp / "output"


def page(output, slug: str) -> BeautifulSoup:
    html = (output / "posts" / slug / "index.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser")


def test_front_matter_becomes_pelican_metadata(built):
    proc, output = built
    assert proc.returncode == 0, proc.stdout + proc.stderr
    soup = page(output, "lines")
    assert soup.select_one("h1.post-title").get_text() == "Lines and *planes*"
    assert soup.select_one(".post-meta time")["datetime"].startswith("2024-03-01")
    assert [a.get_text() for a in soup.select(".post-authors a")] == ["Ada Lovelace",
                                                                      "Grace Hopper"]
    assert [a.get_text() for a in soup.select(".post-tags a")] == ["math", "quarto"]
    # description -> summary (Markdown), in the index and the feed
    summary = BeautifulSoup((output / "index.html").read_text(), "html.parser")
    assert "A post about lines." in summary.get_text()
    feed = feedparser.parse(str(output / "feeds/all.atom.xml"))
    entry = next(e for e in feed.entries if e.title == "Lines and *planes*")
    assert "<em>lines</em>" in entry.summary
    # draft: true -> a draft; a file whose name starts with "_" is no post
    assert (output / "drafts/draft.html").exists()
    assert not (output / "posts/draft").exists()
    assert not list(output.rglob("*setup*"))
    # bibliography: the citation is rendered, with its References section
    assert soup.select_one("a.citation").get_text() == "Knuth, 1984"
    assert soup.select_one("#ref-knuth84") is not None


def test_callouts_layouts_and_plain_divs(built):
    _proc, output = built
    content = page(output, "lines").select_one(".post-content")
    tip, warning = content.select("div.admonition")
    assert tip["class"] == ["admonition", "tip"]
    assert tip.select_one("p.admonition-title strong").decode_contents() == "Faster <em>way</em>"
    assert tip.find("h2") is None and "Tip body." in tip.get_text()
    assert warning.select_one(".admonition-title").get_text() == "Careful"
    grid = next(p for p in content.select(".quarto-layout-panel") if "CELL-A" in p.get_text())
    rows = [[c.get_text().strip() for c in r.select(".quarto-layout-cell")]
            for r in grid.select(".quarto-layout-row")]
    assert rows == [["CELL-A", "CELL-B"], ["CELL-C"]]
    assert "display:flex" in grid.select_one(".quarto-layout-row")["style"]
    # a code block with Pandoc's style= attribute (which crashes fenced_code + codehilite)
    assert any("<p>STYLED-CODE</p>" in code.get_text() for code in content.select("pre"))
    unknown = content.select_one("div.outer > div.unknown-class")
    assert unknown.get_text().strip() == "KEPT-CONTENT"
    for text in content.find_all(string=True):
        if text.find_parent(["pre", "code"]) is None:
            assert ":::" not in text and "{{<" not in text


def test_figure_div_subfigures_and_references(built):
    _proc, output = built
    content = page(output, "lines").select_one(".post-content")
    figure = content.select_one("figure#fig-elephants")
    assert figure.find("figcaption", recursive=False).get_text() == "Figure 1: Famous elephants"
    subs = figure.select("figure.quarto-subfigure")
    assert [(s.get("id"), s.figcaption.get_text()) for s in subs] == [
        ("fig-surus", "(a) Surus"), ("fig-elephants-2", "(b) Hanno")]
    assert len(figure.select(".quarto-layout-row")) == 1  # layout-ncol=2: side by side
    first = content.find("p")
    links = [(a["href"], a.get_text()) for a in first.select("a.xref")]
    assert links == [("#fig-elephants", "Figure 1"), ("#fig-surus", "Figure 1(a)"),
                     ("#fig-elephants-2", "Figure 1(b)"), ("#thm-line", "Theorem 1"),
                     ("#fig-plots-1", "Figure 2(a)")]
    # fig-subcap: the fence's two figures are sub-figures, captioned and referable
    plots = content.select_one("#fig-plots")
    assert [f.figcaption.get_text() for f in plots.select("figure.fence-subfigure")] == [
        "(a) Rising", "(b) Falling"]
    assert plots.select_one("figure.fence-subfigures > figcaption").get_text() == \
        "Figure 2: Plots"
    assert plots.select_one("figure.fence-subfigure")["id"] == "fig-plots-1"


def test_theorem_and_proof(built):
    _proc, output = built
    content = page(output, "lines").select_one(".post-content")
    theorem = content.select_one("div.theorem#thm-line")
    assert theorem.select_one(".theorem-title").get_text() == "Theorem 1 (Line)"
    assert theorem.find("h2") is None and theorem.select_one("math") is not None
    proof = content.select_one("div.proof")
    assert proof.get_text().strip().startswith("Proof. By inspection.")
    assert proof.select_one(".proof-end").get_text() == "\u220e"


def test_include_execute_defaults_and_located_messages(built):
    proc, output = built
    log = proc.stdout + proc.stderr
    content = page(output, "lines").select_one(".post-content")
    text = content.get_text()
    assert "Included prose." in text and "FROM-INCLUDE" in text
    assert "NESTED-TEXT" in text  # an include in an included file: relative to the post
    # execute: echo: false for the post; the fence's own #| echo: true wins
    sources = [s.get_text().strip() for s in content.select(".fence-source")]
    assert sources == ['print("TWICE", VALUE * 2)']
    assert "TWICE 42" in text  # the included fence ran first, in the same session
    messages = {(line, severity, msg.split(":")[0]) for path, line, severity, msg in
                located(log) if path.endswith("lines.qmd")}
    video = _line(POST, "{{< video")
    assert (video, "warning", "shortcode {{< video >}} is not supported (Execblog does not run "
            "this Quarto shortcode); it is shown as written") in messages
    assert content.find("code", string="{{< video https://example.com/v.mp4 >}}") is not None
    missing = _line(POST, "_missing.qmd")
    assert (missing, "error", "{{< include _missing.qmd >}}") in messages
    # the fence after the include keeps its own line in the file
    bogus = _line(POST, "#| bogus: 1")
    assert any(line == bogus and "bogus" in msg for path, line, _s, msg in located(log)
               if path.endswith("lines.qmd")), log
    assert "fig-like" not in log  # a heading's own id is no cross-reference label
    assert "unknown cross-reference" not in log


# -- pure parts -------------------------------------------------------------------------------
def test_front_matter_split_keeps_line_numbers():
    text = "---\ntitle: A\nexecute:\n  echo: false\n---\n\nBody\n"
    front, body, first = split_front_matter(text)
    assert front == "title: A\nexecute:\n  echo: false\n" and first == 2
    assert body.splitlines()[6] == "Body" and body.count("\n") == text.count("\n")
    assert split_front_matter("No front matter\n")[0] is None


def test_kernel_languages():
    assert kernel_language("python3") == "python"
    assert kernel_language({"kernelspec": {"name": "ir", "language": "R"}}) == "r"
    assert kernel_language("julia-1.9") == "julia"
    assert kernel_language(None) is None


def test_div_openers():
    found = parse_opener('::: {#fig-x .wide layout-ncol=2 title="A b"}')
    assert (found.id, found.classes, found.values) == ("fig-x", ["wide"],
                                                       {"layout-ncol": "2", "title": "A b"})
    assert parse_opener("::: Warning").classes == ["Warning"]
    assert parse_opener(":::") is None and parse_opener("text ::: {.x}") is None


def test_layout_rows():
    def rows(**values):
        return rows_for(parse_opener("::: {" + " ".join(
            f'{k.replace("_", "-")}="{v}"' for k, v in values.items()) + "}"), 5)

    assert rows(layout_ncol=2) == [[1, 1]] * 3
    assert rows(layout_nrow=2) == [[1, 1, 1]] * 2
    assert rows(layout="[[70,30],[-10,80,-10]]") == [[70, 30], [-10, 80, -10]]
    with pytest.raises(LayoutError):
        rows(layout="[[1,1],")
    with pytest.raises(LayoutError):
        rows(layout_ncol=0)


def test_conditional_content():
    def shown(opener: str) -> bool:
        return conditional.shown(parse_opener(opener))

    assert shown('::: {.content-visible when-format="html"}')
    assert not shown('::: {.content-visible when-format="pdf"}')
    assert not shown("::: {.content-hidden}")
    assert shown('::: {.content-hidden unless-format="html"}')


def test_dates_in_quartos_formats(tmp_path):
    from execblog.sources.quarto import _date

    path = tmp_path / "p.qmd"
    path.write_text("x")
    assert _date("March 1, 2024", str(path)).date() == datetime.date(2024, 3, 1)
    assert _date(datetime.date(2024, 3, 1), str(path)).date() == datetime.date(2024, 3, 1)
    assert _date("today", str(path)).date() == datetime.date.today()
    assert _date("last-modified", str(path)).date() == datetime.date.fromtimestamp(
        path.stat().st_mtime)
    assert _date("not a date", str(path)) is None


def test_unbalanced_divs_are_located_warnings_and_lose_nothing(built):
    proc, output = built
    found = [(line, severity, msg) for path, line, severity, msg in located(proc.stderr)
             if path.endswith("broken.qmd")]
    assert found == [
        (_line(BROKEN, ":::"), "warning", "':::' closes no fenced div (no '::: {...}' opener "
         "before it is open); it is left out"),
        (_line(BROKEN, "{.note}"), "warning", "fenced div opened here is never closed: it "
         "runs to the end of the file (close it with a line ':::')")]
    content = page(output, "broken").select_one(".post-content")
    assert content.select_one("div.note").get_text().strip() == "Never closed."
    assert ":::" not in content.get_text()


def test_markdown_posts_take_the_same_syntax(built):
    _proc, output = built
    content = page(output, "plain-markdown").select_one(".post-content")
    callout = content.select_one("div.admonition.important")
    assert callout.select_one(".admonition-title").get_text() == "Heads up"
    assert "Included prose." in content.get_text() and "FROM-INCLUDE" in content.get_text()


def test_columns_share_one_row():
    import markdown

    html = markdown.markdown(':::: {.columns}\n::: {.column width="40%"}\nLeft\n:::\n'
                             '::: {.column}\nRight\n:::\n::::\n',
                             extensions=["execblog.markdown.pandoc"])
    row = BeautifulSoup(html, "html.parser").select_one("div.columns")
    assert "display:flex" in row["style"]
    assert [(c.get_text().strip(), c["style"].split(";")[0]) for c in row.select(".column")] == [
        ("Left", "flex:40 1 0"), ("Right", "flex:60 1 0")]  # what is left


def test_bracketed_spans():
    import markdown

    text = "[Shift]{.kbd} [*bold*]{#s .smallcaps lang=fr} [x]{not attrs} `[c]{.d}` [a](https://x.org)"
    html = markdown.markdown(text, extensions=["execblog.markdown.pandoc"])
    soup = BeautifulSoup(html, "html.parser")
    assert [(s.get("class"), s.get("id"), s.get("data-lang"), s.decode_contents())
            for s in soup.find_all("span")] == [(["kbd"], None, None, "Shift"),
                                                 (["smallcaps"], "s", "fr", "<em>bold</em>")]
    assert "[x]{not attrs}" in soup.get_text() and soup.code.get_text() == "[c]{.d}"
    assert soup.a["href"] == "https://x.org"
