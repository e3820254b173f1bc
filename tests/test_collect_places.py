"""Fences where Markdown allows them: list items, blockquotes, admonitions; Quarto's
```{python} openers; unknown kinds; a missing closing fence that swallowed the next one."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup
from conftest import run_pelican, write_files
from execblog.engine.collect import _brace_words, _claim
from execblog.engine.model import FenceKind

PLACES = """\
Title: Places
Date: 2026-03-01

Steps:

1. First step:

   ```python exec
   def f(x):
       return x + 1
   print("in list", f(1))
   ```

2. Second step, four spaces:

    ```python exec
    #| echo: false
    print("four spaces")
    ```

Between the lists.

- ```python exec
  print("on the marker line")
  ```
- a bullet with `sh`:

    ```{sh}
    echo "from sh"
    ```

> A quote:
>
> ```python exec
> print("quoted")
> ```
>
> After the fence.

!!! note "A note"

    ```python exec
    print("in a note")
    ```

```{python}
#| echo: false
print("quarto with option lines")
```

```{python echo=false, fold=true}
print("quarto with options in braces")
```

````markdown
```python exec
print("never: a four-backtick example")
```
````

    ```python exec
    print("never: an indented code block")
    ```

```{{python}}
print("never: Quarto's shown-only cell")
```

1. A failing step:

    ```python exec
    def g():
        raise KeyError("deep")
    g()
    ```
"""

BROKEN = """\
Title: Broken
Date: 2026-03-02

```r exec
x <- 1
```

```{julia}
println(1)
```

```python exec
print("still runs")
```

```python exec
x = 1

The closing fence above is missing.

```python exec
print(x)
```
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("places")
    write_files(base / "content", {"posts/places.md": PLACES, "posts/broken.md": BROKEN})
    cache = base / "cache"
    proc = run_pelican(base / "content", base / "out", settings={"FENCES_CACHE_PATH": str(cache)})

    def page(slug):
        html = (base / "out/posts" / slug / "index.html").read_text(encoding="utf-8")
        return BeautifulSoup(html, "html.parser").select_one("div.post-content")

    report = json.loads((cache / "report.json").read_text(encoding="utf-8"))
    return {"proc": proc, "log": proc.stdout + proc.stderr, "page": page, "report": report}


def entries(built, slug):
    return [f for f in built["report"]["fences"] if f["source"] == f"posts/{slug}.md"]


def stdout(div) -> str:
    return "".join(p.text for p in div.select("pre.fence-stdout"))


def test_fences_in_lists_quotes_and_notes_run_in_place(built):
    assert built["proc"].returncode == 0, built["log"]
    page = built["page"]("places")
    first, bullets = page.find_all("ol")[0], page.find("ul")
    items = first.find_all("li", recursive=False)
    assert len(items) == 2  # the fence did not break the list
    assert items[0].select_one("div.fence") is not None
    assert items[0].find("p").text == "First step:"
    assert stdout(items[0]) == "in list 2\n"
    assert "def f(x):\n    return x + 1" in items[0].select_one("div.fence-source").text
    assert stdout(items[1]) == "four spaces\n"
    assert items[1].select_one("div.fence-source") is None  # #| echo: false, dedented
    marker, sh = bullets.find_all("li", recursive=False)
    assert stdout(marker) == "on the marker line\n"
    assert stdout(sh) == "from sh\n" and "fence-bash" in sh.select_one("div.fence")["class"]
    quote = page.find("blockquote")
    assert [p.text for p in quote.find_all("p", recursive=False)] == [
        "A quote:", "After the fence."]
    assert stdout(quote.select_one("div.fence")) == "quoted\n"
    note = page.select_one("div.admonition")
    assert stdout(note) == "in a note\n"
    assert note.select_one("p.admonition-title").text == "A note"
    # Line numbers are the post's, indented or quoted.
    lines = [(f["line"], f["status"]) for f in entries(built, "places")]
    assert lines == [(8, "ran"), (16, "ran"), (23, "ran"), (28, "ran"), (34, "ran"),
                     (42, "ran"), (46, "ran"), (51, "ran"), (73, "failed")]


def test_indented_fence_errors_name_post_lines(built):
    failing = built["page"]("places").find_all("ol")[-1].select_one("div.fence-failed")
    traceback = failing.select_one("pre.fence-traceback").text
    assert 'File "posts/places.md", line 73, in g' in traceback
    assert 'File "posts/places.md", line 74' in traceback
    assert re.search(r"posts/places\.md:73: error: KeyError", built["log"]), built["log"]


def test_quarto_openers_run_like_exec(built):
    fences = built["page"]("places").find_all("div", class_="fence", recursive=False)
    quarto = [f for f in fences if "quarto" in stdout(f)]
    assert [stdout(f) for f in quarto] == ["quarto with option lines\n",
                                           "quarto with options in braces\n"]
    assert all(f.select_one("div.fence-source") is None for f in quarto)  # echo=false


def test_examples_and_indented_code_never_run(built):
    page, log = built["page"]("places"), built["log"]
    shown = [code.text for code in page.select("pre code")]
    assert any("never: a four-backtick example" in text for text in shown)
    assert any("never: an indented code block" in text for text in shown)
    assert "never: Quarto's shown-only cell" in page.text
    assert "never" not in "".join(stdout(d) for d in page.select("div.fence"))
    assert not re.search(r"places\.md:\d+: warning", log), log  # nothing looks swallowed


def test_unknown_kinds_are_located_errors_listing_the_installed_ones(built):
    log, page = built["log"], built["page"]("broken")
    match = re.search(r"posts/broken\.md:4: error: unknown fence kind 'r'"
                      r".*installed kinds: (.*)$", log, re.MULTILINE)
    assert match, log
    assert match[1] == "bash (sh), c, cpp (c++), cuda (cu), diagram, python, rust (rs)"
    # A Quarto cell of a language no kind runs is Quarto's to run: shown as code, a warning.
    assert re.search(r"posts/broken\.md:8: warning: unknown fence kind 'julia' \(```\{julia\}\)"
                     r".*it is shown as code, not run", log), log
    assert "println(1)" in page.select_one("pre code").text
    (block,) = [b for b in page.select("div.fence-failed") if "fence-r" in b["class"]]
    assert "x <- 1" in block.select_one("div.fence-source").text  # shown, not inline code
    assert "unknown fence kind 'r'" in block.select_one("div.fence-error").text
    statuses = [(f["line"], f["kind"], f["status"]) for f in entries(built, "broken")]
    # A fence of no installed kind has a session of its own: the Python after it runs.
    assert statuses[:2] == [(4, "r", "failed"), (12, "python", "ran")]
    assert stdout(page.find_all("div", class_="fence")[1]) == "still runs\n"


