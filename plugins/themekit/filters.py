"""Template filters: `reading_stats` and `toc`, both taking an HTML string."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from html import escape

import lxml.html
from markupsafe import Markup
from xmlsafe import strip_illegal  # lxml refuses XML-illegal characters

WORDS_PER_MINUTE = 220
# huge_tree: without it libxml2 silently drops text nodes over 10 MB (the words vanish).
_PARSER = lxml.html.HTMLParser(huge_tree=True)
# Elements whose text is not prose: code that runs, styles, and vector/maths markup.
_NOT_PROSE = ("script", "style", "svg", "math", "template")
# A word is a whitespace-separated token with at least one letter or digit in it, so stray
# punctuation ("#", "=", "·") is not counted. Tokens come from str.split() and each is
# searched once: linear time (a single pattern like r"\S*\w\S*" backtracks quadratically on a
# long run of punctuation, e.g. a fence that prints 100,000 dots).
_WORDLIKE = re.compile(r"\w")  # a letter, a digit or "_", as before
# Elements that separate words; inline ones (<em>, <code>, Pygments' <span>) do not.
_BLOCKS = (
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "td",
    "th",
    "tr",
    "ul",
)


@dataclass(frozen=True)
class ReadingStats:
    words: int
    minutes: int


def _fragment(html: str | None) -> lxml.html.HtmlElement:
    """An HTML fragment parsed by lxml, inside one <div> (empty for None or blank)."""
    return lxml.html.fragment_fromstring(strip_illegal(html or ""), create_parent="div",
                                         parser=_PARSER)


def _drop_permalinks(node: lxml.html.HtmlElement) -> None:
    for anchor in node.xpath('.//a[contains(concat(" ", @class, " "), " headerlink ")]'):
        anchor.drop_tree()


def count_words(text: str) -> int:
    """The number of whitespace-separated tokens holding a letter or digit; linear time."""
    return sum(1 for token in text.split() if _WORDLIKE.search(token))


@lru_cache(maxsize=2048)
def reading_stats(html: str | None) -> ReadingStats:
    """Count the visible words of an HTML fragment (code included) and the reading time.

    Memoized: the home page, tag pages and the post page all ask about the same content.
    """
    root = _fragment(html)
    for node in list(root.iter(*_NOT_PROSE)):
        node.drop_tree()
    _drop_permalinks(root)
    for node in root.iter(*_BLOCKS):
        node.text = " " + (node.text or "")
        node.tail = " " + (node.tail or "")
    words = count_words("".join(root.itertext()))
    return ReadingStats(words=words, minutes=max(1, math.ceil(words / WORDS_PER_MINUTE)))


def _heading_entries(html: str | None) -> list[tuple[int, str, str]]:
    """(level, id, text) of every h2/h3 that has an id, in document order."""
    entries = []
    for heading in list(_fragment(html).iter("h2", "h3")):
        anchor = heading.get("id")
        if not anchor:
            continue
        _drop_permalinks(heading)
        text = " ".join(" ".join(heading.itertext()).split())
        entries.append((int(heading.tag[1]), anchor, text))
    return entries


def _item(anchor: str, text: str) -> str:
    return f'<li><a href="#{escape(anchor)}">{escape(text, quote=False)}</a>'


@lru_cache(maxsize=2048)
def toc(html: str | None) -> Markup:
    """A nested <ol> of the h2/h3 headings in a <nav>; empty with fewer than 2 headings."""
    entries = _heading_entries(html)
    if len(entries) < 2:
        return Markup("")
    parts = ['<nav class="toc" aria-label="Contents"><ol>']
    open_sub = False  # an <ol> of h3 entries is open inside the last <li>
    has_item = False  # an <li> is open at the top level
    for level, anchor, text in entries:
        if level == 3 and has_item:
            if not open_sub:
                parts.append("<ol>")
                open_sub = True
            parts.append(_item(anchor, text) + "</li>")
            continue
        if open_sub:
            parts.append("</ol>")
            open_sub = False
        if has_item:
            parts.append("</li>")
        parts.append(_item(anchor, text))
        has_item = True
    if open_sub:
        parts.append("</ol>")
    if has_item:
        parts.append("</li>")
    parts.append("</ol></nav>")
    return Markup("".join(parts))


FILTERS: dict[str, Callable[..., object]] = {"reading_stats": reading_stats, "toc": toc}
