"""What real documents written for other tools did to Execblog, as small documents written
here: a notebook saved with the error it teaches, an old matplotlib style name, %xmode and
%prun; Quarto documents that share a title, include untitled ``_`` Markdown pieces, hold
cells of languages nothing here runs (``{r}``, ``{dot}``), free-text labels,
``renderings`` and equations with attributes after the label; MkDocs pages with no
``Title:``, a markdown-exec bash fence reading an unset variable and a pymdownx tab.

One module-scoped real build; each test reads its pages and log.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter

import pytest
from bs4 import BeautifulSoup
from conftest import located, run_pelican, write_files

NOTEBOOK = {
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                "display_name": "Python 3"}},
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Broadcasting rules\n\nProse."},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
         "source": "%matplotlib inline\nimport numpy as np\n"
                   "import matplotlib.pyplot as plt\nplt.style.use('seaborn-whitegrid')"},
        {"cell_type": "code", "metadata": {}, "execution_count": 2,
         "source": "np.ones((3, 2)) + np.arange(3)",
         "outputs": [{"output_type": "error", "ename": "ValueError",
                      "evalue": "operands could not be broadcast together",
                      "traceback": ["ValueError: operands could not be broadcast together"]}]},
        {"cell_type": "code", "metadata": {}, "execution_count": 3, "outputs": [],
         "source": "%xmode Plain\n%prun sorted(range(50))"},
        {"cell_type": "markdown", "metadata": {}, "source": "## After the error"},
        {"cell_type": "code", "metadata": {}, "execution_count": 3, "outputs": [],
         "source": "plt.plot([1, 3, 2])\nprint('AFTER-' + 'ERROR')"},
    ],
}

SAME_TITLE = """
---
title: Float test
---

```{python}
print("RAN-" + "{name}")
```
"""

QUARTO = r"""
---
title: Real quarto
---

## Setup {#sec-setup}

```yaml
execute:
  echo: false
```

{{< include _setup.md >}}

```{r}
#| label: fig-r
plot(1:10)
```

```{dot}
digraph G { a -> b }
```

```{python}
#| label: my first plot
print("FREE-" + "LABEL")
```

```{python}
#| label: fig-dark
#| renderings: [light, dark]
import matplotlib.pyplot as plt
plt.plot([1, 2])
plt.title("LIGHT-TITLE")
plt.show()
plt.plot([2, 1])
plt.title("DARK-TITLE")
plt.show()
```

