"""Page weight: each page links only the stylesheets it uses, main.css is the one that holds
up the first paint, and highlighted code has fewer elements with the same colours
(plugins/execblog/engine/lean_html.py). One real build of a small site, parsed with bs4."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, run_pelican, write_files
from execblog.engine.lean_html import THEME_STYLES, LeanHtmlFormatter
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer
from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES, Text

CSS = ROOT / "plugins/execblog/theme/static/css"
SHEETS = ("main", "pygments", "authoring", "diagrams", "bench")
# Code with the usual mix: names, punctuation, blanks, keywords, strings, comments.
CODE = (ROOT / "plugins/execblog/engine/darkfigs.py").read_text(encoding="utf-8")[:5000].rstrip()

POSTS = {
    "posts/prose.md": """\
        Title: Prose
        Date: 2024-01-01
        Slug: prose

        Only words here, and a [link](https://example.org).
        """,
    "posts/code.md": "Title: Code\nDate: 2024-01-02\nSlug: code\n\nSome code:\n\n```python\n"
                     + CODE + "\n```\n",
    "posts/fence.md": """\
        Title: Fence
        Date: 2024-01-03
        Slug: fence

        ```python exec
        print(sum(range(10)))
        ```
        """,
    "posts/diagram.md": """\
        Title: Diagram
        Date: 2024-01-04
        Slug: diagram

        ```diagram
        {"items": [{"id": "a", "type": "box", "text": "A"},
                   {"id": "b", "type": "box", "text": "B"}],
         "arrows": [{"from": "a", "to": "b"}]}
        ```
        """,
    "pages/about.md": """\
        Title: About
        Slug: about

        A page of words.
        """,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("page-weight")
    write_files(tmp / "content", POSTS)
    proc = run_pelican(tmp / "content", tmp / "output",
                       settings={"FENCES_CACHE_PATH": str(tmp / "cache")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return tmp / "output"


def page(out: Path, rel: str) -> BeautifulSoup:
    return BeautifulSoup((out / rel).read_text(encoding="utf-8"), "html.parser")


def linked(soup: BeautifulSoup) -> tuple[list[str], list[str]]:
    """(render-blocking, not blocking) theme stylesheets of the head, by name."""
    blocking, later = [], []
    for link in soup.head.select('link[rel="stylesheet"]'):
        name = re.search(r"/css/(\w+)\.css$", link["href"])
        if not name or link.find_parent("noscript"):
            continue
        (later if link.get("media") == "print" else blocking).append(name[1])
    return blocking, later


def own_classes(sheet: str) -> set[str]:
    """Class names a sheet styles that main.css does not."""
    def classes(name: str) -> set[str]:
        text = re.sub(r"/\*.*?\*/", "", (CSS / f"{name}.css").read_text("utf-8"), flags=re.S)
        return set(re.findall(r"\.(-?[_a-zA-Z][\w-]*)", re.sub(r"\{[^{}]*\}", "{}", text)))
    return classes(sheet) - classes("main")


PAGES = ["index.html", "posts/prose/index.html", "posts/code/index.html",
         "posts/fence/index.html", "posts/diagram/index.html", "about/index.html",
         "archives/index.html", "tags/index.html"]


def test_main_css_is_the_only_blocking_sheet_where_nothing_else_is_used(built: Path) -> None:
    for rel in ["index.html", "posts/prose/index.html", "about/index.html",
                "archives/index.html", "tags/index.html"]:
        assert linked(page(built, rel)) == (["main"], []), rel


def test_code_styles_only_with_code_and_never_blocking(built: Path) -> None:
    for rel in PAGES:
        soup = page(built, rel)
        has_code = bool(soup.select("main .highlight"))
        blocking, later = linked(soup)
        assert "pygments" not in blocking, rel
        assert ("pygments" in later) == has_code, rel
        if has_code:  # without JavaScript the sheet is linked the ordinary way
            (fallback,) = soup.head.select('noscript link[rel="stylesheet"]')
            assert fallback["href"].endswith("/css/pygments.css") and not fallback.get("media")
            (swap,) = soup.head.select('link[media="print"]')
            assert swap["onload"] == "this.media='all'"
    assert linked(page(built, "posts/code/index.html"))[0] == ["main"]


def test_each_sheet_is_linked_where_its_classes_are_used(built: Path) -> None:
    """A page that uses a class only authoring.css, diagrams.css or bench.css styles links
    that sheet; a page that uses none of them does not."""
    for rel in PAGES:
        soup = page(built, rel)
        used = {c for tag in soup.select("main [class]") for c in tag["class"]}
        blocking, _ = linked(soup)
        for sheet in ("authoring", "diagrams", "bench"):
            assert (sheet in blocking) == bool(used & own_classes(sheet)), (rel, sheet)
    assert "authoring" in linked(page(built, "posts/fence/index.html"))[0]
    assert "diagrams" in linked(page(built, "posts/diagram/index.html"))[0]


def css_bytes(out: Path, rel: str) -> int:
    blocking, later = linked(page(out, rel))
    return sum((CSS / f"{name}.css").stat().st_size for name in blocking + later)


def test_css_bytes_per_page(built: Path) -> None:
    """Before: all five theme sheets on every page (~52 kB), six blocking with math.css."""
    everything = sum((CSS / f"{name}.css").stat().st_size for name in SHEETS)
    assert css_bytes(built, "posts/prose/index.html") == (CSS / "main.css").stat().st_size
    assert css_bytes(built, "index.html") < everything * 0.4
    assert css_bytes(built, "posts/code/index.html") < everything * 0.8


def elements(html: str) -> int:
    return len(BeautifulSoup(html, "html.parser").find_all(True))


def test_highlighted_code_has_far_fewer_elements(built: Path) -> None:
    soup = page(built, "posts/code/index.html")
    (block,) = soup.select(".post-content div.highlight")
    stock = highlight(CODE, PythonLexer(), HtmlFormatter(cssclass="highlight"))
    assert block.pre.get_text() == BeautifulSoup(stock, "html.parser").pre.get_text()
    before, after = elements(stock), len(block.find_all(True)) + 1
    assert after < before * 0.55, (before, after)
    # the fence engine's own highlighting is lean too: no span of blanks alone
    fence = page(built, "posts/fence/index.html").select_one(".fence-source .highlight pre")
    assert fence and not [s for s in fence.select("span") if s.get_text().isspace()]


def looks(html: str, style: str) -> list[tuple[str, dict]]:
    """Each character of highlighted code with what ``style`` paints it (colour, weight,
    background...; blanks only what shows on them)."""
    by_class = {cls: ttype for ttype, cls in STANDARD_TYPES.items()}
    chosen = get_style_by_name(style)
    shown = []
    pre = BeautifulSoup(html, "html.parser").pre
    for text in pre.find_all(string=True):
        cls = text.parent.get("class", [""])[0] if text.parent.name == "span" else ""
        look = dict(chosen.style_for_token(by_class.get(cls, Text)))
        for char in text:
            blank = {k: look[k] for k in ("bgcolor", "border", "underline")}
            shown.append((char, blank if char.isspace() else look))
    return shown


@pytest.mark.parametrize("style", THEME_STYLES)
def test_lean_highlighting_keeps_every_colour(style: str) -> None:
    stock = highlight(CODE, PythonLexer(), HtmlFormatter(cssclass="highlight"))
    lean = highlight(CODE, PythonLexer(), LeanHtmlFormatter(cssclass="highlight"))
    assert looks(lean, style) == looks(stock, style)
    assert elements(lean) < elements(stock) * 0.55
