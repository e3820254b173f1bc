"""Make every link and image URL in entry HTML absolute, as a feed reader needs."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from .markup import HtmlElement, elements, has_ancestor

_SINGLE = ("href", "src", "poster", "xlink:href")
# Inside inline SVG/MathML, "#id" references point into the same fragment (clip paths,
# <use> glyphs of matplotlib figures); prefixing the page URL would break them.
_FOREIGN = ("svg", "math")


def absolute_url(url: str, base: str) -> str:
    """Resolve url against base; URLs that already have a scheme (mailto:, data:, https:)
    are returned unchanged."""
    url = url.strip()
    if urlsplit(url).scheme:
        return url
    return urljoin(base, url)


def absolute_srcset(srcset: str, base: str) -> str:
    """Resolve each candidate of a srcset ("url 2x, url 640w")."""
    out = []
    for candidate in srcset.split(","):
        parts = candidate.split()
        if parts:
            out.append(" ".join([absolute_url(parts[0], base), *parts[1:]]))
    return ", ".join(out)


def _in_foreign(element: HtmlElement) -> bool:
    return element.tag in _FOREIGN or has_ancestor(element, _FOREIGN)


def absolutize(root: HtmlElement, base: str) -> None:
    """Rewrite href/src/poster/xlink:href/srcset of every element against base."""
    for element in elements(root):
        for name in _SINGLE:
            value = element.get(name)
            if value is None:
                continue
            if value.strip().startswith("#") and _in_foreign(element):
                continue
            element.set(name, absolute_url(value, base))
        srcset = element.get("srcset")
        if srcset is not None:
            element.set("srcset", absolute_srcset(srcset, base))
