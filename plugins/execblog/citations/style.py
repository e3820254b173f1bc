"""Author-year citations and references with citeproc-py and its bundled Harvard CSL style.

citeproc-py renders a CSL citation as one string, so one cluster ``[@a; @b]`` could carry
only one link. Each cited item is rendered on its own here, with styles derived from the
bundled one (its citation layout without the brackets; a narrative form ``Doe (2020)``;
a year-only form for ``[-@key]``), and the cluster is put together with the style's own
brackets and delimiter. citeproc-py does not disambiguate years (``2020a``, ``2020b``):
:meth:`PostCitations.prepare` sets the CSL ``year-suffix`` itself.
"""

from __future__ import annotations

import copy
import functools
import io
import os
import string
from collections.abc import Iterable
from dataclasses import dataclass

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

STYLE_NAME = "harvard-cite-them-right"  # citeproc-py's bundled author-year style
_CSL = "{http://purl.org/net/xbiblio/csl}"
_NS = {"cs": _CSL[1:-1]}

# The derived citation layouts (children of <citation>, in place of the style's <layout>).
_ITEM = ""  # the style's own layout contents, brackets removed
_NARRATIVE = f"""
<layout xmlns="{_CSL[1:-1]}" delimiter="; ">
  <group delimiter=" ">
    <text macro="author-short"/>
    <group prefix="(" suffix=")" delimiter=", ">
      <text macro="year-date"/>
      <group>
        <label variable="locator" form="short" suffix=" "/>
        <text variable="locator"/>
      </group>
    </group>
  </group>
</layout>
"""
_YEAR = f"""
<layout xmlns="{_CSL[1:-1]}" delimiter="; ">
  <group delimiter=", ">
    <text macro="year-date"/>
    <group>
      <label variable="locator" form="short" suffix=" "/>
      <text variable="locator"/>
    </group>
  </group>
</layout>
"""


@dataclass(frozen=True)
class Styles:
    full: CitationStylesStyle  # the bundled style, for the bibliography
    item: CitationStylesStyle
    narrative: CitationStylesStyle
    year: CitationStylesStyle
    open: str  # the citation layout's prefix, suffix and delimiter: "(", ")", "; "
    close: str
    delimiter: str


def _derived(tree: etree._ElementTree, layout: str | None) -> CitationStylesStyle:
    tree = copy.deepcopy(tree)
    citation = tree.getroot().find("cs:citation", _NS)
    for sort in citation.findall("cs:sort", _NS):
        citation.remove(sort)  # one item at a time: the order is the author's
    old = citation.find("cs:layout", _NS)
    if layout is None:
        for name in ("prefix", "suffix"):
            old.attrib.pop(name, None)
    else:
        citation.replace(old, etree.fromstring(layout))
    return CitationStylesStyle(io.BytesIO(etree.tostring(tree)), validate=False)


@functools.cache
def styles() -> Styles:
    path = os.path.join(citeproc.STYLES_PATH, f"{STYLE_NAME}.csl")
    tree = etree.parse(path)
    layout = tree.getroot().find("cs:citation/cs:layout", _NS)
    return Styles(
        full=CitationStylesStyle(path, validate=False),
        item=_derived(tree, None),
        narrative=_derived(tree, _NARRATIVE),
        year=_derived(tree, _YEAR),
        open=layout.get("prefix", ""),
        close=layout.get("suffix", ""),
        delimiter=layout.get("delimiter", "; "),
    )


class PostCitations:
    """The citations of one post against one bibliography source."""

    def __init__(self, source: citeproc.source.BibliographySource):
        self.source = source
        st = styles()
        self.styles = st
        self._bibs = {name: CitationStylesBibliography(getattr(st, name), source, markup)
                      for name in ("full", "item", "narrative", "year")}

    def has(self, key: str) -> bool:
        return key.lower() in self.source

    def keys(self) -> list[str]:
        return list(self.source)

    def prepare(self, cited: Iterable[str]) -> list[str]:
        """Register the cited keys (first-cited order in, CSL bibliography order out) and
        set year suffixes where two entries would cite alike."""
        keys = list(dict.fromkeys(k.lower() for k in cited if self.has(k)))
        for key in keys:
            self.source[key].pop("year_suffix", None)
        full = self._bibs["full"]
        for key in keys:
            full.register(Citation([CitationItem(key)]))
        full.sort()
        order = list(full.keys)
        alike: dict[str, list[str]] = {}
        for key in order:
            alike.setdefault(self._plain("narrative", key), []).append(key)
        for same in alike.values():
            if len(same) > 1:
                for letter, key in zip(string.ascii_lowercase, same, strict=False):
                    self.source[key]["year_suffix"] = letter
        return order

    def _render(self, style: str, key: str, locator: Locator | None = None) -> str:
        item = CitationItem(key, locator=locator) if locator else CitationItem(key)
        citation = Citation([item])
        bib = self._bibs[style]
        bib.register(citation)
        return str(bib.cite(citation, lambda _item: None))

    def _plain(self, style: str, key: str) -> str:
        return markup.to_text(self._render(style, key))

    def cite_html(self, style: str, key: str, label: str | None, value: str | None) -> str:
        """One item, as HTML: style "item" (``Doe, 2020, p. 3``), "narrative" or "year"."""
        locator = Locator(label, value) if label and value else None
        return markup.to_html(self._render(style, key, locator))

    def bibliography_html(self) -> list[tuple[str, str]]:
        """(key, entry HTML) in the bibliography's order, for the keys prepared."""
        full = self._bibs["full"]
        return [(key, markup.to_html(entry))
                for key, entry in zip(full.keys, full.bibliography(), strict=True)]
