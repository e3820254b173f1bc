"""Citations and references with citeproc-py, in any CSL style (Harvard by default).

citeproc-py renders a CSL citation as one string, so one cluster ``[@a; @b]`` could carry
only one link. Each cited item is rendered on its own here, with styles derived from the
chosen one, whatever it is (:func:`load_styles`):

- ``item``: its citation layout without the layout's own brackets ("Doe, 2020" in an
  author-date style, "[1]" in IEEE, whose brackets are on each item);
- ``author``: the first part of that layout that prints names (the macro or ``<names>``
  element it calls; a plain short author list where the citation prints none, as numeric
  styles do);
- ``year``: the layout without that part ("2020, p. 3"), for ``[-@key]``.

A narrative citation ``@key`` is the author, a space, then the year (author-date) or the item
(numeric) in the layout's brackets: "Doe and Smith (2020)", "Doe and Smith [1]". A cluster is
put together with the layout's brackets and delimiter. Numbers (``citation-number``) are the
bibliography's: every derived style numbers the keys in its order. citeproc-py does not
disambiguate years (``2020a``, ``2020b``): :meth:`PostCitations.prepare` sets the CSL
``year-suffix`` itself.
"""

from __future__ import annotations

import copy
import io
import os
import string
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

import citeproc
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    Locator,
)
from lxml import etree

from . import markup
from .filecache import FileCache

STYLE_NAME = "harvard-cite-them-right"  # citeproc-py's bundled author-year style
DEFAULT_STYLE = os.path.join(citeproc.STYLES_PATH, f"{STYLE_NAME}.csl")
_CSL = "{http://purl.org/net/xbiblio/csl}"
_NS = {"cs": _CSL[1:-1]}
# Where a style's citation prints no names (numeric styles): the short author list.
_AUTHOR = f"""
<layout xmlns="{_CSL[1:-1]}">
  <names variable="author">
    <name form="short" and="text" delimiter=", " delimiter-precedes-last="never"/>
    <et-al font-style="italic"/>
    <substitute><names variable="editor"/><text variable="title" form="short"/></substitute>
  </names>
</layout>
"""


class StyleError(Exception):
    """A CSL file that cannot be read or used (the message says why)."""


@dataclass(frozen=True)
class Styles:
    full: CitationStylesStyle  # the style itself, for the bibliography
    item: CitationStylesStyle
    author: CitationStylesStyle
    year: CitationStylesStyle
    open: str  # the citation layout's prefix, suffix and delimiter: "(", ")", "; "
    close: str
    delimiter: str
    numeric: bool  # the citation prints citation-number: a narrative cite shows the item


def _style(tree: etree._ElementTree) -> CitationStylesStyle:
    return CitationStylesStyle(io.BytesIO(etree.tostring(tree)), validate=False)


def _names_macros(root: etree._Element) -> set[str]:
    """The style's macros that print names, directly or through other macros."""
    macros = {m.get("name"): m for m in root.findall("cs:macro", _NS)}
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, macro in macros.items():
            if name in found:
                continue
            calls = {t.get("macro") for t in macro.iter(f"{_CSL}text") if t.get("macro")}
            if macro.find(".//cs:names", _NS) is not None or calls & found:
                found.add(name)
                changed = True
    return found


def _author_part(layout: etree._Element, names: set[str]) -> etree._Element | None:
    """The first element of the layout that prints names."""
    for element in layout.iter(f"{_CSL}names", f"{_CSL}text"):
        if element.tag == f"{_CSL}names" or element.get("macro") in names:
            return element
    return None


def _derived(tree: etree._ElementTree, part: str) -> CitationStylesStyle:
    """The style with its citation layout made into one ``part``: "item", "author" or
    "year" (see the module docstring)."""
    tree = copy.deepcopy(tree)
    root = tree.getroot()
    citation = root.find("cs:citation", _NS)
    for sort in citation.findall("cs:sort", _NS):
        citation.remove(sort)  # one item at a time: the order is the author's
    layout = citation.find("cs:layout", _NS)
    for name in ("prefix", "suffix"):
        layout.attrib.pop(name, None)
    author = _author_part(layout, _names_macros(root))
    if part == "author":
        new = etree.fromstring(_AUTHOR) if author is None else etree.Element(f"{_CSL}layout")
        if author is not None:
            new.append(copy.deepcopy(author))
        citation.replace(layout, new)
    elif part == "year" and author is not None:
        author.getparent().remove(author)
    return _style(tree)


