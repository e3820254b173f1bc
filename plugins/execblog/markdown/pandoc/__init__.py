"""pandoc: Quarto's (Pandoc's) body syntax as a Python-Markdown extension, for every post.

* fenced divs ``::: {#id .class key=value}`` (``divs``), nested with more colons, becoming
  callouts (``callout_divs``), figures with sub-figures (``figures``), theorem-like blocks
  and proofs (``theorems``), panel layouts and ``.columns`` (``layout``), conditional content
  (``conditional``), or a plain ``<div>`` keeping its content for any other class;
* shortcodes (``shortcodes``): ``{{< include file >}}`` runs, any other is a located warning;
* bracketed spans ``[text]{.class}`` (``spans``); code block attributes Python-Markdown's
  fenced_code cannot take (``code_attributes``).

Numbers and references (``@fig-x``, ``@fig-x-1``, ``@thm-x``) are ``execblog.markdown.xrefs``' work:
it reads the markup made here once the fences' outputs are in the page.

Enable it with ``"execblog.markdown.pandoc": {}`` in ``MARKDOWN["extension_configs"]`` (config
``strict``: unsupported shortcodes and unbalanced divs are errors, not warnings).
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

from markdown import Markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from . import callout_divs, conditional, figures, theorems
from .attributes import Attributes
from .code_attributes import CodeAttributes
from .divs import FencedDivProcessor, SetApart, StrayCloserProcessor, made
from .layout import LayoutError, arrange, columns, has_layout, rows_for
from .shortcodes import SourcePass
from .spans import SPAN, SpanProcessor


class DivTransform(Treeprocessor):
    """What each fenced div becomes, innermost first, once its inline Markdown is rendered,
    in two passes. ``pandoc_blocks`` (priority 15, before prettify at 10: the same line
    breaks as every other block) makes callouts, theorems, proofs and conditional content;
    ``pandoc_floats`` (``final``; 7: after attr_list at 8, so ``{#fig-a}`` ids are on their
    images) makes figures, tables and layouts. Both run before toc (5), so a callout's or a
    theorem's heading is its title, not a section of the page."""

    def __init__(self, md: Markdown, final: bool) -> None:
        super().__init__(md)
        self.final = final

    def run(self, root: etree.Element) -> None:
        divs = made(self.md)
        pending = list(reversed(divs))
        parents = {child: parent for parent in root.iter() for child in parent}
        kept = []
        for div, attributes in pending:
            parent = parents.get(div)
            if parent is None:
                continue
            if self.final:
                place(div, attributes)
            elif not block(parent, div, attributes):
                kept.append((div, attributes))
        divs[:] = [] if self.final else list(reversed(kept))


def block(parent: etree.Element, div: etree.Element, attributes: Attributes) -> bool:
    """Make a div a callout, a theorem or proof, or drop hidden content; False when it is
    none of those (left to :func:`place`)."""
    if not conditional.shown(attributes):
        parent.remove(div)
        return True
    callout = callout_divs.kind_of(attributes)
    if callout:
        callout_divs.render(parent, div, attributes, callout)
        return True
    theorem = theorems.kind_of(attributes)
    if theorem:
        theorems.render(div, attributes, *theorem)
        return True
    return False


def place(div: etree.Element, attributes: Attributes) -> None:
    """Make a div a figure, a table float, a layout grid, or a plain ``<div>``."""
    if attributes.id.startswith("fig-"):
        figures.render(div, attributes)
        return
    if attributes.id.startswith("tbl-"):
        figures.render_table(div, attributes)
        return
    for key, value in attributes.values.items():
        if not key.startswith("layout"):
            div.set(key if key.startswith("data-") else f"data-{key}", value)
    if attributes.has("columns"):
        columns(div)
    if has_layout(attributes):
        try:
            rows = rows_for(attributes, len(div))
        except LayoutError:
            return  # said, with its line, by the source check; the blocks stay stacked
        cells = [figures.image_figure(c, "quarto-figure") if figures.lone_image(c) is not None
                 else c for c in div]
        for child in list(div):
            div.remove(child)
        arrange(div, cells, rows)


class PandocExtension(Extension):
    def __init__(self, **kwargs: object) -> None:
        self.config = {"strict": [False, "unsupported constructs are errors, not warnings"]}
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        md.registerExtension(self)
        if "attr_list" not in md.treeprocessors:
            md.registerExtensions(["attr_list"], {})
        # 29: after whitespace normalisation (30), before the fence collector (28).
        md.preprocessors.register(SourcePass(md, bool(self.getConfig("strict"))),
                                  "pandoc_source", 29)
        # 26: just before fenced_code (25), which a style= attribute would crash
        md.preprocessors.register(CodeAttributes(md), "pandoc_code_attributes", 26)
        # 24: once fenced code blocks (25) are stashed, so ":::" in code is left alone.
        md.preprocessors.register(SetApart(md), "pandoc_div_lines", 24)
        md.parser.blockprocessors.register(FencedDivProcessor(md.parser), "pandoc_divs", 75)
        md.parser.blockprocessors.register(StrayCloserProcessor(md.parser),
                                           "pandoc_stray_closer", 74)
        # after code spans (190), math (185) and footnotes (175); before links (160)
        md.inlinePatterns.register(SpanProcessor(SPAN, md), "pandoc_spans", 174)
        md.treeprocessors.register(DivTransform(md, final=False), "pandoc_blocks", 15)
        md.treeprocessors.register(DivTransform(md, final=True), "pandoc_floats", 7)


def makeExtension(**kwargs: object) -> PandocExtension:  # noqa: N802 - Python-Markdown's name
    return PandocExtension(**kwargs)
