"""Pages written for other tools build unchanged: markdown-exec's openers and options, and
Quarto's fence-level syntax (```{{python}}, YAML in #| lines, echo: fenced).

Unit tests read openers; one module-scoped real build checks the pages and the log, and a
small strict build checks that what is not supported fails it.
"""

from __future__ import annotations

import textwrap
from collections import Counter

import pytest
from bs4 import BeautifulSoup
from conftest import located, run_pelican, write_files
from execblog.engine.collect import _claim
from execblog.engine.manager import make_manager
from execblog.engine.plain import readable
from execblog.sources import mdexec

KINDS = [k for ks in make_manager().hook.fences_kinds() for k in ks]
NATIVE = ["hl_lines", "caption", "session", "id"]


# -- unit tests: openers ------------------------------------------------------------------------
def test_exec_values_follow_markdown_exec():
    for value in ("1", "on", "true", "yes", "TRUE", "anything"):
        claim = _claim(KINDS, f'python exec="{value}"'.replace('"', ""))
        assert claim is not None and claim.markdown_exec and claim.kind.name == "python"
    for value in ("0", "off", "false", "no", "False"):
        assert _claim(KINDS, f"python exec={value}") is None  # a plain code block
    assert _claim(KINDS, 'pycon exec="1"').kind.name == "python"
    assert _claim(KINDS, 'py exec="1"').kind.name == "python"
    assert _claim(KINDS, 'md exec="1"') is None  # not run here: a warning, shown as code
    assert _claim(KINDS, "python exec").markdown_exec is False  # the engine's own opener


def test_options_become_engine_options():
    opener = mdexec.read_opener(["python", "exec=1"], 4, NATIVE, 2)
    assert opener.runs and opener.kind == "python" and not opener.notes
    assert opener.options == {"output": ("asis", 4), "echo": ("false", 4),
                              "idprefix": ("exec-3--", 4),
                              "session": ("markdown-exec-3", 4)}  # globals of its own
    full = mdexec.read_opener(
        ["pycon", "exec=on", "html=true", "source=tabbed-right", "tabs=A|B", "result=ini",
         "session=s", "title=t.py", "id=super cli", "hl_lines=2", "returncode=1"], 9, NATIVE, 0)
    got = {k: v for k, (v, _) in full.options.items()}
    assert got == {"output": "html", "echo": "true", "source": "tabbed-right", "tabs": "A|B",
                   "result": "ini", "session": "s", "title": "t.py", "syntax": "pycon",
                   "idprefix": "super-cli-", "hl_lines": "2", "error": "true"}
    assert mdexec.read_opener(["python", "exec=1", "idprefix="], 1, NATIVE, 0).options[
        "idprefix"] == ("", 1)
    odd = mdexec.read_opener(["python", "exec=1", "width=10", "workdir=..", "linenums=1",
                              "updatetoc=yes"], 1, NATIVE, 0)
    assert [n.split()[0:2] for n in odd.notes] == [
        ["updatetoc:", "headings"], ["markdown-exec", "option"], ["markdown-exec", "option"],
        ["option", "linenums='1'"]]
    assert "COLUMNS" in odd.notes[1] and "was ignored" in odd.notes[3]


def test_transcripts_run_their_prompt_lines_and_hidden_lines_run():
    pycon = '>>> x = 1\n>>> for i in []:\n...     pass\n1\n>>> print(x)\n1'
    assert mdexec.runnable("pycon", pycon) == "x = 1\nfor i in []:\n    pass\n\nprint(x)\n"
    assert mdexec.shown("pycon", pycon) == ">>> x = 1\n>>> for i in []:\n...     pass\n>>> print(x)"
    assert mdexec.runnable("console", "$ echo hi\nhi") == "echo hi\n"
    assert mdexec.transcript("python", "def f(x):\n    return x\n\nprint(f(1))") == (
        "pycon", ">>> def f(x):\n...     return x\n... \n>>> print(f(1))")
    assert mdexec.transcript("bash", "echo hi") == ("console", "$ echo hi")
    assert mdexec.transcript("pycon", pycon)[1] == mdexec.shown("pycon", pycon)
    code = 'print("a")\nprint("b")  # markdown-exec: hide'
    assert mdexec.runnable("", code) == code and mdexec.shown("", code) == 'print("a")'