$$
E = mc^2
$$ {#eq-energy alt="Mass-energy equivalence"}

See @eq-energy and @fig-dark.

```{python}
#| label: bad-line
#| code-overflow: wrap
print("AFTER-" + "INCLUDE")
```
"""

SETUP = """
Included prose, PIECE-TEXT.

It is long.

Several lines.
"""

MKDOCS_PAGE = """
# Usage guide

Intro text.

## Options

```python exec="1"
print("MKDOCS-" + "RAN")
```

```bash exec="1"
echo "UNSET-[$NOT_SET_ANYWHERE]"
```

=== "Rendered"
    Tab content.
"""

NO_HEADING = """
Only prose, NO-HEADING-TEXT.
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("real")
    content = tmp / "content"
    write_files(content, {
        "posts/first-float.qmd": SAME_TITLE.replace("{name}", "FIRST"),
        "posts/second-float.qmd": SAME_TITLE.replace("{name}", "SECOND"),
        "posts/real.qmd": QUARTO, "posts/_setup.md": SETUP,
        "posts/usage.md": MKDOCS_PAGE, "posts/plain-notes.md": NO_HEADING,
    })
    (content / "posts/broadcast.ipynb").write_text(json.dumps(NOTEBOOK), encoding="utf-8")
    proc = run_pelican(content, tmp / "output",
                       settings={"FENCES_CACHE_PATH": str(tmp / "cache")})
    report = json.loads((tmp / "cache/report.json").read_text(encoding="utf-8"))
    return proc, tmp / "output", report


def page(output, slug: str) -> BeautifulSoup:
    return BeautifulSoup((output / "posts" / slug / "index.html").read_text(encoding="utf-8"),
                         "html.parser")


def statuses(report: dict, source: str) -> list[str]:
    return [f["status"] for f in report["fences"] if f["source"] == source]


def test_the_build_succeeds_and_loses_no_page(built):
    proc, output, _report = built
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "could not find information about 'title'" not in log
    assert "Could not process" not in log
    pages = sorted(p.parent.name for p in (output / "posts").glob("*/index.html"))
    assert pages == ["broadcasting-rules", "first-float", "plain-notes", "real",
                     "second-float", "usage-guide"]


def test_notebook_saved_with_its_error_and_an_old_style_runs_through(built):
    _proc, output, report = built
    assert statuses(report, "posts/broadcast.ipynb") == ["ran", "expected-error", "ran",
                                                           "ran"]
    content = page(output, "broadcasting-rules").select_one(".post-content")
    assert "AFTER-ERROR" in content.get_text()
    assert "operands could not be broadcast" in content.get_text()
    profiled = next(f for f in content.select("div.fence") if "%prun" in f.get_text())
    assert "function calls" in profiled.select_one(".fence-outputs").get_text()  # cProfile
    assert len(content.select(".fence-outputs figure.fence-figure")) == 1
    assert [h.get_text().strip("#¶ ") for h in content.find_all("h2")] == ["After the error"]


def test_quarto_documents_sharing_a_title_are_named_by_their_files(built):
    _proc, output, _report = built
    assert "RAN-FIRST" in page(output, "first-float").get_text()
    assert "RAN-SECOND" in page(output, "second-float").get_text()
    assert page(output, "first-float").select_one("h1.post-title").get_text() == "Float test"


def test_untitled_underscore_markdown_is_a_piece_to_include(built):
    _proc, output, _report = built
    assert not list(output.rglob("*setup*"))
    assert "PIECE-TEXT" in page(output, "real").get_text()
    # a YAML code block (lexer tokens no Pygments style names) is highlighted, not fatal
    assert any("echo: false" in pre.get_text()
               for pre in page(output, "real").select(".post-content pre"))


def test_cells_nothing_here_runs_are_code_with_a_located_warning(built):
    proc, output, report = built
    log = located(proc.stdout + proc.stderr)
    shown = {(line, severity) for path, line, severity, msg in log
             if path.endswith("real.qmd") and "it is shown as code, not run" in msg}
    lines = textwrap.dedent(QUARTO).lstrip("\n").splitlines()
    r_line = lines.index("```{r}") + 1
    dot_line = lines.index("```{dot}") + 1
    assert shown == {(r_line, "warning"), (dot_line, "warning")}
    dot = next(m for p, n, s, m in log if n == dot_line and p.endswith("real.qmd"))
    assert "```diagram" in dot
    assert "failed" not in statuses(report, "posts/real.qmd")
    codes = [pre.get_text() for pre in page(output, "real").select(".post-content pre")]
    assert any("plot(1:10)" in c for c in codes) and any("a -> b" in c for c in codes)


def test_free_text_label_warns_and_the_cells_run(built):
    proc, output, report = built
    log = located(proc.stdout + proc.stderr)
    lines = textwrap.dedent(QUARTO).lstrip("\n").splitlines()
    label_line = lines.index("#| label: my first plot") + 1
    assert any(n == label_line and s == "warning" and "'my first plot' is not an id" in m
               for p, n, s, m in log if p.endswith("real.qmd"))
    assert statuses(report, "posts/real.qmd") == ["ran"] * 3
    content = page(output, "real").select_one(".post-content")
    assert "FREE-LABEL" in content.get_text() and "AFTER-INCLUDE" in content.get_text()


def test_renderings_light_dark_shows_the_light_figure_once(built):
    proc, output, _report = built
    assert not any("renderings" in m for *_rest, m in located(proc.stdout + proc.stderr))
    figures = page(output, "real").select(".post-content figure.fence-figure")
    assert len(figures) == 1 and figures[0].find_parent(id="fig-dark") is not None
    light = figures[0].select_one("a.fig-light img")["src"]
    svg = (output / "posts/real" / light).resolve().read_text(encoding="utf-8")
    assert "LIGHT-TITLE" in svg and "DARK-TITLE" not in svg  # matplotlib names its texts


def test_equation_label_with_attributes_is_referable(built):
    proc, output, _report = built
    assert "unknown cross-reference" not in proc.stdout + proc.stderr
    content = page(output, "real").select_one(".post-content")
    equation = content.select_one("div.xref-equation#eq-energy")
    assert equation["aria-label"] == "Mass-energy equivalence"
    assert "{#eq-energy" not in content.get_text()
    refs = {a["href"]: a.get_text() for a in content.select("a.xref")}
    assert refs["#eq-energy"].startswith("Eq") and refs["#fig-dark"] == "Figure 1"


def test_warnings_after_an_include_name_the_post_line(built):
    proc, _output, _report = built
    lines = textwrap.dedent(QUARTO).lstrip("\n").splitlines()
    at = lines.index("#| code-overflow: wrap") + 1
    found = [n for p, n, _s, m in located(proc.stdout + proc.stderr)
             if p.endswith("real.qmd") and "'code-overflow'" in m]
    assert found == [at]


def test_mkdocs_page_without_title_takes_its_first_heading(built):
    proc, output, report = built
    soup = page(output, "usage-guide")
    assert soup.select_one("h1.post-title").get_text() == "Usage guide"
    content = soup.select_one(".post-content")
    assert content.find("h1") is None  # the heading became the title, not a second h1
    assert [h.get_text().strip("#¶ ") for h in content.find_all("h2")] == ["Options"]
    assert "MKDOCS-RAN" in content.get_text()
    assert statuses(report, "posts/usage.md") == ["ran", "ran"]
    ids = Counter(e["id"] for e in soup.find_all(id=True))
    assert all(n == 1 for n in ids.values())
    assert "UNSET-[]" in content.get_text()  # markdown-exec's bash: unset is empty
    tab = [(n, s) for p, n, s, m in located(proc.stdout + proc.stderr)
           if p.endswith("usage.md") and "pymdownx.tabbed" in m]
    page_lines = textwrap.dedent(MKDOCS_PAGE).lstrip("\n").splitlines()
    assert tab == [(page_lines.index('=== "Rendered"') + 1, "warning")]
    plain = page(output, "plain-notes")
    assert plain.select_one("h1.post-title").get_text() == "Plain notes"