def test_swallowed_fence_is_a_warning_naming_both_lines(built):
    log = built["log"]
    assert re.search(r"posts/broken\.md:16: warning: the fence opened at line 16 runs on to "
                     r"line 21, which opens another fence \(```python exec\)", log), log
    # It still runs as written (the report names the error's line), and swallowed line 21.
    assert [f["status"] for f in entries(built, "broken")] == ["failed", "ran", "failed"]
    assert entries(built, "broken")[2]["message"].startswith("SyntaxError")


def test_strict_build_fails_on_unknown_kind(site):
    build = site({"posts/r.md": "Title: R\nDate: 2026-03-03\n\n```r exec\nx <- 1\n```\n"},
                 settings={"FENCES_STRICT": True})
    assert build.returncode != 0
    assert re.search(r"posts/r\.md:4: error: unknown fence kind 'r'", build.log), build.log
    assert "1 fence(s) failed (strict mode)" in build.log


KINDS = [
    FenceKind(name="python", language="python", marker="exec", run=print),
    FenceKind(name="bash", language="bash", aliases=("sh",), marker="exec", run=print),
    FenceKind(name="diagram", language="diagram", run=print),
]


@pytest.mark.parametrize(("info", "kind"), [
    ("python exec", "python"), ("{python}", "python"), ("{python echo=false}", "python"),
    ("{sh}", "bash"), ("diagram", "diagram"), ("python", None), ("{.python}", None),
    ("{{python}}", None), ("{=html}", None), ("text", None), ("", None),
    ('python exec="1"', "python"), ("python exec=on", "python"), ('sh exec="true"', "bash"),
    ('console exec="1"', "bash"), ('python exec="off"', None), ('md exec="1"', None),
])
def test_claim(info, kind):
    claim = _claim(KINDS, info)
    assert (claim.kind.name if claim and claim.kind else None) == kind
    assert (claim is None) == (kind is None)


@pytest.mark.parametrize(("info", "needle"), [
    ("r exec", "unknown fence kind 'r' (```r exec)"),
    ("{julia}", "unknown fence kind 'julia' (```{julia})"),
    ("Python exec", "did you mean 'python'?"),
    ("{diagram}", "write ```diagram"),
])
def test_claim_problems(info, needle):
    claim = _claim(KINDS, info)
    assert claim.kind is None and needle in claim.problem
    assert "installed kinds: bash (sh), diagram, python" in claim.problem or "{" in info


def test_brace_words():
    assert _brace_words(', echo=false, caption="A, b" fold=true', 3) == [
        "echo=false", "caption=A, b", "fold=true"]