def test_openers_python_markdown_cannot_read_are_found():
    for opener in ("```python", "``` markdown", "```{.python #x}", "~~~", "```{python}"):
        assert readable(opener), opener
    for opener in ("```{{python}}", '```python exec="1"', '```python title="a.py"'):
        assert not readable(opener), opener


# -- one real build -----------------------------------------------------------------------------
MEXEC = """\
Title: From MkDocs
Date: 2026-03-01

## Commands

Printed text is Markdown:

```python exec="1"
# a comment, not a heading
print("**Hello world!**")
```

```python exec="on" source="above" title="hello.py"
print("I'm the result!")
print("<hr>")  # markdown-exec: hide
```

```python exec="true" source="below" session="s"
x = 41
print(f"x is {x}")
```

```python exec="yes" html="1" session="s"
print(f"<p class='raw'>{x + 1} <b>bold</b></p>")
```

```python exec="0"
print("not run")
```

```pycon exec="1" source="console"
>>> name = "Baron"
>>> print(name)
Baron
```

```console exec="1" source="console"
$ echo from the shell
```

```python exec="1" source="tabbed-left" tabs="Code|Output"
print("tabbed")
```

```python exec="1" source="material-block"
print("in a block")
```

```python exec="1" result="ini"
print("[section]\\nkey = value")
```

```python exec="1" idprefix=""
print("## Commands\\n\\n[to the commands](#commands)")
```

```python exec="1" id="super-cli"
print("#### Commands")
```

```python exec="1"
print("#### Commands")
```

```python exec="1" width="10"
print("ok")
```

````md exec="1" source="tabbed-left"
Literate **Markdown**:

```python exec="1"
print("inner")
```
````

```python exec="1" source="above"
--8<-- "usage/hello.py"
```

```python exec="1"
--8<-- "usage/missing.py"
```

```python title="setup.py"
from setuptools import setup
```

## End
"""

QUARTO = """\
Title: From Quarto
Date: 2026-03-01

## Shown, not run

```{{python}}
#| label: fig-polar
print("never runs")
```

## Options as YAML

```{python}
#| echo: fenced
#| fig-cap:
#|   - "Line one"
#|   - "Line two"
#| fig-alt: |
#|   Two lines,
#|   side by side.
#| layout-ncol: 2
#| fig-align: center
import matplotlib.pyplot as plt
points = [1, 3, 2]
plt.plot(points)
plt.figure()
plt.plot([3, 1, 2]);
```

```{python}
#| output: asis
#| hl_lines: [1]
print("### From the fence")
```

```{python}
#| output: asis
#| echo: false
print("x" * 60_000)
```

```{=html}
<p class="raw-block">raw</p>
```

It drew `{python} len(points)` points, `{python} "in a sentence"`; `{r} 1+1` is R,
and ``this `{python} example` `` is code.

## After

```text
an example whose closing fence is missing

```{{python}}
print(1)
```
"""


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("foreign")
    write_files(base / "content", {"posts/mexec.md": MEXEC, "posts/quarto.md": QUARTO,
                                   "snippets/usage/hello.py": 'print("from a snippet")\n'})
    proc = run_pelican(base / "content", base / "out",
                       settings={"FENCES_CACHE_PATH": str(base / "cache")})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log

    def page(slug: str) -> BeautifulSoup:
        html = (base / "out" / "posts" / slug / "index.html").read_text(encoding="utf-8")
        return BeautifulSoup(html, "html.parser").select_one("div.post-content")

    return page, log


