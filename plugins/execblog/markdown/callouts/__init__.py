"""callouts: GitHub's alert syntax as Python-Markdown admonitions.

A blockquote whose first line is one of GitHub's markers::

    > [!NOTE]
    > Body, with its Markdown (lists, `code`, $math$).

renders exactly like the admonition extension's ``!!! note`` block::

    <div class="admonition note"><p class="admonition-title"><strong>Note</strong></p>...

so both syntaxes share one style (execblog/theme/static/css/authoring.css); Quarto's
``::: {.callout-note}`` divs (``execblog.markdown.pandoc``) are made by :func:`callout_box` too. Any
text after the marker on its line replaces the default title (``> [!TIP] Faster``); that is
Obsidian's and Quarto's habit, not GitHub's. A marker GitHub does not know (``> [!FOO]``)
leaves a plain blockquote.

A tree processor wraps every admonition title (of either syntax) in ``<strong>``: feed
readers drop the theme's CSS, and a bold first line is what keeps a callout recognisable.

Nothing here touches raw lines: fences (the engine's preprocessor at priority 28 and
fenced_code at 25) are already stashed when blocks are parsed, so a marker inside a fence
is never seen.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown import Markdown
from markdown.blockprocessors import BlockQuoteProcessor
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

KINDS = ("note", "tip", "important", "warning", "caution")
_MARKER = re.compile(r"^\[!(?P<kind>[A-Za-z]+)\](?P<title>[ \t]+\S.*)?[ \t]*$")


def parse_marker(line: str) -> tuple[str, str] | None:
    """(kind, title) for a first blockquote line such as ``[!NOTE]``, else None.

    Markers are case-insensitive, as on GitHub; the title defaults to the kind's name.
    """
    m = _MARKER.match(line.strip())
    if not m or m["kind"].lower() not in KINDS:
        return None
    kind = m["kind"].lower()
    return kind, (m["title"] or "").strip() or kind.capitalize()


def callout_box(parent: etree.Element, kind: str, title: str = "",
                index: int | None = None) -> etree.Element:
    """A new callout ``<div class="admonition KIND"><p class="admonition-title">TITLE</p>``
    in ``parent`` (at ``index``, else last): the one markup of every callout syntax (this
    module's ``> [!NOTE]``, Quarto's ``::: {.callout-note}`` in ``execblog.markdown.pandoc``). The
    title is text (Markdown, for the inline pass) or filled in by the caller."""
    div = etree.Element("div", {"class": f"admonition {kind}"})
    if index is None:
        parent.append(div)
    else:
        parent.insert(index, div)
    etree.SubElement(div, "p", {"class": "admonition-title"}).text = title
    return div


class CalloutProcessor(BlockQuoteProcessor):
    """A blockquote opening with ``[!KIND]`` becomes ``<div class="admonition KIND">``.

    It reuses the blockquote processor's reading of ``>`` lines (lazy lines, lines before
    the quote), so a callout spans exactly what a plain blockquote would.
    """

    def _split(self, block: str) -> tuple[str, list[str]] | None:
        m = self.RE.search(block)
        if m is None:
            return None
        lines = [self.clean(line) for line in block[m.start():].split("\n")]
        if m.group(1):  # the match began at the newline ending the lines before the quote
            lines = lines[1:]
        return block[: m.start()], lines

    def test(self, parent: etree.Element, block: str) -> bool:
        split = self._split(block)
        return bool(split and split[1] and parse_marker(split[1][0]))

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        before, lines = self._split(blocks.pop(0))
        if before:
            self.parser.parseBlocks(parent, [before])
        kind, title = parse_marker(lines[0])
        div = callout_box(parent, kind, title)
        # As for blockquotes: paragraphs inside a list item's callout stay <p>.
        self.parser.state.set("blockquote")
        self.parser.parseChunk(div, "\n".join(lines[1:]))
        self.parser.state.reset()


class BoldTitles(Treeprocessor):
    """``<p class="admonition-title">T</p>`` -> ``<p ...><strong>T</strong></p>``."""

    def run(self, root: etree.Element) -> None:
        for p in root.iter("p"):
            if p.get("class") == "admonition-title":
                bold_title(p)


def bold_title(p: etree.Element) -> None:
    """Wrap a title's content in ``<strong>`` (once: a title already bold is left)."""
    if _is_bold(p):
        return
    strong = etree.Element("strong")
    strong.text, p.text = p.text, None
    strong.extend(list(p))
    for child in list(p):
        p.remove(child)
    p.append(strong)


def _is_bold(p: etree.Element) -> bool:
    return not (p.text or "").strip() and len(p) == 1 and p[0].tag == "strong" and not (
        p[0].tail or ""
    ).strip()


class CalloutExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        md.registerExtension(self)
        # Just above the blockquote processor (20), which would otherwise take the block.
        md.parser.blockprocessors.register(CalloutProcessor(md.parser), "callouts", 21)
        # After inline (20): the title's own Markdown is rendered, then wrapped.
        md.treeprocessors.register(BoldTitles(md), "callout_titles", 5)


def makeExtension(**kwargs):  # noqa: N802 - Python-Markdown's name
    return CalloutExtension(**kwargs)
