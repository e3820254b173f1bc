"""Turn render-math's TeX elements into MathML so feed readers show math without scripts.

pelican-render-math emits ``<span class="math">\\(tex\\)</span>`` for inline math and
``<div class="math">$$tex$$</div>`` or ``<div class="math">\\begin{env}..\\end{env}</div>``
for display math. The conversion is mathkit's (the same as the pages', fixes included):
with ``MATH_RENDERER = "mathml"`` the entries already hold MathML and are left alone; with
``"mathjax"`` each formula is converted here. A formula that cannot be converted is shown
as ``<code class="math-tex">`` (pages report it; feeds do not report it again).
"""

from __future__ import annotations

from execblog.markdown.math.converter import MathConverter, split_delimiters

from .markup import HtmlElement, parse_fragment

__all__ = ["MathConverter", "convert_math", "split_delimiters"]


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