def test_markdown_exec_page_keeps_its_structure(built):
    page, _ = built
    post = page("from-mkdocs")
    own = [h for h in post.find_all(["h1", "h2", "h3", "h4"])
           if not h.find_parent("div", class_="fence")]
    assert [h.get_text().rstrip("#") for h in own] == ["Commands", "End"]
    assert not post.find("blockquote") and not post.find("h1")  # nothing garbled
    strong = post.find_all("strong")  # what fences print, and the literate Markdown's
    assert [s.get_text() for s in strong] == ["Hello world!", "Markdown"]
    assert strong[0].find_parent("div", class_="fence")
    assert strong[1].find_parent("section", class_="fence-tab")
    ids = Counter(e["id"] for e in post.find_all(id=True))
    assert all(n == 1 for n in ids.values()), ids
    # generated headings: idprefix="" deduped against the post's own, id= and exec-N-- prefixes
    generated = [h["id"] for h in post.select("div.fence h2, div.fence h4")]
    assert generated == ["commands_1", "super-cli-commands", "exec-12--commands"]
    link = post.find("a", string="to the commands")
    assert link["href"] == "#commands_1"


def test_markdown_exec_options(built):
    page, _ = built
    fences = page("from-mkdocs").select("div.fence")
    plain, above, below, html, pycon, console, tabbed, block, result = fences[:9]
    assert not plain.select(".fence-source, .fence-outputs")  # source="" shows no source
    assert above.select_one(".fence-title").text == "hello.py"
    assert "markdown-exec: hide" not in above.text and "<hr>" not in above.text
    assert above.find("hr") is not None  # the hidden line ran
    assert above.contents[0]["class"] == ["fence-source"] and above.contents[1].name == "p"
    assert below.contents[0].name == "p" and below.contents[-1]["class"] == ["fence-source"]
    assert below.p.text == "x is 41"
    assert html.select_one("p.raw").b.text == "bold" and html.select_one("p.raw").text == "42 bold"
    code = pycon.select_one(".fence-console pre").text
    assert code.startswith('>>> name = "Baron"\n>>> print(name)\nBaron')
    assert not pycon.select(".fence-outputs")  # the output is in the console block
    assert console.select_one(".fence-console pre").text.strip() == (
        "$ echo from the shell\nfrom the shell")
    labels = [p.text for p in tabbed.select(".fence-tab-label")]
    assert labels == ["Code", "Output"]
    assert tabbed.select(".fence-tab")[0].select_one(".fence-source")
    assert [p.text for p in tabbed.select(".fence-tab")[1].find_all("p")] == ["Output", "tabbed"]
    assert block.select_one(".fence-result-block p").text == "in a block"
    assert result.select_one(".fence-result pre").text == "[section]\nkey = value\n"
    post = page("from-mkdocs")
    # exec="0", the literate md demo's source and a title on a plain block: code blocks
    blocks = [b for b in post.select("div.highlight") if not b.find_parent("div", "fence")]
    texts = [b.text for b in blocks]
    assert texts[0] == 'print("not run")\n'
    assert texts[1].startswith('Literate **Markdown**:\n\n```python exec="1"\nprint("inner")')
    assert texts[2] == "from setuptools import setup\n"
    assert blocks[2].find_previous_sibling("p")["class"] == ["fence-title"]
    # literate Markdown: its source in one pane, the Markdown with its fence run in the other
    literate = blocks[1].find_parent("div", class_="fence-tabbed")
    source, rendered = literate.select("section.fence-tab")
    assert [p.text for p in literate.select(".fence-tab-label")] == ["Source", "Result"]
    assert source.select_one("div.highlight") is blocks[1]
    assert rendered.strong.text == "Markdown" and rendered.select_one("div.fence p").text == "inner"
    # pymdownx.snippets: the file's code runs and shows; one not found is not run
    snippet, missing = post.select("div.fence")[-2:]
    assert snippet.select_one(".fence-source").text.strip() == 'print("from a snippet")'
    assert snippet.select("p")[-1].text == "from a snippet"
    assert '--8<-- "usage/missing.py"' not in missing.text  # echo off, nothing printed


