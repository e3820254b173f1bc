"""Finding citations: pandoc's syntax in the text of a post's HTML.

Pure logic, no Pelican: :func:`find` yields the citations in one run of a post's prose text
(``execblog.markdown.prose.text_runs``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from execblog.markdown.xrefs.core import PREFIXES
from execblog.markdown.xrefs.posts import POST_PREFIX

# Quarto's cross-reference prefixes: plugins/execblog/markdown/xrefs owns @fig-x, @eq-x, @tbl-x,
# @sec-x, @thm-x... and the cross-post references @post:slug.
XREF_PREFIXES = (*(f"{prefix}-" for prefix in PREFIXES), f"{POST_PREFIX}:")

# pandoc: a key starts with a letter, digit or _, and may hold :.#$%&-+?~/ between them.
KEY = r"\w(?:\w|[:.#$%&\-+?~/](?=\w))*"
_BRACKET = r"\[(?P<body>[^\[\]]*@[^\[\]]*)\]"
# A bare @key: not inside a word or an address (jane@example.org), not a path or a handle
# glued to other punctuation; `@key [p. 33]` gives a narrative citation a locator.
_BARE = rf"(?<![\w@.\-+/\\&])@(?P<bare>{KEY})(?:[ \u00a0]\[(?P<loc>[^\[\]@]*)\])?"
_SCAN = re.compile(f"{_BRACKET}|{_BARE}")
_ITEM = re.compile(rf"^\s*(?P<prefix>(?:[^@]*?\s)?)(?P<minus>-?)@(?P<key>{KEY})"
                   r"(?P<suffix>(?:[,\s][^@]*)?)$", re.S)

_TERMS = {
    "book": ("bk.", "bks.", "book", "books"),
    "chapter": ("chap.", "chaps.", "ch.", "chapter", "chapters"),
    "column": ("col.", "cols.", "column", "columns"),
    "figure": ("fig.", "figs.", "figure", "figures"),
    "folio": ("fol.", "fols.", "folio", "folios"),
    "issue": ("no.", "nos.", "number", "numbers", "issue", "issues"),
    "line": ("l.", "ll.", "line", "lines"),
    "note": ("n.", "nn.", "note", "notes"),
    "opus": ("op.", "opp.", "opus", "opera"),
    "page": ("p.", "pp.", "page", "pages"),
    "paragraph": ("para.", "paras.", "¶¶", "¶", "paragraph", "paragraphs"),
    "part": ("pt.", "pts.", "part", "parts"),
    "section": ("sec.", "secs.", "§§", "§", "section", "sections"),
    "sub verbo": ("s.v.", "s.vv.", "sub verbo", "sub verbis"),
    "verse": ("v.", "vv.", "verse", "verses"),
    "volume": ("vol.", "vols.", "volume", "volumes"),
}
_LABELS = {term: label for label, terms in _TERMS.items() for term in terms}
_TERM = "|".join(re.escape(t) + ("" if t[-1] in ".¶§" else r"\b")
                 for t in sorted(_LABELS, key=len, reverse=True))
_VALUE = r"[\w\-–—:.]*\d[\w\-–—:.]*|[ivxlcdm]+\b"
_LOCATOR = re.compile(rf"^(?:(?P<term>{_TERM})\s*)?(?P<value>(?:{_VALUE})"
                      rf"(?:\s*(?:,|&|and)\s*(?:{_VALUE}))*)(?P<rest>.*)$",
                      re.S | re.IGNORECASE)


@dataclass(frozen=True)
class Item:
    key: str
    prefix: str = ""
    suffix: str = ""  # text after the locator, as written (", and elsewhere")
    label: str | None = None  # CSL locator label ("page") and value ("33-35")
    locator: str | None = None
    suppress_author: bool = False


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    text: str
    bracketed: bool
    items: tuple[Item, ...] = ()  # empty: not citation syntax (left alone)


def is_xref(key: str) -> bool:
    return key.lower().startswith(XREF_PREFIXES)


def parse_locator(suffix: str) -> tuple[str | None, str | None, str]:
    """``", p. 33"`` -> ("page", "33", ""); a bare number is a page; anything else is a
    suffix kept as written."""
    body = suffix.lstrip(" ,\t\n\u00a0")
    found = _LOCATOR.match(body)
    if not body or not found:
        return None, None, suffix.rstrip()
    term = found.group("term")
    label = _LABELS[term.lower()] if term else "page"
    if not term and not found.group("value")[:1].isdigit():
        return None, None, suffix.rstrip()  # "iv" alone is a word, not a page
    rest = found.group("rest").rstrip()
    if rest and not rest.startswith((",", ";", " ")):
        return None, None, suffix.rstrip()  # "p. 33x": not a locator we understand
    return label, found.group("value").strip(), rest


def _items(body: str) -> tuple[Item, ...]:
    items = []
    for part in body.split(";"):
        found = _ITEM.match(part)
        if not found:
            return ()
        label, value, rest = parse_locator(found.group("suffix"))
        items.append(Item(found.group("key"), found.group("prefix").strip(), rest, label,
                          value, bool(found.group("minus"))))
    return tuple(items)


def find(text: str) -> Iterator[Match]:
    """Citation-like spans of ``text``, left to right: every ``[...@...]`` (bracketed, with
    its items when it is citation syntax) and every bare ``@key``."""
    for found in _SCAN.finditer(text):
        if found.group("body") is not None:
            yield Match(found.start(), found.end(), found.group(0), True,
                        _items(found.group("body")))
            continue
        loc = found.group("loc")
        label = value = None
        if loc is not None:
            label, value, rest = parse_locator(loc)
            if label is None or rest:  # "@doe [see below]": only the @key is a citation
                found_end = found.start() + 1 + len(found.group("bare"))
                yield Match(found.start(), found_end, text[found.start():found_end], False,
                            (Item(found.group("bare")),))
                continue
        yield Match(found.start(), found.end(), found.group(0), False,
                    (Item(found.group("bare"), label=label, locator=value),))
