"""Remove scripts and script hooks from entry HTML."""

from __future__ import annotations

from .markup import HtmlElement, elements
from .xmlchars import strip_illegal

_URL_ATTRS = ("href", "src", "xlink:href", "action", "formaction", "poster", "data")


def _is_javascript(url: str) -> bool:
    compact = "".join(strip_illegal(url).split()).lower()
    return compact.startswith(("javascript:", "vbscript:"))


def remove_scripts(root: HtmlElement) -> None:
    """Drop <script> elements, on* event handler attributes and javascript: URLs."""
    for script in list(root.iter("script")):
        script.drop_tree()
    for element in elements(root):
        attrib = element.attrib
        for name in list(attrib):
            if name.lower().startswith("on"):
                del attrib[name]
            elif name.lower() in _URL_ATTRS and _is_javascript(attrib[name]):
                del attrib[name]

