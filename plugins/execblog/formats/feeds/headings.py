"""Heading permalinks in feeds: the toc extension's ``<a class="headerlink">#</a>``.

On a page the "#" after each heading is a hover affordance styled by the theme; a feed
reader has no such CSS, so every heading would end in a literal "#" linking to the page.
The heading keeps its ``id``; only the anchor goes (its tail text stays).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .markup import HtmlElement

DEFAULT_CLASS = "headerlink"
_TOC_NAMES = ("markdown.extensions.toc", "toc", "markdown.extensions.toc:TocExtension")


def permalink_class(settings: Mapping[str, Any]) -> str:
    """The class the toc extension gives its anchors (``permalink_class``, default
    "headerlink"), read from the MARKDOWN setting."""
    configs = (settings.get("MARKDOWN") or {}).get("extension_configs") or {}
    for name in _TOC_NAMES:
        value = (configs.get(name) or {}).get("permalink_class")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return DEFAULT_CLASS


def strip_permalinks(root: HtmlElement, css_class: str = DEFAULT_CLASS) -> None:
    """Drop every ``<a>`` carrying css_class (all of its classes, when it names several)."""
    wanted = set(css_class.split())
    for anchor in list(root.iter("a")):
        if wanted <= set((anchor.get("class") or "").split()):
            anchor.drop_tree()