def test_markdown_exec_warnings_are_located(built):
    _, log = built
    where = {(p.rsplit("/", 1)[-1], n, s): m for p, n, s, m in located(log)}
    width = where[("mexec.md", line_of(MEXEC, 'width="10"'), "warning")]
    assert "width='10' is not supported" in width and "COLUMNS" in width
    missing = where[("mexec.md", line_of(MEXEC, "usage/missing.py") - 1, "warning")]
    assert 'snippet --8<-- "usage/missing.py" not found' in missing and "not run" in missing
    assert not [m for p, _, s, m in located(log) if s == "error"]


def test_quarto_fence_syntax(built):
    page, log = built
    post = page("from-quarto")
    heads = [h.get_text().rstrip("#") for h in post.find_all(["h1", "h2", "h3"])]
    assert heads == ["Shown, not run", "Options as YAML", "From the fence", "After"]
    shown = post.select_one("div.highlight").text
    assert shown == '```{python}\n#| label: fig-polar\nprint("never runs")\n```\n'
    fenced, asis, cut = post.select("div.fence")
    source = fenced.select_one(".fence-source pre").text
    assert source.startswith("```{python}\n#| echo: fenced\n#| fig-cap:\n")
    assert source.rstrip().endswith("plt.plot([3, 1, 2]);\n```")
    figure = fenced.select_one("figure.fence-subfigures")
    assert "fence-ncol-2" in figure["class"] and len(figure.select("a.fig-light img")) == 2
    assert figure.select_one("img")["alt"] == "Two lines,\nside by side. (a)"
    assert "Line one" in figure.text and "Line two" in figure.text  # the list of captions
    assert asis.h3["id"] == "from-the-fence" and asis.select_one("span.hll")
    assert cut.select_one("pre.fence-stdout") and cut.select_one(".fence-truncated")
    assert post.select_one("p.raw-block").text == "raw"
    # inline code: run in the post's session after the fences above it, shown in the sentence
    assert [s.text for s in post.select("span.fence-inline")] == ["3", "in a sentence"]
    assert post.find("code", string="{r} 1+1")
    assert post.find("code", string="this `{python} example`")
    found = {(n, s): m for p, n, s, m in located(log) if p.endswith("quarto.md")}
    assert "'fig-align' is not supported" in found[(line_of(QUARTO, "fig-align"), "warning")]
    inline = found[(line_of(QUARTO, "It drew"), "warning")]
    assert "inline code `{r} 1+1` is not run: no installed kind runs 'r'" in inline
    truncated = found[(line_of(QUARTO, 'print("x" * 60_000)') - 3, "warning")]
    assert "output: asis not applied: stdout was cut" in truncated
    swallowed = found[(line_of(QUARTO, "```text"), "warning")]
    assert "runs on to line" in swallowed and "(```{{python}})" in swallowed


def test_unsupported_is_an_error_in_strict_builds(tmp_path):
    post = textwrap.dedent("""\
        Title: Strict
        Date: 2026-03-01

        ```python linenums="1"
        print("shown, never run")
        ```

        After.
        """)
    write_files(tmp_path / "content", {"posts/strict.md": post})
    proc = run_pelican(tmp_path / "content", tmp_path / "out", settings={
        "FENCES_CACHE_PATH": str(tmp_path / "cache"), "FENCES_STRICT": True})
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log
    errors = [(n, m) for p, n, s, m in located(log) if s == "error" and p.endswith("strict.md")]
    assert errors == [(4, 'the code block opener ```python linenums="1" is not one '
                          "Python-Markdown reads: shown as a ```python code block; ignored: "
                          "linenums=1")], log
    assert "1 site error(s) (strict mode)" in log
