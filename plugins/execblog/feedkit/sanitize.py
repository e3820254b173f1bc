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


def remove_param_controls(root: HtmlElement) -> None:
    """Drop the controls of parameter grids (``params-controls``; they need the page's
    script) and the grid's data: an entry holds the default state only."""
    for element in elements(root):
        classes = (element.get("class") or "").split()
        if "params-controls" in classes:
            element.drop_tree()
        elif "params-fence" in classes:
            for name in ("data-states", "data-src", "data-params", "data-default"):
                element.attrib.pop(name, None)
