"""Turn render-math's TeX elements into MathML so feed readers show math without scripts.

pelican-render-math emits ``<span class="math">\\(tex\\)</span>`` for inline math and
``<div class="math">$$tex$$</div>`` or ``<div class="math">\\begin{env}..\\end{env}</div>``
for display math. Each is converted with latex2mathml; its output is checked by parsing it
as XML (it is not always well-formed, e.g. ``&`` in ``aligned``), and when conversion fails
the TeX source is shown as ``<code class="math-tex">`` instead.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert
from lxml import etree

from .markup import HtmlElement, parse_fragment

_DELIMITERS = (
    (re.compile(r"^\\\((.*)\\\)$", re.S), False),
    (re.compile(r"^\$\$(.*)\$\$$", re.S), True),
    (re.compile(r"^\\\[(.*)\\\]$", re.S), True),
    (re.compile(r"^\$(.*)\$$", re.S), False),
)
_ENVIRONMENT = re.compile(r"^\\begin\{([^}]+)\}.*\\end\{\1\}$", re.S)


def split_delimiters(source: str) -> tuple[str, bool] | None:
    """Return (tex, display) for delimited math, or None when source is not math."""
    source = source.strip()
    for pattern, display in _DELIMITERS:
        match = pattern.match(source)
        if match:
            return match.group(1).strip(), display
    if _ENVIRONMENT.match(source):
        return source, True
    return None


class MathConverter:
    """TeX -> MathML markup, memoised per (tex, display) for the life of one build."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bool], str] = {}

    def __call__(self, tex: str, display: bool) -> str:
        key = (tex, display)
        if key not in self._cache:
            self._cache[key] = self._convert(tex, display)
        return self._cache[key]

    def __len__(self) -> int:
        return len(self._cache)

    @staticmethod
    def _convert(tex: str, display: bool) -> str:
        try:
            markup = convert(tex, display="block" if display else "inline")
            root = etree.fromstring(markup)
        except Exception:  # latex2mathml raises many kinds; lxml rejects bad XML
            return f'<code class="math-tex">{html.escape(tex)}</code>'
        root.set("alttext", tex)
        return etree.tostring(root, encoding="unicode")


def convert_math(root: HtmlElement, converter: MathConverter, css_class: str = "math") -> None:
    """Replace the TeX inside every span/div.<css_class> below root with MathML."""
    for element in list(root.iter("span", "div")):
        if css_class not in (element.get("class") or "").split() or len(element):
            continue  # not a render-math element, or already converted
        parsed = split_delimiters(element.text or "")
        if parsed is None:
            continue
        tex, display = parsed
        markup = converter(tex, display or element.tag == "div")
        converted = parse_fragment(markup)  # HTML, as the rest of the entry
        element.text = converted.text
        element.extend(list(converted))