def load_styles(path: str = DEFAULT_STYLE) -> Styles:
    """The styles derived from the CSL file at ``path``; raises :class:`StyleError`."""
    try:
        tree = etree.parse(path, etree.XMLParser(no_network=True, remove_comments=True))
    except OSError as exc:
        raise StyleError(f"cannot read {path}: {exc}") from exc
    except etree.XMLSyntaxError as exc:
        raise StyleError(f"{path} is not XML: {exc}") from exc
    root = tree.getroot()
    layout = root.find("cs:citation/cs:layout", _NS)
    if root.tag != f"{_CSL}style" or layout is None:
        raise StyleError(f"{path} is not a CSL style (no <style> with a <citation> layout)")
    if root.find("cs:bibliography/cs:layout", _NS) is None:
        raise StyleError(f"{path} has no <bibliography>: it cannot list the references")
    numeric = any(t.get("variable") == "citation-number" for t in layout.iter(f"{_CSL}text"))
    try:
        return Styles(
            full=_style(tree),
            item=_derived(tree, "item"),
            author=_derived(tree, "author"),
            year=_derived(tree, "year"),
            open=layout.get("prefix", ""),
            close=layout.get("suffix", ""),
            delimiter=layout.get("delimiter", "; "),
            numeric=numeric,
        )
    except Exception as exc:  # noqa: BLE001 - citeproc-py's model raises many kinds
        raise StyleError(f"cannot use {path}: {type(exc).__name__}: {exc}") from exc




def styles(path: str = DEFAULT_STYLE) -> Styles:
    """:func:`load_styles`, kept while the file's size and mtime stay the same."""
    return _styles.get(path)


_styles: FileCache[Styles] = FileCache(load_styles, StyleError)


_PARTS = ("full", "item", "author", "year")


class PostCitations:
    """The citations of one post against one bibliography source, in one style."""

    def __init__(self, source: citeproc.source.BibliographySource, style: Styles | None = None,
                 math_class: str = "math"):
        self.source = source
        st = style or styles()
        self.styles = st
        self.math_class = math_class
        self._bibs = {name: CitationStylesBibliography(getattr(st, name), source, markup)
                      for name in _PARTS}

    def has(self, key: str) -> bool:
        return key.lower() in self.source

    def keys(self) -> list[str]:
        return list(self.source)

    def prepare(self, cited: Iterable[str]) -> list[str]:
        """Register the cited keys (first-cited order in, CSL bibliography order out: the
        order of the numbers too) and set year suffixes where two entries would cite
        alike."""
        keys = list(dict.fromkeys(k.lower() for k in cited if self.has(k)))
        for key in keys:
            self.source[key].pop("year_suffix", None)
        full = self._bibs["full"]
        for key in keys:
            full.register(Citation([CitationItem(key)]))
        full.sort()
        order = list(full.keys)
        for name in _PARTS[1:]:  # every part numbers the keys as the bibliography does
            self._bibs[name].keys = [*order, *(k for k in self._bibs[name].keys
                                               if k not in order)]
        alike: dict[str, list[str]] = {}
        for key in order:
            alike.setdefault(self._plain(key), []).append(key)
        for same in alike.values():
            if len(same) > 1:
                for letter, key in zip(string.ascii_lowercase, same, strict=False):
                    self.source[key]["year_suffix"] = letter
        return order

    def _render(self, part: str, key: str, locator: Locator | None = None) -> str:
        item = CitationItem(key, locator=locator) if locator else CitationItem(key)
        citation = Citation([item])
        bib = self._bibs[part]
        bib.register(citation)
        return str(bib.cite(citation, lambda _item: None))

    def _plain(self, key: str) -> str:
        return markup.to_text(self._render("author", key) + self._render("year", key))

    def _html(self, text: str) -> str:
        return markup.to_html(text, self.math_class)

    def cite_html(self, style: str, key: str, label: str | None, value: str | None) -> str:
        """One item, as HTML: style "item" (``Doe, 2020, p. 3``, ``[1, p. 3]``), "year"
        (``2020, p. 3``) or "narrative" (``Doe (2020, p. 3)``, ``Doe [1, p. 3]``)."""
        locator = Locator(label, value) if label and value else None
        if style != "narrative":
            return self._html(self._render(style, key, locator))
        st = self.styles
        author = self._html(self._render("author", key))
        rest = self._html(self._render("item" if st.numeric else "year", key, locator))
        return f"{author} {escape(st.open)}{rest}{escape(st.close)}" if author else (
            f"{escape(st.open)}{rest}{escape(st.close)}")

    def bibliography_html(self) -> list[tuple[str, str]]:
        """(key, entry HTML) in the bibliography's order, for the keys prepared."""
        full = self._bibs["full"]
        return [(key, self._html(entry))
                for key, entry in zip(full.keys, full.bibliography(), strict=True)]
