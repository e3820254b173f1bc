"""Quarto's figure divs: ``::: {#fig-x}`` holding sub-figures, its last paragraph the caption.

    ::: {#fig-elephants layout-ncol=2}
    ![Surus](surus.png){#fig-surus}

    ![Hanno](hanno.png)

    Famous elephants
    :::

becomes ``<figure id="fig-elephants" class="quarto-figure">``: each image alone in its
paragraph a ``<figure class="quarto-subfigure">`` (its alt text the caption, its label the
sub-figure's id), a fence's placeholder (whose figures the engine fills in later) or any
other block a cell as it is, laid out by ``layout`` attributes, then the ``<figcaption>``.
``execblog.markdown.xrefs`` numbers it ("Figure 1: Famous elephants") and letters its sub-figures
("(a) Surus"), each referable by its own label or as ``@fig-elephants-1``.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

from markdown.util import HTML_PLACEHOLDER_RE

from .attributes import Attributes
from .layout import LayoutError, arrange, has_layout, rows_for


def _only_child(p: etree.Element) -> etree.Element | None:
    children = list(p)
    if p.tag != "p" or (p.text or "").strip() or len(children) != 1:
        return None
    if (children[0].tail or "").strip():
        return None
    return children[0]


def lone_image(p: etree.Element) -> etree.Element | None:
    """The ``<img>`` a paragraph holds and nothing else (maybe inside a link), or None."""
    child = _only_child(p)
    if child is not None and child.tag == "a":
        grand = list(child)
        if len(grand) == 1 and grand[0].tag == "img" and not (child.text or "").strip():
            return grand[0]
        return None
    return child if child is not None and child.tag == "img" else None


def is_placeholder(p: etree.Element) -> bool:
    """A paragraph that is only a stashed block (a fence's output, raw HTML)."""
    return p.tag == "p" and not list(p) and bool(
        HTML_PLACEHOLDER_RE.fullmatch((p.text or "").strip()))


def image_figure(p: etree.Element, css: str) -> etree.Element:
    """A lone-image paragraph as ``<figure class=css>``, its alt text the caption and the
    image's id (``{#fig-a}``) the figure's."""
    img = lone_image(p)
    figure = etree.Element("figure", {"class": css})
    if img is None:
        return figure
    label = img.attrib.pop("id", None)
    if label:
        figure.set("id", label)
    figure.extend(list(p))
    alt = img.get("alt") or ""
    if alt:
        etree.SubElement(figure, "figcaption").text = alt
    return figure


def render_table(div: etree.Element, attributes: Attributes) -> None:
    """A table div ``::: {#tbl-x}`` (a table, or anything treated as one, then its caption
    paragraph): ``<figure class="quarto-float quarto-table">``, numbered by xrefs."""
    children = list(div)
    caption = None
    if len(children) > 1 and children[-1].tag == "p" and not is_placeholder(children[-1]):
        caption = children[-1]
        div.remove(caption)
    div.tag = "figure"
    div.set("class", " ".join(["quarto-float", "quarto-table", *attributes.classes]))
    if caption is not None:
        figcaption = etree.Element("figcaption")
        figcaption.text = caption.text
        figcaption.extend(list(caption))
        div.insert(0, figcaption)


def render(div: etree.Element, attributes: Attributes) -> None:
    """Make the figure div ``div`` (already in the tree) a ``<figure>``."""
    children = list(div)
    for child in children:
        div.remove(child)
    caption = None
    if len(children) > 1 and children[-1].tag == "p" and lone_image(children[-1]) is None \
            and not is_placeholder(children[-1]):
        caption = children.pop()
    if len(children) == 1 and lone_image(children[0]) is not None:
        # one image: the figure's own, its alt text the caption when no paragraph gives one
        alt = lone_image(children[0]).get("alt")
        cells = list(children[0])
        if caption is None and alt:
            caption = etree.Element("p")
            caption.text = alt
    else:
        cells = [image_figure(c, "quarto-subfigure") if lone_image(c) is not None else c
                 for c in children]
    div.tag = "figure"
    div.set("class", " ".join(["quarto-figure", *attributes.classes]))
    try:
        rows = rows_for(attributes, len(cells)) if has_layout(attributes) else None
    except LayoutError:
        rows = None  # said, with its line, by the source check
    if rows:
        arrange(div, cells, rows)
    else:
        div.extend(cells)
    if caption is not None:
        figcaption = etree.SubElement(div, "figcaption")
        figcaption.text, figcaption.tail = caption.text, None
        figcaption.extend(list(caption))
