"""Template filters: `reading_stats` and `toc` (HTML strings), and those of summaries.py and
pelican_features.py."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from html import escape

import lxml.html
from markupsafe import Markup

from execblog.kernel.xmlsafe import strip_illegal  # lxml refuses XML-illegal characters

from .pelican_features import categories_in_use, directory_url, language_name, updated
from .summaries import card_summary, meta_description, plain_text, year_span

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


# A heading that numbers itself: "1. The recursion", "2) Setup", "2.1 Details"; group 1 is
# its last number.
_OWN_NUMBER = re.compile(r"^(?:\d+\.)*(\d+)(?:[.)]\s+|\s+)(?=\S)")
_DOTTED = re.compile(r"^\d+(?:\.\d+)+\s|^\d+[.)]\s")


def _own_number(text: str) -> tuple[int, str] | None:
    """(number, rest) for a heading that starts with its own number, else None."""
    if not _DOTTED.match(text):
        return None
    match = _OWN_NUMBER.match(text)
    return (int(match.group(1)), text[match.end():]) if match else None


def _list(items: list[tuple[str, str, list]]) -> str:
    """An <ol> of (anchor, text, children). Where headings number themselves, the number
    becomes the item's marker (value=) and leaves its text, so the list never shows two
    numbers ("2. 1. The recursion"); their unnumbered siblings then show no marker."""
    numbered = [_own_number(text) for _, text, _ in items]
    mixed = any(numbered)
    parts = ["<ol>"]
    for (anchor, text, children), own in zip(items, numbered, strict=True):
        attrs = ""
        if own:
            attrs = f' value="{own[0]}" class="toc-own-number"'
            text = own[1]
        elif mixed:
            attrs = ' class="toc-unnumbered"'
        parts.append(f'<li{attrs}><a href="#{escape(anchor)}">{escape(text, quote=False)}</a>')
        if children:
            parts.append(_list(children))
        parts.append("</li>")
    parts.append("</ol>")
    return "".join(parts)


@lru_cache(maxsize=2048)
def toc(html: str | None) -> Markup:
    """A nested <ol> of the h2/h3 headings in a <nav>; empty with fewer than 2 headings."""
    entries = _heading_entries(html)
    if len(entries) < 2:
        return Markup("")
    top: list[tuple[str, str, list]] = []
    for level, anchor, text in entries:
        if level == 3 and top:  # an h3 before any h2 stays at the top level
            top[-1][2].append((anchor, text, []))
        else:
            top.append((anchor, text, []))
    return Markup(f'<nav class="toc" aria-label="Contents">{_list(top)}</nav>')


FILTERS: dict[str, Callable[..., object]] = {
    "reading_stats": reading_stats,
    "toc": toc,
    "card_summary": card_summary,
    "meta_description": meta_description,
    "plain_text": plain_text,
    "year_span": year_span,
    "updated": updated,
    "categories_in_use": categories_in_use,
    "language_name": language_name,
    "directory_url": directory_url,
}
