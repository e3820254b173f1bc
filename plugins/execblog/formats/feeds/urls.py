"""Make every link and image URL in entry HTML absolute, as a feed reader needs; find the
absolute site root feeds resolve against."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

from .markup import HtmlElement, elements, has_ancestor

_SINGLE = ("href", "src", "poster", "xlink:href")
# Inside inline SVG/MathML, "#id" references point into the same fragment (clip paths,
# <use> glyphs of matplotlib figures); prefixing the page URL would break them.
_FOREIGN = ("svg", "math")


_NO_LINKS: Mapping[str, str] = {}
# A URL-valued attribute of Pelican's output (what its intra-site link pattern rewrites).
_URL_ATTRIBUTE = re.compile(
    r"""\s(?:href|src|poster|data|cite|formaction|action|content|srcset)\s*=\s*(["'])(.*?)\1""",
    re.I | re.S)


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def site_root(settings: Mapping[str, Any]) -> str:
    """The absolute URL of the site's root, without a trailing slash, that feed links,
    images and entry ids start with; "" when none can be known.

    SITEURL when it is an absolute http(s) URL (the pages live there: publishconf);
    otherwise FEED_DOMAIN (pelicanconf's ``invoke serve`` address), followed by SITEURL's
    path when SITEURL is one ("/blog"). Pelican sets FEED_DOMAIN to SITEURL when it is not
    set, so "FEED_DOMAIN, else SITEURL".
    """
    siteurl = str(settings.get("SITEURL") or "").strip().rstrip("/")
    if _is_web_url(siteurl):
        return siteurl
    domain = str(settings.get("FEED_DOMAIN") or "").strip().rstrip("/")
    if not _is_web_url(domain):
        return ""
    return domain + siteurl if siteurl.startswith("/") else domain


def site_absolute(url: str, root: str, siteurl: str = "") -> str:
    """A URL Pelican wrote relative to the site (``posts/x/``, ``/``, ``SITEURL/posts/x/``
    with a relative SITEURL) made absolute under ``root``; one with a scheme unchanged."""
    url = url.strip()
    if urlsplit(url).scheme:
        return url
    siteurl = siteurl.rstrip("/")
    if siteurl and (url == siteurl or url.startswith(siteurl + "/")):
        url = url[len(siteurl):]
    return f"{root}/{url.lstrip('/')}"


def url_attributes(markup: str) -> list[str]:
    """The values of the URL attributes of markup, in order (as written: not unescaped)."""
    return [match.group(2) for match in _URL_ATTRIBUTE.finditer(markup)]


def site_links(relative: str, absolute: str) -> dict[str, str]:
    """{URL as written: absolute URL} for the intra-site links Pelican resolved, from the
    same markup resolved against a relative site URL and against the absolute site root:
    the values that differ (the strings are otherwise the same, value for value)."""
    written, resolved = url_attributes(relative), url_attributes(absolute)
    if len(written) != len(resolved):
        return {}  # not the same markup: better no links than wrong ones
    links = {}
    for before, after in zip(written, resolved, strict=True):
        before, after = unescape(before).strip(), unescape(after).strip()
        if before != after and _is_web_url(after):
            links[before] = after
    return links


def absolute_url(url: str, base: str, links: Mapping[str, str] = _NO_LINKS) -> str:
    """Resolve url against base; URLs that already have a scheme (mailto:, data:, https:)
    are returned unchanged, and one of ``links`` (Pelican's intra-site links, relative to
    the site root) is replaced with its absolute URL."""
    url = url.strip()
    if url in links:
        return links[url]
    if urlsplit(url).scheme or not base:
        return url
    return urljoin(base, url)


def absolute_srcset(srcset: str, base: str, links: Mapping[str, str] = _NO_LINKS) -> str:
    """Resolve each candidate of a srcset ("url 2x, url 640w")."""
    out = []
    for candidate in srcset.split(","):
        parts = candidate.split()
        if parts:
            out.append(" ".join([absolute_url(parts[0], base, links), *parts[1:]]))
    return ", ".join(out)


def _in_foreign(element: HtmlElement) -> bool:
    return element.tag in _FOREIGN or has_ancestor(element, _FOREIGN)


def absolutize(root: HtmlElement, base: str, links: Mapping[str, str] = _NO_LINKS) -> None:
    """Rewrite href/src/poster/xlink:href/srcset of every element against base (``links``:
    intra-site URLs relative to the site root, and their absolute URLs)."""
    for element in elements(root):
        for name in _SINGLE:
            value = element.get(name)
            if value is None:
                continue
            if value.strip().startswith("#") and _in_foreign(element):
                continue
            element.set(name, absolute_url(value, base, links))
        srcset = element.get("srcset")
        if srcset is not None:
            element.set("srcset", absolute_srcset(srcset, base, links))
