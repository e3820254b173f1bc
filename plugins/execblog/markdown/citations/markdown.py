"""A post's citations in its Markdown, as its page shows them: for the notebook download.

The page's citations are made from its HTML (``Processor.post``); the notebook holds the
post's Markdown, where ``[@key]`` would stay raw. :class:`MarkdownCitations` renders each
citation of a Markdown text exactly as the page does (same bibliography, same style, same
numbers: the keys are counted in the page's order), as Markdown text, and the References
as a Markdown section. Citation syntax in code, math, links and HTML tags is left alone,
as on the page (:func:`mask`).
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html

from execblog.markdown import prose

from . import Processor, _Post, cluster_html, narrative_html, reference_entries, scan
from .style import PostCitations

# What the page never reads as prose: fenced code, code spans, math, links and images (their
# text too: a link's text is not scanned on the page), HTML tags and autolinks.
_PROTECTED = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^[ \t]*(?P=fence)[`~]*[ \t]*$"
    r"|(?P<ticks>`+).+?(?P=ticks)"
    r"|\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)"
    r"|\$[^\s$](?:[^$\n]*?[^\s\\$])?\$"
    r"|!?\[[^\]\n]*\]\([^)\n]*\)"
    r"|<[A-Za-z/!][^<>\n]*>",
    re.S | re.M)


def mask(text: str) -> str:
    """``text`` with everything the page would not scan blanked (spaces; newlines kept),
    so offsets into it are offsets into ``text``."""
    return _PROTECTED.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def is_citation(match: scan.Match, cites: PostCitations) -> bool:
    """Whether the page makes ``match`` a citation: citation syntax whose keys are all in
    the bibliography (a bare ``@word`` that is no key is prose; a cross-reference is not a
    citation)."""
    items = match.items
    return bool(items) and not any(scan.is_xref(i.key) for i in items) and all(
        cites.has(i.key) for i in items)


def page_order(html: str, cites: PostCitations) -> list[str]:
    """The keys cited in a page's HTML, in its order (which numbers them)."""
    return [item.key for run in prose.text_runs(html) for match in scan.find(run.text)
            if is_citation(match, cites) for item in match.items]


def to_markdown(html: str) -> str:
    """citeproc's HTML (``i``, ``b``, links, math) as Markdown; in-page links as text."""
    root = lxml.html.fragment_fromstring(html, create_parent="div")

    def walk(element: Any) -> str:
        inner = _escape(element.text) + "".join(walk(child) + _escape(child.tail)
                                                for child in element)
        classes = (element.get("class") or "").split()
        if "math" in classes:
            tex = element.text_content().strip()
            tex = tex[2:-2] if tex.startswith("\\(") and tex.endswith("\\)") else tex
            return f"${tex}$"
        if element.tag in ("i", "em") and inner.strip():
            return f"*{inner}*"
        if element.tag in ("b", "strong") and inner.strip():
            return f"**{inner}**"
        href = element.get("href") if element.tag == "a" else None
        if href and not href.startswith("#"):
            return f"[{inner}]({href})" if inner != href else f"<{href}>"
        return inner

    return " ".join(walk(root).split())


_SPECIAL = re.compile(r"([\\`*_$])")


def _escape(text: str | None) -> str:
    """Text for Markdown: what would start emphasis, code or math escaped."""
    return _SPECIAL.sub(r"\\\1", text or "")


class MarkdownCitations:
    """The citations of one post (a Pelican content object whose HTML holds the fences'
    output, before the page's citations are made), for its Markdown."""

    def __init__(self, obj: Any, settings: dict[str, Any]):
        html = getattr(obj, "_content", None)
        self.cites: PostCitations | None = None
        if not isinstance(html, str) or "@" not in html:
            return
        cites = Processor(settings, quiet=True).citations_for(_Post(obj))
        if cites is None:
            return
        order = page_order(html, cites)
        if order:
            cites.prepare(order)
            self.cites = cites

    def __call__(self, text: str) -> str:
        """``text`` (Markdown) with each citation as the page's text."""
        cites = self.cites
        if cites is None or "@" not in text:
            return text
        out, at = [], 0
        for match in scan.find(mask(text)):
            if not is_citation(match, cites):
                continue
            shown = cluster_html(match, cites) if match.bracketed else narrative_html(
                match.items[0], cites)
            out += [text[at:match.start], to_markdown(shown)]
            at = match.end
        return "".join(out) + text[at:] if out else text

    def references(self) -> str:
        """The References section, as Markdown ("" when nothing is cited)."""
        if self.cites is None:
            return ""
        entries = [to_markdown(entry) for _key, entry in reference_entries(self.cites)]
        return "## References\n\n" + "\n\n".join(entries)


__all__ = ["MarkdownCitations", "is_citation", "mask", "page_order", "to_markdown"]
