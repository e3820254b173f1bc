"""Notebook posts: ``.ipynb`` files and jupytext (MyST) Markdown notebooks, built by real
Pelican into one site (module scope), then read back from its pages, feed and notebooks."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import feedparser
import nbformat
import pytest
from conftest import Build, run_pelican, write_files
from nbformat import v4

KERNEL = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
ANSI_RED = "\x1b[0;31m"


def _png(width: int = 3, height: int = 2) -> bytes:
    """A small valid PNG (red pixels)."""
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def _analysis() -> str:
    """Run mode: metadata, a figure, echo: false, every cell tag."""
    nb = v4.new_notebook(metadata={**KERNEL, "title": "Analysis of lines", "date": "2026-03-01",
                                   "tags": ["notebooks", "lines"], "execute": "run",
                                   "summary": "A notebook about straight lines."})
    nb.cells = [
        v4.new_markdown_cell("# Analysis of lines\n\nA line is drawn in @fig-line."),
        v4.new_code_cell("#| label: fig-line\n#| fig-cap: A straight line\n"
                         "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]);"),
        v4.new_code_cell("#| echo: false\nprint('echo off', 6 * 7)"),
        v4.new_code_cell("raise ValueError('an expected failure')",
                         metadata={"tags": ["raises-exception"]}),
        v4.new_code_cell("print('the input is removed')", metadata={"tags": ["remove-input"]}),
        v4.new_code_cell("print('the output is removed')",
                         metadata={"tags": ["remove-output"]}),
        v4.new_code_cell("hidden_value = 41", metadata={"tags": ["remove-cell"]}),
        v4.new_code_cell("print('folded', hidden_value + 1)", metadata={"tags": ["hide-input"]}),
        v4.new_code_cell("print('hide-output tagged')", metadata={"tags": ["hide-output"]}),
        v4.new_code_cell("import module_that_does_not_exist", outputs=[
            v4.new_output("stream", name="stdout", text="skipped, stored\n")],
            metadata={"tags": ["skip-execution"]}),
        v4.new_markdown_cell("Closing prose of the analysis."),
    ]
    return nbformat.writes(nb)


def _broken() -> str:
    """No metadata: the title is the first heading, the date DEFAULT_DATE; cell 3 fails."""
    nb = v4.new_notebook(metadata={**KERNEL, "execute": "run"})
    nb.cells = [
        v4.new_markdown_cell("# Broken notebook\n\nIts third cell fails."),
        v4.new_code_cell("a = 1"),
        v4.new_code_cell("b = a + 1\nc = b + undefined_name"),
        v4.new_code_cell("print('after the failure')"),
    ]
    return nbformat.writes(nb)


def _stored() -> str:
    """Shown from its stored outputs (the site's NOTEBOOK_EXECUTE): nothing runs (running
    it would fail)."""
    import base64

    nb = v4.new_notebook(metadata=dict(KERNEL))
    nb.cells = [
        v4.new_raw_cell("---\ntitle: Stored results\ndate: 2026-03-02\ncategories: [stored]\n---"),
        v4.new_code_cell("import module_that_does_not_exist\nprint('stored hello')", outputs=[
            v4.new_output("stream", name="stdout", text="stored hello\n")]),
        v4.new_code_cell("6 * 7", execution_count=2, outputs=[
            v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=2)]),
        v4.new_code_cell("show_picture()", outputs=[
            v4.new_output("display_data", data={
                "image/png": base64.b64encode(_png()).decode(),
                "text/plain": "<Figure size 3x2>"})]),
        v4.new_code_cell("table()", outputs=[
            v4.new_output("display_data", data={
                "text/html": "<table class='stored-table'><tr><td>stored cell</td></tr></table>",
                "text/plain": "table"})]),
        v4.new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}, outputs=[
            v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                          traceback=[f"{ANSI_RED}ZeroDivisionError\x1b[0m: division by zero"])]),
    ]
    return nbformat.writes(nb)


def _shell() -> str:
    """A bash kernel: its cells are bash fences."""
    nb = v4.new_notebook(metadata={
        "kernelspec": {"name": "bash", "language": "bash", "display_name": "Bash"},
        "title": "Shell notebook", "date": "2026-03-04", "execute": "run"})
    nb.cells = [v4.new_code_cell('echo "from a bash notebook"')]
    return nbformat.writes(nb)


MYST = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
title: A MyST notebook
date: 2026-03-03
tags: [myst, notebooks]
execute: run
---

Prose of the MyST notebook.

```{code-cell} python
:tags: [remove-input]
print("myst input removed")
```

```{code-cell} python
---
tags: [hide-input]
---
#| echo: true
print("myst folded", 2 + 3)
```

+++

The last cell fails.

```{code-cell} python
value = 1
value.no_such_attribute
```
"""

