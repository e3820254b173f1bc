"""Jupyter's semantics in ``python exec`` fences: ``plt.show()`` ends the current figures in
order with the text output, and IPython's build-time magics run (the page shows them as
written); any other magic is a located error that loses nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import located, run_pelican, write_files

SHOWS = '''\
Title: Shows
Date: 2024-01-01

Two plots, each ended by `plt.show()`.

```python exec
import matplotlib.pyplot as plt
print("before the first")
plt.plot([1, 2, 3], color="tab:blue")
plt.show()
print("between them")
plt.plot([3, 2, 1], color="tab:red")
plt.show()
print("after both")
plt.figure()
plt.bar([1, 2], [2, 1])
```

```python exec
#| fig-cap: "Shown with a caption"
#| fig-alt: "A rising line"
plt.plot([0, 1], [0, 1])
plt.show()
print("after the captioned one")
```

```python exec
#| fig-format: png
plt.plot([1, 3, 2])
plt.show()
plt.show()
print("shown already")
```
'''

MAGICS = '''\
Title: Magics
Date: 2024-01-02

```python exec
%matplotlib inline
%config InlineBackend.figure_format = 'retina'
%time total = sum(range(1000))
print("total", total)
%timeit -q x = 1 + 1
%timeit 3 * 3
label = "there"
!echo shell says {label}
words = !echo one; echo two >&2
print(words, words.n)
%time len(words)
```

```python exec
%%bash
echo "bash adds $((1 + 2))"
echo "to stderr" >&2
```

```python exec
%%time
doubled = total * 2
doubled
```

```python exec
%%timeit -n 5 -r 2 base = 10
base ** 2
```

```python exec
def lines():
    found = !printf 'a\\nb\\nc\\n'
    return len(found)
print("lines", lines())
```

```python exec
import math
%time math.sqrt(-1)
```
'''

BROKEN = '''\
Title: Broken
Date: 2024-01-03

Prose before.

```python exec
print("never printed")
%notamagic foo
```

Prose between.

```python exec session=second
%pip install numpy
```

```python exec session=third
%%bash
echo "still ran"
false
echo "after false"
exit 3
```

```python exec session=fourth
print("this session is fine")
```

Prose after.
'''


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("jupyter")
    content, out = tmp / "content", tmp / "output"
    write_files(content, {"posts/shows.md": SHOWS, "posts/magics.md": MAGICS,
                          "posts/broken.md": BROKEN})
    proc = run_pelican(content, out, settings={"FENCES_CACHE_PATH": str(tmp / "cache")})
    return {"out": out, "log": proc.stdout + proc.stderr, "returncode": proc.returncode}


def line_of(text: str, needle: str) -> int:
    """The 1-based line of ``text`` that starts with ``needle``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(needle))


def errors(built: dict) -> dict[tuple[str, int], str]:
    """The build log's located errors: {(path, line): message}."""
    return {(p, n): m for p, n, sev, m in located(built["log"]) if sev == "error"}


def post(built: dict, slug: str) -> BeautifulSoup:
    return BeautifulSoup((built["out"] / "posts" / slug / "index.html").read_text("utf-8"),
                         "html.parser")


def fences(built: dict, slug: str) -> list:
    return post(built, slug).select("div.fence")


def sequence(fence) -> list[str]:
    """The fence's outputs in page order: ``text:...`` for text, ``fig:<file>`` for figures."""
    found = []
    for node in fence.select_one(".fence-outputs").find_all(["pre", "img"]):
        if node.name == "pre":
            found.append("text:" + node.get_text().strip())
        elif "fig-dark" not in (node.parent.get("class") or []):
            found.append("fig:" + node["src"])
    return found


def test_show_ends_each_figure_in_order_with_the_text(built):
    seq = sequence(fences(built, "shows")[0])
    assert [s if s.startswith("text:") else "fig" for s in seq] == [
        "text:before the first", "fig", "text:between them", "fig", "text:after both", "fig"]
    figures = [s[4:] for s in seq if s.startswith("fig:")]
    assert len(set(figures)) == 3  # three different figures: nothing was drawn into one
    blue, red = (Path(built["out"] / "posts/shows" / f).resolve().read_text() for f in
                 figures[:2])
    assert "#1f77b4" in blue and "#d62728" not in blue  # tab:blue only
    assert "#d62728" in red and "#1f77b4" not in red


