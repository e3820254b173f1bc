"""Entry HTML as an lxml tree: parse a fragment, serialise its contents back.

lxml's C parser is an order of magnitude faster than a pure-Python one on posts full of
Pygments spans, and one article is rewritten for every feed it appears in.
"""

from __future__ import annotations

from html import escape

import lxml.html
from lxml import etree

HtmlElement = lxml.html.HtmlElement


# huge_tree: without it libxml2 silently drops text nodes over 10 MB.
_PARSER = lxml.html.HTMLParser(huge_tree=True)


def parse_fragment(markup: str) -> HtmlElement:
    """The fragment inside one <div> (text before the first tag included)."""
    return lxml.html.fragment_fromstring(markup, create_parent="div", parser=_PARSER)


def inner_html(root: HtmlElement) -> str:
    """What is inside root, serialised as HTML."""
    parts = [escape(root.text, quote=False)] if root.text else []
    parts += [etree.tostring(child, method="html", encoding="unicode", with_tail=True)
              for child in root]
    return "".join(parts)


def elements(root: HtmlElement) -> list[HtmlElement]:
    """Every element below root, in document order (no comments or processing instructions)."""
    return [el for el in root.iterdescendants() if isinstance(el.tag, str)]


def has_ancestor(element: HtmlElement, tags: tuple[str, ...]) -> bool:
    return any(parent.tag in tags for parent in element.iterancestors())