PLAIN = """\
Title: Plain Markdown
Date: 2026-02-01

A Markdown post with a fence, read as before.

```python exec
print("plain markdown", 1 + 1)
```

```{python}
print("a Quarto cell runs in python, not as stored outputs")
```
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Build:
    base = tmp_path_factory.mktemp("notebooks")
    content, output, cache = base / "content", base / "output", base / "cache"
    write_files(content, {"posts/myst.md": MYST, "posts/plain.md": PLAIN,
                          "posts/bad.ipynb": '{"cells": [ not json'})
    for name, text in (("analysis", _analysis()), ("broken", _broken()),
                       ("stored", _stored()), ("shell", _shell())):
        (content / "posts" / f"{name}.ipynb").write_text(text, encoding="utf-8")
    proc = run_pelican(content, output, settings={
        "FENCES_CACHE_PATH": str(cache), "DEFAULT_DATE": "2025-01-02",
        "NOTEBOOK_EXECUTE": "stored"})  # the notebooks that say "execute": "run" run
    return Build(proc.returncode, proc.stdout + proc.stderr, output, content, cache)


def _fences(build: Build, slug: str) -> list:
    return build.post(slug).select("div.post-content div.fence")


def _by_text(build: Build, slug: str, text: str):
    found = [f for f in _fences(build, slug) if text in f.get_text()]
    assert len(found) == 1, f"{text!r} in {len(found)} fences"
    return found[0]


def _notebook(build: Build, slug: str):
    nb = nbformat.reads(build.read(f"posts/{slug}/{slug}.ipynb"), as_version=4)
    nbformat.validate(nb)
    return nb


def test_metadata_gives_title_date_tags_and_the_title_heading_leaves_the_body(built):
    assert built.returncode == 0, built.log
    page = built.post("analysis-of-lines")
    assert page.select_one("h1.post-title").get_text(strip=True) == "Analysis of lines"
    assert page.select_one("p.post-meta time")["datetime"].startswith("2026-03-01")
    assert [a.get_text(strip=True) for a in page.select("ul.post-tags a")] == [
        "notebooks", "lines"]
    body = page.select_one("div.post-content")
    assert "Analysis of lines" not in body.get_text()  # the heading became the title
    assert "Closing prose of the analysis." in body.get_text()
    feed = feedparser.parse(built.read("feeds/all.atom.xml"))
    entry = next(e for e in feed.entries if e.title == "Analysis of lines")
    assert "A notebook about straight lines." in entry.summary


def test_a_figure_from_a_code_cell_is_in_the_page_and_the_feed(built):
    page = built.post("analysis-of-lines")
    figure = page.select_one("div.post-content figure.fence-figure")
    assert figure.figcaption.get_text(" ", strip=True).endswith("A straight line")
    src = figure.img["src"]
    assert (built.output / "posts/analysis-of-lines" / src).resolve().is_file()
    xref = page.select_one('a.xref[href="#fig-line"]')
    assert xref.get_text(strip=True) == "Figure 1"
    feed = feedparser.parse(built.read("feeds/all.atom.xml"))
    entry = next(e for e in feed.entries if e.title == "Analysis of lines")
    images = re.findall(r'<img[^>]*src="([^"]+)"', entry.content[0].value)
    assert any(Path(src).name in url and url.startswith("http") for url in images), images


def test_echo_false_and_each_cell_tag(built):
    assert "echo off 42" in built.post("analysis-of-lines").get_text()
    echo = _by_text(built, "analysis-of-lines", "echo off 42")
    assert echo.select(".fence-source") == []
    expected = _by_text(built, "analysis-of-lines", "an expected failure")
    assert expected.select_one(".fence-source") and expected.select_one(".fence-error")
    removed_input = _by_text(built, "analysis-of-lines", "the input is removed")
    assert removed_input.select(".fence-source") == []
    removed_output = _by_text(built, "analysis-of-lines", "the output is removed")
    assert removed_output.select(".fence-outputs") == []
    assert "hidden_value = 41" not in built.post("analysis-of-lines").get_text()
    folded = _by_text(built, "analysis-of-lines", "folded 42")  # remove-cell still ran
    details = folded.select_one("details.fence-fold")
    assert details is not None and "print(" in details.get_text()
    assert "folded 42" in folded.select_one(".fence-outputs").get_text()
    statuses = built.statuses("posts/analysis.ipynb")
    assert statuses.count("expected-error") == 1 and "failed" not in statuses
    assert "content/posts/analysis.ipynb: cell 9: warning: cell tag 'hide-output' is not " \
           "supported" in built.log
    assert "hide-output tagged" in _by_text(built, "analysis-of-lines", "hide-output").get_text()
    skipped = _by_text(built, "analysis-of-lines", "skipped, stored")  # skip-execution
    assert skipped.select_one(".fence-backend").get_text(strip=True) == "stored output"


def test_a_failing_cell_is_reported_by_notebook_and_cell(built):
    assert "content/posts/broken.ipynb: cell 3, line 2: error: NameError: name " \
           "'undefined_name' is not defined" in built.log
    page = built.post("broken-notebook")  # the title came from the first heading
    assert page.select_one("p.post-meta time")["datetime"].startswith("2025-01-02")
    error = page.select_one(".fence-failed .fence-error")
    assert error.select_one(".fence-error-where").get_text(strip=True) == \
        "posts/broken.ipynb: cell 3, line 2"
    assert 'File "posts/broken.ipynb", cell 3, line 2' in error.get_text()
    source = page.select_one(".fence-failed .fence-source")  # numbered as in the cell
    assert [n.get_text(strip=True) for n in source.select(".linenos")] == ["1", "2"]
    assert "undefined_name" in source.select_one(".hll").get_text()
    assert built.statuses("posts/broken.ipynb") == ["ran", "failed", "skipped"]
    for slug in ("analysis-of-lines", "stored-results", "a-myst-notebook", "plain-markdown"):
        assert (built.output / "posts" / slug / "index.html").is_file()  # the rest is built


def test_a_file_that_is_not_a_notebook_is_a_located_error(built):
    found = [line for line in built.log.splitlines()
             if line.startswith("content/posts/bad.ipynb: error:")]
    assert len(found) == 1, built.log
    assert "not a readable notebook (invalid JSON at line 1, column 13" in found[0]


def test_stored_outputs_are_shown_without_running(built):
    page = built.post("stored-results")  # title, date, tags from Quarto's raw cell
    assert page.select_one("p.post-meta time")["datetime"].startswith("2026-03-02")
    assert [a.get_text(strip=True) for a in page.select("ul.post-tags a")] == ["stored"]
    text = page.select_one("div.post-content").get_text()
    assert "stored hello" in text and "42" in text and "module_that_does_not_exist" in text
    assert "ZeroDivisionError: division by zero" in text and ANSI_RED not in text
    assert "categories" not in text  # the front matter cell is not shown
    assert page.select_one("table.stored-table td").get_text() == "stored cell"
    figure = page.select_one("figure.fence-figure img")
    assert (built.output / "posts/stored-results" / figure["src"]).resolve().read_bytes() == _png()
    labels = {span.get_text(strip=True) for span in page.select(".fence-backend")}
    assert labels == {"stored output"}
    assert not re.search(r"stored\.ipynb[^\n]*: (?:error|warning):", built.log)  # nothing failed
    assert set(built.statuses("posts/stored.ipynb")) == {"ran"}


def test_a_myst_notebook_is_a_post(built):
    page = built.post("a-myst-notebook")
    assert [a.get_text(strip=True) for a in page.select("ul.post-tags a")] == [
        "myst", "notebooks"]
    assert page.select_one("p.post-meta time")["datetime"].startswith("2026-03-03")
    removed = _by_text(built, "a-myst-notebook", "myst input removed")
    assert removed.select(".fence-source") == []
    folded = _by_text(built, "a-myst-notebook", "myst folded 5")
    assert folded.select_one("details.fence-fold") is not None
    line = MYST.splitlines().index("value.no_such_attribute") + 1
    assert f"content/posts/myst.md:{line}: error: AttributeError" in built.log
    failed = page.select_one(".fence-failed")  # the file's own lines, on the page too
    assert failed.select_one(".fence-error-where").get_text(strip=True) == f"posts/myst.md:{line}"
    assert [n.get_text(strip=True) for n in failed.select(".linenos")] == [
        str(line - 1), str(line)]
    assert "Prose of the MyST notebook." in page.get_text()
    assert "jupytext" not in page.select_one("div.post-content").get_text()


def test_cells_are_fences_of_the_kernels_language(built):
    assert [(f["kind"], f["status"]) for f in built.report["fences"]
            if f["source"] == "posts/shell.ipynb"] == [("bash", "ran")]
    assert "from a bash notebook" in _by_text(built, "shell-notebook", "from a bash").get_text()
    cells = [c for c in _notebook(built, "shell-notebook").cells if c.cell_type == "code"]
    assert [c.source for c in cells] == ['%%bash\necho "from a bash notebook"']


def test_plain_markdown_posts_are_read_as_before(built):
    fence = _by_text(built, "plain-markdown", "plain markdown 2")
    assert "print(" in fence.select_one(".fence-source").get_text()
    assert built.statuses("posts/plain.md") == ["ran", "ran"]
    kinds = [f["kind"] for f in built.report["fences"] if f["source"] == "posts/plain.md"]
    assert kinds == ["python", "python"]


def test_notebook_downloads(built):
    page = built.post("analysis-of-lines")
    assert page.select_one("a.notebook-link")["href"].endswith("analysis-of-lines.ipynb")
    nb = _notebook(built, "analysis-of-lines")
    code = [c for c in nb.cells if c.cell_type == "code"]
    figure = next(c for c in code if "plt.plot" in c.source)
    assert any("image/svg+xml" in o.get("data", {}) for o in figure.outputs)
    echo = next(c for c in code if "echo off" in c.source)
    assert echo.metadata["jupyter"]["source_hidden"] is True
    assert "".join(o.get("text", "") for o in echo.outputs) == "echo off 42\n"
    stored = _notebook(built, "stored-results")
    first = next(c for c in stored.cells if c.cell_type == "code")
    assert first.outputs[0].text == "stored hello\n"
    assert any(o.get("output_type") == "display_data" and "image/png" in o.data
               for c in stored.cells if c.cell_type == "code" for o in c.outputs)
    myst = _notebook(built, "a-myst-notebook")
    assert any("myst folded" in c.source for c in myst.cells if c.cell_type == "code")


def test_a_bad_notebook_execute_setting_stops_the_build(site):
    build = site({"posts/a.ipynb": _broken()}, settings={"NOTEBOOK_EXECUTE": "sometimes"})
    assert build.returncode != 0
    assert "NOTEBOOK_EXECUTE = 'sometimes' is not valid: expected one of run, stored" in build.log
    assert not (build.output / "posts").exists()