def test_a_shown_figure_keeps_caption_alt_text_and_dark_rendering(built):
    fence = fences(built, "shows")[1]
    figure = fence.select_one("figure")
    assert figure.select_one("figcaption").get_text(strip=True) == "Shown with a caption"
    light, dark = figure.select("img")
    assert light["alt"] == dark["alt"] == "A rising line"
    assert ".dark-" in dark["src"]
    assert sequence(fence)[-1] == "text:after the captioned one"


def test_show_honours_fig_format_and_a_second_show_adds_nothing(built):
    seq = sequence(fences(built, "shows")[2])
    assert len(seq) == 2 and seq[0].startswith("fig:") and seq[0].endswith(".png")
    assert seq[1] == "text:shown already"


def test_the_page_shows_the_magics_as_written(built):
    sources = [f.select_one(".fence-source").get_text() for f in fences(built, "magics")]
    assert "%matplotlib inline" in sources[0]
    assert "words = !echo one; echo two >&2" in sources[0]
    assert sources[1].startswith("%%bash")


def test_time_timeit_and_shell_commands(built):
    text = [s for s in sequence(fences(built, "magics")[0])]
    stdout = text[0]
    assert re.search(r"CPU times: user .+, sys: .+, total: .+\nWall time: \S+ \S?s", stdout)
    assert "total 499500" in stdout
    # %timeit -q prints nothing; %timeit prints IPython's line
    assert len(re.findall(r"per loop \(mean ± std\. dev\. of \d+ runs?, [\d,]+ loops? each\)",
                          stdout)) == 1
    assert "shell says there" in stdout  # {label} expanded as in IPython
    assert "['one', 'two'] one\ntwo" in stdout  # stderr captured too, SList's .n
    assert text[-1] == "text:2"  # %time's value, displayed as the last expression


def test_cell_magics(built):
    _, bash, timed, timeit_cell, in_function, _ = fences(built, "magics")
    assert sequence(bash) == ["text:bash adds 3", "text:to stderr"]
    timed_seq = sequence(timed)
    assert "Wall time:" in timed_seq[0] and timed_seq[-1] == "text:999000"
    assert re.search(r"of 2 runs, 5 loops each\)", sequence(timeit_cell)[0])
    assert sequence(in_function) == ["text:lines 3"]


def test_errors_inside_a_magic_point_at_the_post_line(built):
    where = ("content/posts/magics.md", line_of(MAGICS, "%time math.sqrt(-1)"))
    assert "ValueError: math domain error" in errors(built)[where]
    traceback = fences(built, "magics")[-1].select_one(".fence-traceback").get_text()
    assert "ValueError: math domain error" in traceback
    # the post's line, then the statement the magic ran, at that line: no shell frames
    assert re.findall(r'File "([^"]+)", line (\d+)', traceback) == [
        ("posts/magics.md", str(where[1]))] * 2


def test_an_unknown_magic_is_a_located_error_and_the_rest_builds(built):
    message = errors(built)[("content/posts/broken.md", line_of(BROKEN, "%notamagic"))]
    assert "%notamagic" in message and "%timeit" in message
    page = post(built, "broken")
    text = page.get_text()
    assert "never printed" not in "".join(
        pre.get_text() for pre in page.select(".fence-outputs pre:not(.fence-traceback)"))
    for prose in ("Prose before.", "Prose between.", "Prose after."):
        assert prose in text
    assert "this session is fine" in text
    assert (built["out"] / "posts/shows/index.html").exists()


def test_pip_is_a_located_error_saying_to_install_outside(built):
    message = errors(built)[("content/posts/broken.md", line_of(BROKEN, "%pip"))]
    assert message.startswith("%pip cannot install packages")
    assert "outside the post" in message


def test_a_failing_bash_cell_fails_at_its_line_after_its_output(built):
    where = ("content/posts/broken.md", line_of(BROKEN, "%%bash"))
    assert errors(built)[where] == "%%bash: the script exited with status 3"
    fence = fences(built, "broken")[2]
    assert "still ran" in fence.get_text() and "after false" in fence.get_text()
