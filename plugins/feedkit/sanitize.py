"""Remove scripts and script hooks from entry HTML."""

from __future__ import annotations

from bs4 import BeautifulSoup

from .xmlchars import strip_illegal

_URL_ATTRS = ("href", "src", "xlink:href", "action", "formaction", "poster", "data")


def _is_javascript(url: str) -> bool:
    compact = "".join(strip_illegal(url).split()).lower()
    return compact.startswith(("javascript:", "vbscript:"))


def remove_scripts(soup: BeautifulSoup) -> None:
    """Drop <script> elements, on* event handler attributes and javascript: URLs."""
    for script in soup.find_all("script"):
        script.decompose()
    for tag in soup.find_all(True):
        for name in list(tag.attrs):
            value = tag.attrs[name]
            if name.lower().startswith("on"):
                del tag.attrs[name]
            elif name.lower() in _URL_ATTRS and isinstance(value, str) and _is_javascript(value):
                del tag.attrs[name]
