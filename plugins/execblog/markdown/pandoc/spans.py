"""Pandoc's bracketed spans: ``[text]{.class #id key=value}`` -> ``<span>``.

Without this the attributes would show as text (Python-Markdown has no such syntax). The
text keeps its Markdown; classes and the id are the span's, other pairs ``data-`` attributes
(as on fenced divs). A bracket followed by anything that is not an attribute list is left
alone: links, footnotes and task lists are other patterns.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown.extensions.attr_list import get_attrs_and_remainder
from markdown.inlinepatterns import InlineProcessor

SPAN = r"\[((?:[^\[\]]|\[[^\[\]]*\])+)\]\{([^{}\n]*)\}"
_KEY = re.compile(r"^[A-Za-z_][\w.:-]*$")


class SpanProcessor(InlineProcessor):
    def handleMatch(self, m: re.Match[str], data: str):  # noqa: N802 - Python-Markdown's name
        pairs, rest = get_attrs_and_remainder(m.group(2))
        if rest.strip() or not pairs or any(v is None for _k, v in pairs):
            return None, None, None  # a bare word is no attribute: Pandoc's text, as written
        span = etree.Element("span")
        span.text = m.group(1)
        classes = []
        for key, value in pairs:
            if key == "id" and value:
                span.set("id", value)
            elif key == ".":
                classes.append(value or "")
            elif _KEY.match(key):
                span.set(key if key.startswith("data-") else f"data-{key}", value or "")
        if classes:
            span.set("class", " ".join(classes))
        return span, m.start(0), m.end(0)
